/**
 * A full disk under the SQLite store: which failures count, how long the store says it is
 * unavailable, and a real SQLITE_FULL (a page limit stands in for the full disk) that is rolled
 * back and then committed whole, once, under the same batch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batch, job, run } from '../../test/helpers/store-fixtures.js';
import { MiB } from './disk-space.js';
import { SqliteDiskGuard, sqliteCode } from './sqlite-errors.js';
import { SqliteStore } from './sqlite-store.js';
import { StoreUnavailableError } from './store.js';

const sqliteError = (code: string): Error => Object.assign(new Error('database or disk is full'), { code });
const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });

/** A disk whose free space, probe result and clock the test sets. */
function fakeDisk(freeBytes: number) {
  const disk = {
    freeBytes,
    probe: null as Error | null,
    now: 1_000,
    options: {
      space: () => ({ freeBytes: disk.freeBytes, totalBytes: 16 * MiB }),
      probe: () => disk.probe,
      now: () => disk.now,
    },
  };
  return disk;
}

describe('sqliteCode', () => {
  it('finds the SQLite code on the error or on one of its causes, and nothing on other errors', () => {
    expect(sqliteCode(sqliteError('SQLITE_FULL'))).toBe('SQLITE_FULL');
    expect(sqliteCode(new Error('store commit failed at run r1', { cause: sqliteError('SQLITE_IOERR_WRITE') }))).toBe('SQLITE_IOERR_WRITE');
    expect(sqliteCode(enospc())).toBeNull();
    expect(sqliteCode('SQLITE_FULL')).toBeNull();
  });
});

describe('SqliteDiskGuard', () => {
  const noRollback = (): void => undefined;

  it('turns SQLITE_FULL into StoreUnavailableError naming the disk, rolls back, and stays unavailable until there is room', () => {
    const disk = fakeDisk(0);
    const guard = new SqliteDiskGuard('/data', disk.options);
    let rolledBack = 0;
    const err = guard.failed(new Error('store commit failed at run r1', { cause: sqliteError('SQLITE_FULL') }), () => rolledBack++);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).code).toBe('UNAVAILABLE');
    expect((err as StoreUnavailableError).readsWork).toBe(true);
    expect((err as Error).message).toBe('the disk holding /data is full (SQLITE_FULL): 0.0 MiB free');
    expect(rolledBack).toBe(1);

    // Room again, but not looked at before a second has passed.
    disk.freeBytes = 10 * MiB;
    expect(guard.unavailable()?.message).toMatch(/SQLITE_FULL/);
    disk.now += 1_000;
    expect(guard.unavailable()).toBeNull();
  });

  it('is over at once when a write goes through (the committer retried its held batch)', () => {
    const disk = fakeDisk(10 * MiB);
    const guard = new SqliteDiskGuard('/data', disk.options);
    guard.failed(sqliteError('SQLITE_FULL'), noRollback);
    expect(guard.unavailable()).not.toBeNull();
    guard.succeeded();
    expect(guard.unavailable()).toBeNull();
  });

  it('stays unavailable while a small write is still refused (a full quota shows free space)', () => {
    const disk = fakeDisk(10 * MiB);
    const guard = new SqliteDiskGuard('/data', disk.options);
    disk.probe = Object.assign(new Error('EDQUOT'), { code: 'EDQUOT' });
    expect(guard.failed(sqliteError('SQLITE_IOERR_WRITE'), noRollback)).toBeInstanceOf(StoreUnavailableError);
    disk.now += 1_000;
    expect(guard.unavailable()?.message).toBe('the disk holding /data is full (SQLITE_IOERR_WRITE): 10.0 MiB free');
    disk.probe = null;
    disk.now += 1_000;
    expect(guard.unavailable()).toBeNull();
  });

  it('counts an I/O error as a full disk only when there is no room, and leaves other errors alone', () => {
    const disk = fakeDisk(10 * MiB);
    const guard = new SqliteDiskGuard('/data', disk.options);
    const ioerr = sqliteError('SQLITE_IOERR_FSYNC');
    expect(guard.failed(ioerr, noRollback)).toBe(ioerr);
    const constraint = sqliteError('SQLITE_CONSTRAINT_PRIMARYKEY');
    expect(guard.failed(constraint, noRollback)).toBe(constraint);
    expect(guard.unavailable()).toBeNull();
    disk.freeBytes = 100 * 1024;
    expect(guard.failed(ioerr, noRollback)).toBeInstanceOf(StoreUnavailableError);
    expect(guard.failed(enospc(), noRollback)).toBeInstanceOf(StoreUnavailableError);
  });

  it('calls a disk with less than 1 MiB free full before any write fails', () => {
    const disk = fakeDisk(512 * 1024);
    const guard = new SqliteDiskGuard('/data', disk.options);
    expect(guard.unavailable()?.message).toBe('the disk holding /data is full: 0.5 MiB free');
    disk.freeBytes = 2 * MiB;
    expect(guard.unavailable()).toBeNull();
  });
});

describe('SqliteStore on a full disk', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'titan-full-'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a commit with UNAVAILABLE, leaves nothing of it, and commits the same batch whole once there is room', async () => {
    const disk = fakeDisk(100 * MiB);
    store = SqliteStore.open(join(dir, 'titan.db'), disk.options);
    // The page limit makes SQLite fail as it does on a full disk: SQLITE_FULL.
    const db = Reflect.get(store, 'db') as Database.Database;
    await store.commit(batch({ runs: [run('r0', 1)] }));
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    disk.freeBytes = 0;

    const big = batch({ runs: [run('r1', 2)], newJobs: Array.from({ length: 200 }, (_, i) => job('r1', `j${i}`, { error: 'x'.repeat(2_000) })), id: 'b-1' });
    const refused = await store.commit(big).then(() => null, (err: unknown) => err);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as Error).message).toMatch(new RegExp(`^the disk holding ${dir} is full \\(SQLITE_FULL\\): 0\\.0 MiB free$`));
    expect(db.inTransaction).toBe(false);
    expect(store.unavailable()).not.toBeNull();
    expect(await store.getRun('r1')).toBeNull();
    expect(await store.getRunJobs('r1')).toEqual([]);
    // Reads keep working.
    expect((await store.getRun('r0'))?.runId).toBe('r0');

    db.pragma('max_page_count = 1073741823');
    disk.freeBytes = 100 * MiB;
    disk.now += 1_000;
    expect(store.unavailable()).toBeNull();
    await store.commit(big);
    expect(await store.getRunJobs('r1')).toHaveLength(200);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
