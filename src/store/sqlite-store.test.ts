/**
 * What is specific to the SQLite store: migrations, the file on disk, and a commit that survives
 * the process being killed. The behaviour every store shares is in store.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';
import { attempt, batch, fullSpec, job, run, submit } from '../../test/helpers/store-fixtures.js';

const DB_FILE = 'titan.db';

// ---- per-test temp dir and open stores ----

let dir: string;
let opened: Store[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'titan-store-'));
  opened = [];
});

afterEach(async () => {
  for (const s of opened) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore', () => {
  const dbPath = (): string => join(dir, DB_FILE);
  const open = (path = dbPath()): SqliteStore => {
    const s = SqliteStore.open(path);
    opened.push(s);
    return s;
  };

  it('applies migrations once, however many times the database is opened', async () => {
    const a = open();
    await submit(a, run('r1', 1_000), ['a']);
    const b = open(); // concurrently with a
    await a.close();
    await b.close();
    const c = open();
    expect(await c.getRunJobs('r1')).toHaveLength(1);
    await c.close();

    const raw = new Database(dbPath());
    try {
      const versions = raw.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
      expect(migrate(raw)).toEqual([]);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('refuses a database written by a newer schema', () => {
    const raw = new Database(dbPath());
    migrate(raw);
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('future');
    raw.close();
    expect(() => open()).toThrow(/schema version 999 is newer/);
  });

  it('names the path when the file is not a SQLite database', () => {
    const path = join(dir, 'not-a-db.db');
    writeFileSync(path, 'this is certainly not a SQLite database file\n'.repeat(200));
    let error: unknown;
    try {
      open(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/not a database/);
  });

  it('creates missing parent directories', async () => {
    const store = open(join(dir, 'a', 'b', 'c', DB_FILE));
    await store.setMeta('k', 'v');
    expect(await store.getMeta('k')).toBe('v');
  });

  it('keeps an acknowledged commit when the process is killed right after it', async () => {
    const moduleUrl = new URL('./sqlite-store.ts', import.meta.url).href;
    const r = run('r1', 1_000, 'RUNNING', { agentRunId: 'ag' });
    const jobs = [job('r1', fullSpec('a')), job('r1', 'b')];
    const at = attempt('r1', 'a', 1);
    const script = `
      const { SqliteStore } = await import(${JSON.stringify(moduleUrl)});
      const store = SqliteStore.open(process.env.DB_PATH);
      await store.commit(JSON.parse(process.env.BATCH));
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, DB_PATH: dbPath(), BATCH: JSON.stringify(batch({ runs: [r], newJobs: jobs, attempts: [at] })) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.stderr).toBe('');
    expect(child.signal).toBe('SIGKILL');

    const store = open();
    expect(await store.getRun('r1')).toStrictEqual(r);
    expect(await store.getRunJobs('r1')).toStrictEqual(jobs);
    expect(await store.listAttempts('r1', 'a')).toStrictEqual([at]);
  });
});
