import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TitanError } from '../core/errors.js';
import { MiB } from '../store/disk-space.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { StoreUnavailableError } from '../store/store.js';
import type { Clock } from './clock.js';
import { KvService } from './kv.js';

/** A clock moved by hand: timers fire, in deadline order, as `advance` passes them. */
class ManualClock implements Clock {
  private t = 1_000;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.t + Math.max(0, ms), fn, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  }

  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.live && x.at <= this.t).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((x) => !due.includes(x));
    for (const x of due) x.fn();
  }
}

/** Lets the batch scheduled with setImmediate run and its promises settle. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KvService', () => {
  let store: SqliteStore;
  let clock: ManualClock;
  let kv: KvService;
  const fatal: Error[] = [];

  beforeEach(async () => {
    store = SqliteStore.open(':memory:');
    clock = new ManualClock();
    kv = new KvService(store, clock, (err) => fatal.push(err));
    await kv.start();
  });
  afterEach(async () => {
    await kv.close();
    await store.close();
    expect(fatal).toEqual([]);
  });

  it('applies the writes of one turn in one transaction and answers each in order', async () => {
    const apply = vi.spyOn(store, 'kvApply');
    const results = await Promise.all(Array.from({ length: 50 }, () => kv.incr('n', 1)));
    expect(results.map((r) => r.value)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(apply).toHaveBeenCalledTimes(1);
  });

  it('rejects an op that cannot apply with its reason, and applies the rest of the batch', async () => {
    await kv.sadd('x', ['m']);
    const apply = vi.spyOn(store, 'kvApply');
    const [bad, good] = await Promise.allSettled([kv.incr('x', 1), kv.set('y', 'ok', null)]);
    expect(apply).toHaveBeenCalledTimes(1);
    expect(bad).toMatchObject({ status: 'rejected', reason: new TitanError('CONFLICT', 'key "x" holds a set, not an integer') });
    expect(good.status).toBe('fulfilled');
    await expect(kv.get('x')).rejects.toThrow('key "x" holds a set, not a string');
    expect((await kv.get('y')).value).toBe('ok');
  });

  it('wakes a waiter after the commit that changed the key, with the new state', async () => {
    const wait = kv.wait('k', undefined, 60_000);
    let seenInStore: string | null | undefined;
    const woken = wait.result.then(async (r) => {
      seenInStore = (await store.kvGet('k', clock.now()))?.value;
      return r;
    });
    const { version } = await kv.set('k', 'v', null);
    expect(await woken).toEqual({ changed: true, value: 'v', version });
    expect(seenInStore).toBe('v');
  });

  it('answers at once when the key already moved past sinceVersion, and times out unchanged', async () => {
    const { version } = await kv.set('k', 'one', null);
    expect(await kv.wait('k', version - 1, 60_000).result).toEqual({ changed: true, value: 'one', version });
    const waiting = kv.wait('k', version, 5_000);
    await turn();
    clock.advance(5_000);
    expect(await waiting.result).toEqual({ changed: false, value: 'one', version });
  });

  it('expires keys by timer, re-armed at start-up, waking their waiters', async () => {
    await store.kvApply([{ op: 'set', key: 'lease', value: 'w1', ttlMs: 500 }], clock.now());
    const restarted = new KvService(store, clock, (err) => fatal.push(err));
    await restarted.start();
    const wait = restarted.wait('lease', undefined, 60_000);
    await turn();
    clock.advance(499);
    await turn();
    expect(await store.kvExpiring()).toHaveLength(1);
    clock.advance(1);
    expect(await wait.result).toEqual({ changed: true, value: null, version: 0 });
    expect(await store.kvExpiring()).toEqual([]);
    await restarted.close();
  });

  it('a set without a TTL cancels the expiry timer', async () => {
    await kv.set('k', 'short', 100);
    await kv.set('k', 'forever', null);
    clock.advance(200);
    await turn();
    expect((await kv.get('k')).value).toBe('forever');
  });

  it('a cancelled wait never settles', async () => {
    const wait = kv.wait('k', undefined, 1_000);
    let settled = false;
    void wait.result.then(() => (settled = true));
    wait.cancel();
    await kv.set('k', 'v', null);
    clock.advance(1_000);
    await turn();
    expect(settled).toBe(false);
  });

  it('fails writes with UNAVAILABLE while the store is unavailable, without stopping the master, and retries a due expiry', async () => {
    let down: StoreUnavailableError | null = null;
    const flaky = Object.assign(Object.create(store) as SqliteStore, {
      unavailable: () => down,
      kvApply: (ops: Parameters<SqliteStore['kvApply']>[0], now: number) => (down ? Promise.reject(down) : store.kvApply(ops, now)),
    });
    const service = new KvService(flaky, clock, (err) => fatal.push(err));
    await service.set('t', 'x', 50);
    down = new StoreUnavailableError('the Redis store at redis://127.0.0.1:1/0 is unreachable');
    await expect(service.set('k', 'v', null)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('Redis store') });
    // The expiry falls due while the store is down: it is tried again a second later.
    clock.advance(60);
    await turn();
    expect((await store.kvGet('t', 0))?.value).toBe('x');
    down = null;
    clock.advance(1_000);
    await turn();
    await turn();
    expect(await store.kvGet('t', 0)).toBeNull();
    await service.set('k', 'v', null);
    expect(fatal).toEqual([]);
    await service.close();
  });

  it('answers a write that meets a full disk with UNAVAILABLE naming the disk, and the master goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'titan-kv-full-'));
    const disk = { freeBytes: 100 * MiB, now: 0 };
    const onDisk = SqliteStore.open(join(dir, 'titan.db'), { space: () => ({ freeBytes: disk.freeBytes, totalBytes: 200 * MiB }), probe: () => null, now: () => disk.now });
    const service = new KvService(onDisk, clock, (err) => fatal.push(err));
    try {
      // The page limit makes SQLite fail as it does on a full disk: SQLITE_FULL.
      const db = Reflect.get(onDisk, 'db') as Database.Database;
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      await expect(service.set('big', 'v'.repeat(100_000), null)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/^the disk holding .* is full \(SQLITE_FULL\)/) });
      // Refused at once now, before the store is tried.
      await expect(service.set('small', 'v', null)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      db.pragma('max_page_count = 1073741823');
      disk.now += 1_000;
      expect((await service.set('big', 'v'.repeat(100_000), null)).version).toBeGreaterThan(0);
      expect(fatal).toEqual([]);
    } finally {
      await service.close();
      await onDisk.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
