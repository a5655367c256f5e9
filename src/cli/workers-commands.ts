/** `titan workers`: list the workers, drain one (and undrain it), shut one down. */
import { type Command, Option } from 'commander';
import { drainTimeout } from './arguments.js';
import { defaultSubcommand } from './subcommands.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, withClient } from './connection.js';
import { duration, table } from './format.js';

export function registerWorkersCommands(program: Command): void {
  const workersCommand = program.command('workers').description('workers: list, drain, undrain, shut down');
  connectionOptions(defaultSubcommand(workersCommand, 'list').description('list workers').addOption(jsonOption())).action(async (o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const workers = await client.workers();
      if (o.json) return json(workers);
      if (workers.length === 0) return print('no workers connected');
      print(
        table(
          ['WORKER', 'STATE', 'CAPABILITIES', 'LOAD', 'KIND', 'LAST SEEN', 'SERVICES'],
          workers.map((w) => [
            w.id,
            w.state,
            w.capabilities.join(','),
            `${w.running}/${w.slots}`,
            w.permanent ? 'permanent' : w.spawnedBy ? `ephemeral (autoscaled by ${w.spawnedBy})` : 'ephemeral',
            `${duration(Date.now() - w.lastSeen)} ago`,
            w.services.map((v) => `${v.ref}${v.port === null ? '' : `:${v.port}`}`).join(', ') || '-',
          ]),
        ),
      );
    });
  });

  connectionOptions(
    workersCommand
      .command('drain')
      .description('let a worker finish what it runs and take no more work')
      .argument('<worker>', 'host:port, as titan workers shows')
      .addOption(jsonOption('print the worker as JSON')),
  ).action(async (id: string, o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const w = await client.drainWorker(id);
      if (o.json) return json(w);
      print(`${w.id} draining (${w.running} running)`);
    });
  });

  connectionOptions(
    workersCommand
      .command('undrain')
      .description('let a drained worker take work again (not one that is shutting down)')
      .argument('<worker>', 'host:port, as titan workers shows')
      .addOption(jsonOption('print the worker as JSON')),
  ).action(async (id: string, o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const w = await client.undrainWorker(id);
      if (o.json) return json(w);
      print(`${w.id} takes work again (${w.running} running)`);
    });
  });

  connectionOptions(shutdownOptions(workersCommand.command('shutdown').description('drain a worker, then stop its process').argument('<worker>', 'host:port, as titan workers shows'))).action(
    (id: string, o: ShutdownFlags) => shutdownWorker(id, o),
  );
}

export type ShutdownFlags = ConnectionFlags & { force: boolean; json: boolean; drainTimeout?: number };

/** The options of `titan workers shutdown` and Titan's `titan shutdown`. */
export function shutdownOptions(command: Command): Command {
  return command
    .option('--force', 'also shut down a permanent worker', false)
    .addOption(new Option('--drain-timeout <seconds>', "how long its running jobs may finish; those still running then are handed back and run elsewhere without spending a retry (default: the worker's own --drain-timeout)").argParser(drainTimeout))
    .addOption(jsonOption('print the worker as JSON'));
}

/** `titan workers shutdown` and Titan's `titan shutdown`. */
export async function shutdownWorker(id: string, o: ShutdownFlags): Promise<void> {
  await withClient(o, async (client) => {
    const w = await client.shutdownWorker(id, { force: o.force, ...(o.drainTimeout !== undefined && { drainTimeoutMs: o.drainTimeout }) });
    if (o.json) return json(w);
    print(`${w.id} shutting down after ${w.running} running job(s)${o.drainTimeout !== undefined ? `, handing back what still runs after ${o.drainTimeout / 1000} s` : ''}`);
  });
}
