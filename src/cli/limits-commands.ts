/** `titan limits`: the cluster's flow limits on keys (list, set, remove) and what each key holds and keeps waiting. */
import type { Command } from 'commander';
import type { FlowKeyView } from '../protocol/flow-methods.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, withClient } from './connection.js';
import { table, when } from './format.js';
import { clusterLimitOf, describeLimit, type LimitFlags } from './limit-options.js';
import { defaultSubcommand } from './subcommands.js';

export function registerLimitsCommands(program: Command): void {
  const limits = program.command('limits').description('flow limits on keys: list them with their holders and waiters, set one, remove one');

  connectionOptions(defaultSubcommand(limits, 'ls').alias('list').description('keys with a limit, holders or waiters').addOption(jsonOption())).action(async (o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const keys = await client.limits.list();
      if (o.json) return json(keys);
      if (keys.length === 0) return print('no limits set and no job holds or waits for a key');
      print(table(['KEY', 'LIMIT', 'RUNNING', 'WAITING', 'NEXT TOKEN'], keys.map(keyRow)));
    });
  });

  connectionOptions(
    limits
      .command('set')
      .description("set the cluster's limit on a key, replacing the one it had; it applies at once, wins over what jobs declare and survives restarts")
      .argument('<key>', 'the key, e.g. openai or tenant-acme')
      .option('--concurrency <n>', 'at most this many jobs holding the key run at once')
      .option('--rate <n/period>', 'starts per second, minute, hour or day, e.g. 60/minute')
      .option('--burst <n>', 'starts allowed at once after a quiet spell (default: the rate\'s n)')
      .option('--weight <n>', 'the share of the fairness group this key names')
      .addOption(jsonOption("print the cluster's limits as JSON")),
  ).action(async (key: string, o: ConnectionFlags & LimitFlags & { json: boolean }) => {
    const limit = clusterLimitOf(key, o);
    await withClient(o, async (client) => {
      const all = await client.limits.set(limit);
      if (o.json) return json(all);
      print(`${limit.key}: ${describeLimit(all.find((l) => l.key === limit.key) ?? limit)}`);
    });
  });

  connectionOptions(limits.command('rm').alias('remove').description("remove the cluster's limit on a key (what jobs declare applies again)").argument('<key>').addOption(jsonOption())).action(
    async (key: string, o: ConnectionFlags & { json: boolean }) => {
      await withClient(o, async (client) => {
        const result = await client.limits.remove(key);
        if (o.json) return json(result);
        print(result.removed ? `${key}: limit removed` : `${key} had no limit`);
      });
    },
  );
}

function keyRow(k: FlowKeyView): string[] {
  const cap = k.limit?.concurrency;
  return [k.key, describeLimit(k.limit), cap === undefined ? String(k.holders.length) : `${k.holders.length}/${cap}`, String(k.waiters), k.nextTokenAt === null ? '-' : when(k.nextTokenAt)];
}
