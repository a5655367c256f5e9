/**
 * Schedule persistence, as a conformance suite over every backend in `factories` (reopening the
 * same dir must reach the same data), then what is specific to SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunSpecSchema } from '../core/model.js';
import { type ScheduleRecord, ScheduleSpecSchema } from '../core/schedule.js';
import { jobSpec } from '../../test/helpers/records.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

const factories: { name: string; open: (dir: string) => Promise<Store> }[] = [{ name: 'sqlite', open: async (dir) => SqliteStore.open(join(dir, 'titan.db')) }];

function schedule(name: string, extra: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    name,
    spec: ScheduleSpecSchema.parse({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }),
    run: RunSpecSchema.parse({ name: `pipeline ${name}`, jobs: [jobSpec('a'), jobSpec('b', { dependsOn: ['a'], args: ['two words', 'ünïcødé ✓', ''], env: { MULTI: 'a\nb' } })] }),
    paused: false,
    nextAt: 1_700_000_060_000,
    lastAt: null,
    lastRunId: null,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...extra,
  };
}

let dir: string;
let opened: Store[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'titan-schedules-'));
  opened = [];
});

afterEach(async () => {
  for (const s of opened) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(factories)('Store schedules: $name', (factory) => {
  const open = async (): Promise<Store> => {
    const s = await factory.open(dir);
    opened.push(s);
    return s;
  };

  it('starts with no schedules', async () => {
    const store = await open();
    expect(await store.listSchedules()).toEqual([]);
    expect(await store.getSchedule('nightly')).toBeNull();
  });

  it('reads back a schedule with every field equal, its spec and run intact', async () => {
    const store = await open();
    const s = schedule('nightly', { spec: ScheduleSpecSchema.parse({ cron: '*/5 * * * * *', timezone: 'America/New_York', overlap: 'allow', missed: 'skip' }), lastAt: 1_700_000_030_000, lastRunId: 'r1abc' });
    await store.putSchedule(s);
    expect(await store.getSchedule('nightly')).toEqual(s);
    expect(await store.listSchedules()).toEqual([s]);
  });

  it('keeps null times and a paused flag', async () => {
    const store = await open();
    const s = schedule('held', { paused: true, nextAt: null, lastAt: null, lastRunId: null });
    await store.putSchedule(s);
    expect(await store.getSchedule('held')).toEqual(s);
  });

  it('replaces a schedule of the same name whole', async () => {
    const store = await open();
    await store.putSchedule(schedule('nightly', { lastRunId: 'r1' }));
    const changed = schedule('nightly', { spec: ScheduleSpecSchema.parse({ cron: '@hourly' }), run: RunSpecSchema.parse({ name: 'other', jobs: [jobSpec('z')] }), paused: true, nextAt: null, lastRunId: 'r2', lastAt: 5, updatedAt: 1_700_000_100_000 });
    await store.putSchedule(changed);
    expect(await store.listSchedules()).toEqual([changed]);
  });

  it('lists schedules by name', async () => {
    const store = await open();
    for (const name of ['m', 'a', 'z', 'B']) await store.putSchedule(schedule(name));
    expect((await store.listSchedules()).map((s) => s.name)).toEqual(['B', 'a', 'm', 'z']);
  });

  it('deletes a schedule, and says whether there was one', async () => {
    const store = await open();
    await store.putSchedule(schedule('a'));
    await store.putSchedule(schedule('b'));
    expect(await store.deleteSchedule('a')).toBe(true);
    expect(await store.deleteSchedule('a')).toBe(false);
    expect(await store.deleteSchedule('never')).toBe(false);
    expect(await store.getSchedule('a')).toBeNull();
    expect((await store.listSchedules()).map((s) => s.name)).toEqual(['b']);
  });

  it('keeps schedules across a reopen', async () => {
    const first = await open();
    const s = schedule('nightly', { lastRunId: 'r9', lastAt: 42 });
    await first.putSchedule(s);
    await first.close();
    const second = await open();
    expect(await second.listSchedules()).toEqual([s]);
  });

  it('round-trips a large run', async () => {
    const store = await open();
    const jobs = Array.from({ length: 2000 }, (_, i) => jobSpec(`j${i}`, i === 0 ? {} : { dependsOn: [`j${i - 1}`] }));
    const s = schedule('big', { run: RunSpecSchema.parse({ name: 'big', jobs }) });
    await store.putSchedule(s);
    expect(await store.getSchedule('big')).toEqual(s);
  });
});

describe('SQLite schedules table', () => {
  it('is created by migration 6 and refuses a paused flag other than 0 or 1', async () => {
    const store = SqliteStore.open(join(dir, 'titan.db'));
    opened.push(store);
    await store.putSchedule(schedule('a'));
    const db = new Database(join(dir, 'titan.db'));
    try {
      expect(db.prepare('SELECT name FROM schema_migrations WHERE version = 6').get()).toEqual({ name: 'schedules' });
      expect(() => db.prepare("UPDATE schedules SET paused = 2 WHERE name = 'a'").run()).toThrow(/CHECK/);
    } finally {
      db.close();
    }
  });
});
