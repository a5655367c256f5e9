/** `titan gates`, `titan approve` and `titan reject`: approval gates and their decisions. */
import { type Command, Option } from 'commander';
import { int } from './arguments.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, withClient } from './connection.js';
import { colourStatus, duration, table, when } from './format.js';

export function registerGateCommands(program: Command): void {
  connectionOptions(
    program
      .command('gates')
      .description('approval gates waiting for a decision (and, with --history, past decisions)')
      .addOption(new Option('--history <n>', 'also show the latest n decisions').default(0).argParser(int('--history', 0, 1000)))
      .addOption(jsonOption()),
  ).action(async (o: ConnectionFlags & { history: number; json: boolean }) => {
    await withClient(o, async (client) => {
      const { pending, history } = await client.gates(o.history);
      if (o.json) return json({ pending, history });
      if (pending.length === 0) print('no gates are waiting');
      else print(table(['GATE', 'RUN', 'WAITING', 'MESSAGE'], pending.map((g) => [g.ref, g.runName, duration(Date.now() - g.openedAt), g.message ?? ''])));
      if (history.length > 0) {
        print('');
        print(table(['WHEN', 'GATE', 'DECISION', 'BY', 'COMMENT'], history.map((d) => [when(d.at), `${d.runId}/${d.jobId}`, d.approved ? 'approved' : d.reason === 'timeout' ? 'timed out' : 'rejected', d.by, d.comment ?? ''])));
      }
    });
  });

  for (const [name, approved] of [['approve', true], ['reject', false]] as const) {
    connectionOptions(
      program
        .command(name)
        .description(approved ? 'approve a gate: its downstream jobs run' : 'reject a gate: it fails and its downstream jobs are skipped')
        .argument('<gate>', 'runId/gateId, or a gate id for its latest run')
        .option('-m, --message <comment>', 'a comment recorded with the decision')
        .addOption(jsonOption('print the decision as JSON')),
    ).action(async (ref: string, o: ConnectionFlags & { message?: string; json: boolean }) => {
      await withClient(o, async (client) => {
        const options = o.message !== undefined ? { comment: o.message } : {};
        const result = approved ? await client.approve(ref, options) : await client.reject(ref, options);
        if (o.json) return json(result);
        print(`${result.ref} ${approved ? 'approved' : 'rejected'}${result.job ? ` (${colourStatus(result.job.status)})` : ''}`);
      });
    });
  }
}
