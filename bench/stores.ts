/**
 * The stores the store-bound scenarios are measured on again, beside the embedded SQLite store: a
 * private redis-server and a private PostgreSQL server, each started fresh for one scenario, as
 * durable as SQLite is (every acknowledgement waits for an fsync), and stopped afterwards.
 */
import { makeTempDir, processTreeCpuMs, removeTempDir } from './cluster.js';
import { PostgresServer, postgresBinDir } from './postgres-server.js';
import { redisServerPath, startRedis } from './redis.js';

export type StoreKind = 'redis' | 'postgres';

/** In the table's order. */
export const STORE_KINDS: readonly StoreKind[] = ['redis', 'postgres'];

export const STORE_TITLES: Readonly<Record<StoreKind, string>> = { redis: 'Redis store', postgres: 'PostgreSQL store' };

/** What the CPU row calls the server's processes. */
const SERVER_NAMES: Readonly<Record<StoreKind, string>> = { redis: 'redis-server', postgres: 'postgres' };

/** Where the store's server comes from, or null when it is not installed. */
export function storeServer(kind: StoreKind): string | null {
  if (kind === 'redis') return redisServerPath();
  const dir = postgresBinDir();
  return dir === null ? null : `${dir}/pg_ctl`;
}

export interface BenchStore {
  kind: StoreKind;
  /** The master's `--store`. */
  url: string;
  /** What the CPU row calls the server's processes. */
  serverName: string;
  /** CPU time the server's processes have used so far, in milliseconds. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** A private PostgreSQL server in a directory registered with the bench's cleanup. */
export async function privatePostgres(label: string): Promise<{ server: PostgresServer; stop(): Promise<void> }> {
  const dir = makeTempDir(`postgres-${label}`);
  let server: PostgresServer;
  try {
    server = await PostgresServer.start(dir);
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }
  return {
    server,
    stop: async () => {
      await server.remove();
      removeTempDir(dir);
    },
  };
}

async function startPostgres(label: string): Promise<BenchStore> {
  const { server, stop } = await privatePostgres(label);
  return {
    kind: 'postgres',
    url: server.url,
    serverName: SERVER_NAMES.postgres,
    // The postmaster and the processes it forked: one backend per connection of the master's pool, the WAL writer, the checkpointer.
    cpuMs: () => {
      const pid = server.pid;
      return pid === null ? 0 : processTreeCpuMs(pid);
    },
    stop,
  };
}

/** Starts a private server of that kind for one scenario. */
export async function startStore(kind: StoreKind, label: string): Promise<BenchStore> {
  if (kind === 'postgres') return startPostgres(label);
  const redis = await startRedis(label);
  return { kind, url: redis.url, serverName: SERVER_NAMES.redis, cpuMs: () => redis.proc.cpuMs(), stop: () => redis.stop() };
}

/** How each store's server is set up, for the bench's header. */
export const STORE_SETUP: Readonly<Record<StoreKind, string>> = {
  redis: 'appendonly yes, appendfsync always',
  postgres: "the server's defaults: fsync on, synchronous_commit on",
};
