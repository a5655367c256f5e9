/**
 * The Store backends the conformance suite runs on: SQLite always; Redis on a private
 * redis-server started for the test file (or the server at TITAN_TEST_REDIS_URL, whose database is
 * FLUSHED by the suite); PostgreSQL on a private server started for the test file (a database per
 * dir). In CI (CI=true) the Redis and PostgreSQL runs are required: when a server is not available
 * the suite gets a failing test instead of silently running without it.
 *
 * A factory's `open(dir)` reaches the same data when called again with the same dir (that is how
 * reopening is tested) and starts empty for a fresh dir.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { postgresBinDir, PostgresServer } from './postgres.js';
import { RedisServer, redisServerBinary } from './redis.js';

export interface StoreFactory {
  name: string;
  open(dir: string): Promise<Store>;
  /** Before the first open (starts a server); after the last test (stops it). */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

export const sqliteFactory: StoreFactory = { name: 'sqlite', open: async (dir) => SqliteStore.open(join(dir, 'titan.db')) };

/** Redis: one server per test file; a new dir empties its database. */
export function redisFactory(externalUrl = process.env.TITAN_TEST_REDIS_URL): StoreFactory {
  let server: RedisServer | null = null;
  let url = externalUrl ?? '';
  let lastDir: string | null = null;
  return {
    name: 'redis',
    async setup() {
      if (url !== '') return;
      server = await RedisServer.start();
      url = server.url;
    },
    async teardown() {
      await server?.remove();
      server = null;
    },
    async open(dir) {
      if (dir !== lastDir) {
        const raw = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
        raw.on('error', () => undefined);
        await raw.connect();
        await raw.flushdb();
        await raw.quit();
        lastDir = dir;
      }
      return RedisStore.open(url);
    },
  };
}

/** PostgreSQL: one private server per test file; a new dir gets a new database. */
export function postgresFactory(): StoreFactory {
  let server: PostgresServer | null = null;
  const databases = new Map<string, string>();
  return {
    name: 'postgres',
    async setup() {
      server = await PostgresServer.start();
    },
    async teardown() {
      await server?.remove();
      server = null;
    },
    async open(dir) {
      if (server === null) throw new Error('the PostgreSQL server was not started (setup)');
      let database = databases.get(dir);
      if (database === undefined) {
        database = `titan_${databases.size + 1}`;
        await server.query('postgres', `CREATE DATABASE ${database}`);
        databases.set(dir, database);
      }
      return PostgresStore.open(server.urlOf(database));
    },
  };
}

export interface Backends {
  factories: StoreFactory[];
  /** Why a backend is missing when it is required (in CI), else null. */
  missing: string | null;
}

/** SQLite, plus Redis and PostgreSQL when their servers can be had; in CI a missing one is an error to report. */
export function storeBackends(): Backends {
  const required = process.env.CI === 'true' || process.env.CI === '1';
  const factories = [sqliteFactory];
  const missing: string[] = [];
  if (process.env.TITAN_TEST_REDIS_URL !== undefined || redisServerBinary() !== null) factories.push(redisFactory());
  else missing.push('redis-server is not installed and TITAN_TEST_REDIS_URL is not set: the Redis store suite is required in CI (.ci/run installs redis-server)');
  if (postgresBinDir() !== null) factories.push(postgresFactory());
  else missing.push('PostgreSQL (initdb, pg_ctl) is not installed: the PostgreSQL store suite is required in CI (.ci/run installs postgresql)');
  return { factories, missing: required && missing.length > 0 ? missing.join('; ') : null };
}
