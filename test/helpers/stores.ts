/**
 * The Store backends the conformance suite runs on: SQLite always; Redis on a private
 * redis-server started for the test file (or the server at TITAN_TEST_REDIS_URL, whose database is
 * FLUSHED by the suite). In CI (CI=true) the Redis run is required: when neither is available the
 * suite gets a failing test instead of silently running on SQLite alone.
 *
 * A factory's `open(dir)` reaches the same data when called again with the same dir (that is how
 * reopening is tested) and starts empty for a fresh dir.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisStore } from '../../src/store/redis-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
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

export interface Backends {
  factories: StoreFactory[];
  /** Why the Redis backend is missing when it is required (in CI), else null. */
  missing: string | null;
}

/** SQLite, plus Redis when a server can be had; in CI a missing Redis is an error to report. */
export function storeBackends(): Backends {
  const haveRedis = process.env.TITAN_TEST_REDIS_URL !== undefined || redisServerBinary() !== null;
  if (haveRedis) return { factories: [sqliteFactory, redisFactory()], missing: null };
  const required = process.env.CI === 'true' || process.env.CI === '1';
  return { factories: [sqliteFactory], missing: required ? 'redis-server is not installed and TITAN_TEST_REDIS_URL is not set: the Redis store suite is required in CI (.ci/run installs redis-server)' : null };
}
