/** `titan stats`: cluster counts, pools and the autoscaler's recent decisions. */
import type { Command } from 'commander';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, withClient } from './connection.js';
import { bold, bytes, duration, summarise, table, when } from './format.js';

export function registerStatsCommand(program: Command): void {
  connectionOptions(program.command('stats').description('cluster statistics').addOption(jsonOption())).action(async (o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const s = await client.stats();
      if (o.json) return json(s);
      print(`uptime      ${duration(s.uptimeMs)}`);
      print(`workers     ${s.workers.connected} connected of ${s.workers.total}, ${s.workers.busySlots}/${s.workers.slots} slots busy`);
      print(`active runs ${s.runs.active}`);
      print(`jobs        ${summarise(s.jobs, Object.values(s.jobs).reduce((a, b) => a + (b ?? 0), 0)) || 'none active'}`);
      print(`totals      ${s.totals.submitted} submitted, ${s.totals.completed} completed, ${s.totals.dead} dead, ${s.totals.attempts} attempts (${s.totals.retried} retries)`);
      if (s.disk) print(`disk        ${bytes(s.disk.freeBytes)} free of ${bytes(s.disk.totalBytes)}`);
      if (s.disk?.low) print(bold(`WARNING: the master's data directory has ${bytes(s.disk.freeBytes)} free, below --min-free-mb (${bytes(s.disk.minFreeBytes)}); once the disk is full, submissions and data bus writes are refused and job output is lost`));
      const pools = Object.entries(s.pools);
      const desired = s.autoscaler.enabled ? s.autoscaler.desired : {};
      if (pools.length > 0) {
        print('');
        print(
          table(
            ['POOL', 'WORKERS', 'SLOTS BUSY', 'QUEUED', 'SERVICES', ...(s.autoscaler.enabled ? ['DESIRED'] : [])],
            pools.map(([name, p]) => [name, String(p.workers), `${p.busySlots}/${p.slots}`, String(p.queued), String(p.services), ...(s.autoscaler.enabled ? [String(desired[name] ?? '-')] : [])]),
          ),
        );
      }
      if (s.autoscaler.enabled) {
        print('');
        print(`autoscaler  ${s.autoscaler.pending} worker(s) starting; recent decisions:`);
        const events = s.autoscaler.events.slice(-10);
        if (events.length === 0) print('  none yet');
        for (const e of events) print(`  ${when(e.at)}  ${e.pool}  ${e.action}${e.workerId ? ` ${e.workerId}` : ''}: ${e.reason}`);
      }
    });
  });
}
