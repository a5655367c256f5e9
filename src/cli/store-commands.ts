/**
 * `titan store get|set|del|keys|incr|cas|sadd|srem|smembers|wait`: the data bus's keys from the
 * command line. Exit codes as everywhere: 1 when the key is absent (get, del), a compare-and-swap finds
 * another value, a wait times out, or the master refuses; 2 for a malformed key, member or option.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DATA_LIMITS, KvKeySchema, KvMemberSchema, KvPrefixSchema, KvValueSchema } from '../core/data.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, UsageError, withClient } from './connection.js';
import { duration, table } from './format.js';

function checked(schema: typeof KvKeySchema | typeof KvPrefixSchema | typeof KvMemberSchema | typeof KvValueSchema, text: string, what: string): string {
  const result = schema.safeParse(text);
  if (!result.success) throw new UsageError(`bad ${what} "${text}": ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}

const ttlSeconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n * 1000 > DATA_LIMITS.maxTtlMs) throw new InvalidArgumentError('must be a positive number of seconds (at most a year)');
  return n;
};

const limit = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > DATA_LIMITS.maxListLimit) throw new InvalidArgumentError(`must be an integer from 1 to ${DATA_LIMITS.maxListLimit}`);
  return n;
};

const integer = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a whole number (negative to subtract)');
  return n;
};

const waitSeconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n * 1000 > DATA_LIMITS.maxWaitMs) throw new InvalidArgumentError(`must be a positive number of seconds, at most ${DATA_LIMITS.maxWaitMs / 1000}`);
  return n;
};

const versionNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a version: a whole number, 0 for an absent key');
  return n;
};

/** A key's value as shown in a message: quoted, or what its absence means. */
const shown = (value: string | null): string => (value === null ? 'nothing (absent, or a set)' : JSON.stringify(value));

const expiry = (expiresAt: number | null): string => (expiresAt === null ? '-' : `in ${duration(Math.max(0, expiresAt - Date.now()))}`);

export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('the data bus: durable keys and sets shared by jobs and people');

  connectionOptions(store.command('get').description("print a key's value (exit 1 when it is absent)").argument('<key>').addOption(jsonOption('print {value, version, expiresAt}')))
    .action(async (key: string, o: ConnectionFlags & { json: boolean }) => {
      checked(KvKeySchema, key, 'key');
      await withClient(o, async (client) => {
        const entry = await client.getVersioned(key);
        if (o.json) json(entry);
        else if (entry.value !== null) print(entry.value);
        if (entry.value === null) {
          if (!o.json) process.stderr.write(`titan: no key "${key}"\n`);
          process.exitCode = 1;
        }
      });
    });

  connectionOptions(
      store
        .command('set')
        .description('set a key to a string value')
        .argument('<key>')
        .argument('<value>')
        .addOption(new Option('--ttl <seconds>', 'delete the key after this long').argParser(ttlSeconds))
        .addOption(jsonOption('print {key, version}')),
    )
    .action(async (key: string, value: string, o: ConnectionFlags & { ttl?: number; json: boolean }) => {
      checked(KvKeySchema, key, 'key');
      if (Buffer.byteLength(value) > DATA_LIMITS.maxValueBytes) throw new UsageError(`the value is ${Buffer.byteLength(value)} bytes; at most ${DATA_LIMITS.maxValueBytes} are allowed`);
      await withClient(o, async (client) => {
        const version = await client.set(key, value, o.ttl === undefined ? {} : { ttlMs: Math.round(o.ttl * 1000) });
        if (o.json) return json({ key, version });
        print(`set ${key} (version ${version}${o.ttl === undefined ? '' : `, expires in ${duration(Math.round(o.ttl * 1000))}`})`);
      });
    });

  connectionOptions(store.command('del').description('delete a key (exit 1 when it was absent)').argument('<key>').addOption(jsonOption('print {key, deleted}'))).action(
    async (key: string, o: ConnectionFlags & { json: boolean }) => {
      checked(KvKeySchema, key, 'key');
      await withClient(o, async (client) => {
        const deleted = await client.del(key);
        if (o.json) json({ key, deleted });
        else if (deleted) print(`deleted ${key}`);
        else process.stderr.write(`titan: no key "${key}"\n`);
        if (!deleted) process.exitCode = 1;
      });
    },
  );

  connectionOptions(
      store
        .command('keys')
        .description('list keys, optionally only those starting with a prefix')
        .argument('[prefix]', 'e.g. "user:"', '')
        .addOption(new Option('--limit <n>', 'at most this many').default(1000).argParser(limit))
        .addOption(jsonOption()),
    )
    .action(async (prefix: string, o: ConnectionFlags & { limit: number; json: boolean }) => {
      checked(KvPrefixSchema, prefix, 'prefix');
      await withClient(o, async (client) => {
        const { keys, truncated } = await client.call('kv.keys', { prefix, limit: o.limit });
        if (o.json) return json(keys);
        if (keys.length === 0) return print(prefix === '' ? 'no keys' : `no keys starting with "${prefix}"`);
        print(table(['KEY', 'TYPE', 'VERSION', 'EXPIRES'], keys.map((k) => [k.key, k.type, String(k.version), expiry(k.expiresAt)])));
        if (truncated) process.stderr.write(`(the first ${keys.length} keys; raise --limit for more)\n`);
      });
    });

  connectionOptions(
    store
      .command('incr')
      .description('add to an integer value (an absent key counts as 0) and print the result')
      .argument('<key>')
      .addOption(new Option('--by <n>', 'how much to add').default(1).argParser(integer))
      .addOption(jsonOption('print {key, value, version}')),
  ).action(async (key: string, o: ConnectionFlags & { by: number; json: boolean }) => {
    checked(KvKeySchema, key, 'key');
    await withClient(o, async (client) => {
      const { value, version } = await client.call('kv.incr', { key, by: o.by });
      if (o.json) return json({ key, value, version });
      print(String(value));
    });
  });

  connectionOptions(
    store
      .command('cas')
      .description('compare and swap: set a key to NEW only if it still holds EXPECTED (exit 1, saying what it holds, if not)')
      .argument('<key>')
      .argument('[values...]', 'EXPECTED NEW; with --absent only NEW, with --delete only EXPECTED')
      .option('--absent', 'expect the key to be absent (create it only if nobody has)', false)
      .option('--delete', 'delete the key instead of setting it (only if it still holds EXPECTED)', false)
      .addOption(new Option('--ttl <seconds>', 'delete the new value after this long').argParser(ttlSeconds))
      .addOption(jsonOption('print {key, swapped, value, version}: the value now held')),
  ).action(async (key: string, values: string[], o: ConnectionFlags & { absent: boolean; delete: boolean; ttl?: number; json: boolean }) => {
    checked(KvKeySchema, key, 'key');
    const wanted = (o.absent ? 0 : 1) + (o.delete ? 0 : 1);
    const form = ['titan store cas KEY', o.absent ? '--absent' : 'EXPECTED', o.delete ? '--delete' : 'NEW'].join(' ');
    if (values.length !== wanted) throw new UsageError(`${values.length} value(s) after the key; the form is: ${form}`);
    const expected = o.absent ? null : checked(KvValueSchema, values[0] as string, 'expected value');
    const value = o.delete ? null : checked(KvValueSchema, values[wanted - 1] as string, 'new value');
    if (o.delete && o.ttl !== undefined) throw new UsageError('--ttl applies to a new value, and --delete sets none');
    await withClient(o, async (client) => {
      const result = await client.call('kv.cas', { key, expected, value, ...(o.ttl !== undefined && { ttlMs: Math.round(o.ttl * 1000) }) });
      if (o.json) json({ key, ...result });
      else if (result.swapped) print(value === null ? `deleted ${key}` : `set ${key} (version ${result.version})`);
      else process.stderr.write(`titan: ${key} was not changed: it holds ${shown(result.value)}, not ${expected === null ? 'nothing' : JSON.stringify(expected)}\n`);
      if (!result.swapped) process.exitCode = 1;
    });
  });

  for (const [name, description, verb] of [
    ['sadd', 'add members to a set (those already in it are kept once)', 'added'],
    ['srem', 'remove members from a set', 'removed'],
  ] as const) {
    connectionOptions(store.command(name).description(description).argument('<key>').argument('<member...>').addOption(jsonOption(`print {key, ${verb}, version}`))).action(
      async (key: string, members: string[], o: ConnectionFlags & { json: boolean }) => {
        checked(KvKeySchema, key, 'key');
        for (const m of members) checked(KvMemberSchema, m, 'member');
        if (members.length > DATA_LIMITS.maxMembersPerCall) throw new UsageError(`give at most ${DATA_LIMITS.maxMembersPerCall} members at once, not ${members.length}`);
        await withClient(o, async (client) => {
          const { version, ...counted } = name === 'sadd' ? await client.call('kv.sadd', { key, members }) : await client.call('kv.srem', { key, members });
          const n = 'added' in counted ? counted.added : counted.removed;
          if (o.json) return json({ key, [verb]: n, version });
          print(`${verb} ${n} of ${members.length} member(s) ${name === 'sadd' ? 'to' : 'from'} ${key}`);
        });
      },
    );
  }

  connectionOptions(store.command('smembers').description("print a set's members, one per line (none for an absent key)").argument('<key>').addOption(jsonOption('print {key, members, version}'))).action(
    async (key: string, o: ConnectionFlags & { json: boolean }) => {
      checked(KvKeySchema, key, 'key');
      await withClient(o, async (client) => {
        const { members, version } = await client.call('kv.smembers', { key });
        if (o.json) return json({ key, members, version });
        for (const m of members) print(m);
      });
    },
  );

  connectionOptions(
    store
      .command('wait')
      .description("wait for a key's next change and print its value (exit 1 when --timeout passes first)")
      .argument('<key>')
      .addOption(new Option('--since <version>', 'return at once if the key is no longer at this version (0: wait until it exists)').argParser(versionNumber))
      .addOption(new Option('--timeout <seconds>', 'give up after this long').default(60).argParser(waitSeconds))
      .addOption(jsonOption('print {key, changed, value, version}')),
  ).action(async (key: string, o: ConnectionFlags & { since?: number; timeout: number; json: boolean }) => {
    checked(KvKeySchema, key, 'key');
    await withClient(o, async (client) => {
      const result = await client.waitForKey(key, { timeoutMs: Math.round(o.timeout * 1000), ...(o.since !== undefined && { sinceVersion: o.since }) });
      if (o.json) json({ key, ...result });
      else if (!result.changed) process.stderr.write(`titan: ${key} did not change within ${o.timeout} s\n`);
      else if (result.value !== null) print(result.value);
      else process.stderr.write(`${key} changed (version ${result.version}): it now holds ${shown(null)}\n`);
      if (!result.changed) process.exitCode = 1;
    });
  });
}
