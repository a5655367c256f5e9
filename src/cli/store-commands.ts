/**
 * `titan store get|set|del|keys`: the data bus from the command line. Exit codes as everywhere:
 * 1 when the key is absent (get, del) or the master refuses, 2 for a malformed key or option.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DATA_LIMITS, KvKeySchema, KvPrefixSchema } from '../core/data.js';
import { type ConnectionFlags, connectionOptions, json, print, UsageError, withClient } from './connection.js';
import { duration, table } from './format.js';

function checked(schema: typeof KvKeySchema | typeof KvPrefixSchema, text: string, what: string): string {
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

const expiry = (expiresAt: number | null): string => (expiresAt === null ? '-' : `in ${duration(Math.max(0, expiresAt - Date.now()))}`);

export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('the data bus: durable keys and sets shared by jobs and people');

  connectionOptions(store.command('get').description("print a key's value (exit 1 when it is absent)").argument('<key>').option('--json', 'print {value, version, expiresAt}', false))
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
        .option('--json', 'print {key, version}', false),
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

  connectionOptions(store.command('del').description('delete a key (exit 1 when it was absent)').argument('<key>').option('--json', 'print {key, deleted}', false)).action(
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
        .option('--json', 'print JSON', false),
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
}
