/** `titan services` and `titan stop <service>`. */
import type { Command } from 'commander';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, withClient } from './connection.js';
import { colourStatus, duration, table } from './format.js';

export function registerServiceCommands(program: Command): void {
  connectionOptions(program.command('services').description('list services: where they run, their port, pid, uptime and restarts').addOption(jsonOption())).action(
    async (o: ConnectionFlags & { json: boolean }) => {
      await withClient(o, async (client) => {
        const services = await client.services();
        if (o.json) return json(services);
        if (services.length === 0) return print('no services');
        print(
          table(
            ['SERVICE', 'STATUS', 'WORKER', 'PORT', 'PID', 'UP', 'RESTARTS', 'DETAIL'],
            services.map((s) => [
              s.ref,
              colourStatus(s.status),
              s.workerId ?? '-',
              s.port === null ? '-' : String(s.port),
              s.pid === null ? '-' : String(s.pid),
              s.upSince === null ? '-' : duration(Date.now() - s.upSince),
              String(s.restarts),
              s.status === 'RUNNING' && s.upSince === null ? 'starting' : (s.error ?? ''),
            ]),
          ),
        );
      });
    },
  );

  connectionOptions(
    program
      .command('stop')
      .description('stop a service for good (it is not restarted)')
      .argument('<service>', 'runId/jobId, or a job id for its latest run')
      .addOption(jsonOption('print the stopped job as JSON')),
  ).action(async (ref: string, o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const job = await client.stopService(ref);
      if (o.json) return json(job);
      print(`${job.ref} stopped`);
    });
  });
}
