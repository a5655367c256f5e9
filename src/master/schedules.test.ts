/**
 * The Schedules system against a clock the test moves by hand and a real SQLite store in a temp
 * dir; a "restart" is a new Schedules on the same store with the clock moved on meanwhile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobSpec } from '../../test/helpers/records.js';
import { TitanError } from '../core/errors.js';
import { type RunSpec, RunSpecSchema } from '../core/model.js';
import { type ScheduleSpecInput, ScheduleSpecSchema } from '../core/schedule.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { SettlingClock } from '../../test/helpers/manual-clock.js';
import { Schedules } from './schedules.js';


const at = (iso: string): number => Date.parse(iso);
const MIN = 60_000;
const HOUR = 60 * MIN;
const pipeline: RunSpec = RunSpecSchema.parse({ name: 'etl', jobs: [jobSpec('extract'), jobSpec('load', { dependsOn: ['extract'] })] });
const spec = (s: ScheduleSpecInput) => ScheduleSpecSchema.parse(s);

let dir: string;
let store: SqliteStore;
let clock: SettlingClock;
let submitted: { run: RunSpec; at: number; runId: string }[];
let active: Set<string>;
let logs: string[];
let failSubmit: string | null;
/** When set, submissions are answered by this run, which holds their singleton key. */
let heldBy: string | null;
/** Whether submitted runs count as active until a test ends them (for the overlap policy). */
let runsStayActive: boolean;
let instances: Schedules[];

function schedules(): Schedules {
  const s = new Schedules({
    store,
    clock,
    submit: async (run) => {
      if (failSubmit) throw new TitanError('BAD_REQUEST', failSubmit);
      if (heldBy !== null && run.singleton !== undefined) return { runId: heldBy, singleton: { key: run.singleton, heldBy } };
      const runId = `r${submitted.length + 1}`;
      submitted.push({ run, at: clock.now(), runId });
      if (runsStayActive) active.add(runId);
      return { runId };
    },
    isRunActive: (runId) => active.has(runId),
    log: (line) => logs.push(line),
  });
  instances.push(s);
  return s;
}

/** Stops the instance as a killed master would: its timers are gone, the store stays. */
async function restart(old: Schedules, downMs: number): Promise<Schedules> {
  await old.stop();
  clock.jump(downMs);
  const s = schedules();
  await s.start();
  await clock.advance(0);
  return s;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'titan-schedules-'));
  store = SqliteStore.open(join(dir, 'titan.db'));
  clock = new SettlingClock(at('2026-05-01T08:30:00Z'));
  submitted = [];
  active = new Set();
  logs = [];
  failSubmit = null;
  heldBy = null;
  runsStayActive = false;
  instances = [];
});

afterEach(async () => {
  for (const s of instances) await s.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Schedules', () => {
  it('fires at 09:00 Europe/Berlin on each day across the spring DST change', async () => {
    clock = new SettlingClock(at('2026-03-27T12:00:00Z'));
    const s = schedules();
    await s.start();
    const { schedule, created } = await s.upsert('daily', spec({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }), pipeline);
    expect(created).toBe(true);
    expect(schedule.nextAt).toBe(at('2026-03-28T08:00:00Z'));
    await clock.advanceTo(at('2026-03-31T00:00:00Z'));
    // 09:00 CET is 08:00 UTC; 09:00 CEST (from 29 March) is 07:00 UTC.
    expect(submitted.map((x) => new Date(x.at).toISOString())).toEqual(['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z']);
    expect(submitted.every((x) => x.run === pipeline)).toBe(true);
    const [view] = s.list();
    expect(view).toMatchObject({ name: 'daily', nextAt: at('2026-03-31T07:00:00Z'), lastAt: at('2026-03-30T07:00:00Z'), lastRunId: 'r3', lastDecision: 'due at 2026-03-30T07:00:00Z; submitted run r3' });
    expect(logs).toContain('schedule daily: due at 2026-03-29T07:00:00Z; submitted run r2');
    expect(await store.getSchedule('daily')).toMatchObject({ nextAt: at('2026-03-31T07:00:00Z'), lastRunId: 'r3' });
  });

  it('and across the autumn change, in a zone west of UTC too', async () => {
    clock = new SettlingClock(at('2026-10-23T12:00:00Z'));
    const s = schedules();
    await s.start();
    await s.upsert('berlin', spec({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }), pipeline);
    await s.upsert('ny', spec({ cron: '30 6 * * *', timezone: 'America/New_York' }), pipeline);
    await clock.advanceTo(at('2026-11-03T00:00:00Z'));
    const berlin = submitted.filter((_, i) => logs.some((l) => l.startsWith('schedule berlin:') && l.endsWith(`run r${i + 1}`)));
    const ny = submitted.filter((_, i) => logs.some((l) => l.startsWith('schedule ny:') && l.endsWith(`run r${i + 1}`)));
    expect(berlin.slice(0, 3).map((x) => new Date(x.at).toISOString())).toEqual(['2026-10-24T07:00:00.000Z', '2026-10-25T08:00:00.000Z', '2026-10-26T08:00:00.000Z']);
    // New York leaves EDT (UTC-4) on 1 November.
    expect(ny.slice(-3).map((x) => new Date(x.at).toISOString())).toEqual(['2026-10-31T10:30:00.000Z', '2026-11-01T11:30:00.000Z', '2026-11-02T11:30:00.000Z']);
  });

  it('overlap skip: no run while the previous one is active; the next fire time after it ends runs', async () => {
    runsStayActive = true;
    const s = schedules();
    await s.start();
    await s.upsert('often', spec({ cron: '*/10 * * * *' }), pipeline);
    await clock.advanceTo(at('2026-05-01T08:40:00Z'));
    expect(submitted.map((x) => x.runId)).toEqual(['r1']);
    await clock.advanceTo(at('2026-05-01T08:50:00Z'));
    expect(submitted).toHaveLength(1);
    expect(s.get('often').lastDecision).toBe('due at 2026-05-01T08:50:00Z; skipped: the previous run r1 is still active (overlap: skip)');
    expect(s.get('often').nextAt).toBe(at('2026-05-01T09:00:00Z'));
    active.delete('r1');
    await clock.advanceTo(at('2026-05-01T09:00:00Z'));
    expect(submitted.map((x) => x.runId)).toEqual(['r1', 'r2']);
  });

  it('singleton: a fire time while another run holds the run’s key creates no run and says which run holds it', async () => {
    const s = schedules();
    await s.start();
    await s.upsert('often', spec({ cron: '*/10 * * * *', overlap: 'allow' }), { ...pipeline, singleton: 'etl' });
    heldBy = 'r-manual';
    await clock.advanceTo(at('2026-05-01T08:40:00Z'));
    expect(submitted).toHaveLength(0);
    expect(s.get('often')).toMatchObject({ lastRunId: null, lastAt: null, lastDecision: 'due at 2026-05-01T08:40:00Z; skipped: run r-manual holds the singleton key etl' });
    expect((await s.runNow('often')).runId).toBe('r-manual');
    heldBy = null;
    await clock.advanceTo(at('2026-05-01T08:50:00Z'));
    expect(submitted.map((x) => x.runId)).toEqual(['r1']);
    expect(s.get('often').lastRunId).toBe('r1');
  });

  it('overlap allow: a run at every fire time, active or not', async () => {
    runsStayActive = true;
    const s = schedules();
    await s.start();
    await s.upsert('often', spec({ cron: '*/10 * * * *', overlap: 'allow' }), pipeline);
    await clock.advanceTo(at('2026-05-01T09:00:00Z'));
    expect(submitted.map((x) => x.runId)).toEqual(['r1', 'r2', 'r3']);
    expect([...active]).toEqual(['r1', 'r2', 'r3']);
  });

  it('missed run-once: after a restart, one run for every fire time missed while down', async () => {
    const s1 = schedules();
    await s1.start();
    await s1.upsert('hourly', spec({ cron: '0 * * * *' }), pipeline);
    await clock.advanceTo(at('2026-05-01T09:00:00Z'));
    expect(submitted).toHaveLength(1);
    const s2 = await restart(s1, 5 * HOUR + 20 * MIN); // down from 09:00 to 14:20
    expect(submitted.map((x) => [x.runId, new Date(x.at).toISOString()])).toEqual([
      ['r1', '2026-05-01T09:00:00.000Z'],
      ['r2', '2026-05-01T14:20:00.000Z'],
    ]);
    const view = s2.get('hourly');
    expect(view.lastDecision).toBe('5 fire times missed from 2026-05-01T10:00:00Z to 2026-05-01T14:00:00Z: one run for them (missed: run-once); submitted run r2');
    expect(view.nextAt).toBe(at('2026-05-01T15:00:00Z'));
    await clock.advanceTo(at('2026-05-01T15:00:00Z'));
    expect(submitted.map((x) => x.runId)).toEqual(['r1', 'r2', 'r3']);
  });

  it('missed skip: after a restart, none of the missed fire times runs; the next one does', async () => {
    const s1 = schedules();
    await s1.start();
    await s1.upsert('hourly', spec({ cron: '0 * * * *', missed: 'skip' }), pipeline);
    const s2 = await restart(s1, 3 * HOUR); // down from 08:30 to 11:30: 09:00, 10:00, 11:00 missed
    expect(submitted).toEqual([]);
    expect(s2.get('hourly').lastDecision).toBe('3 fire times missed from 2026-05-01T09:00:00Z to 2026-05-01T11:00:00Z: skipped (missed: skip)');
    expect(logs).toContain('schedule hourly: 3 fire times missed from 2026-05-01T09:00:00Z to 2026-05-01T11:00:00Z: skipped (missed: skip)');
    await clock.advanceTo(at('2026-05-01T12:00:00Z'));
    expect(submitted.map((x) => new Date(x.at).toISOString())).toEqual(['2026-05-01T12:00:00.000Z']);
  });

  it('a quick restart is not a miss: the fire time that passed seconds ago runs', async () => {
    const s1 = schedules();
    await s1.start();
    await s1.upsert('hourly', spec({ cron: '0 * * * *', missed: 'skip' }), pipeline);
    await clock.advanceTo(at('2026-05-01T08:59:58Z'));
    const s2 = await restart(s1, 5_000);
    expect(submitted).toHaveLength(1);
    expect(s2.get('hourly').lastDecision).toBe('due at 2026-05-01T09:00:00Z; submitted run r1');
  });

  it('restart keeps every schedule, paused or not, with its last run', async () => {
    const s1 = schedules();
    await s1.start();
    await s1.upsert('a', spec({ cron: '0 * * * *' }), pipeline);
    await s1.upsert('b', spec({ cron: '15 3 * * 1', timezone: 'Asia/Tokyo', overlap: 'allow', missed: 'skip' }), pipeline);
    await s1.pause('b');
    await clock.advanceTo(at('2026-05-01T09:00:00Z'));
    const before = s1.list().map(({ lastDecision: _d, lastDecisionAt: _t, ...record }) => record);
    const s2 = await restart(s1, 1_000);
    expect(s2.list().map(({ lastDecision: _d, lastDecisionAt: _t, ...record }) => record)).toEqual(before);
    expect(s2.list().map((v) => v.lastDecision)).toEqual([null, null]);
    expect(before[0]).toMatchObject({ name: 'a', lastRunId: 'r1', nextAt: at('2026-05-01T10:00:00Z') });
    expect(before[1]).toMatchObject({ name: 'b', paused: true, nextAt: null });
    await clock.advanceTo(at('2026-05-01T10:00:00Z'));
    expect(submitted.map((x) => x.runId)).toEqual(['r1', 'r2']);
  });

  it('pause stops the timer; resume counts from now and does not run what passed while paused', async () => {
    const s = schedules();
    await s.start();
    await s.upsert('hourly', spec({ cron: '0 * * * *' }), pipeline);
    const paused = await s.pause('hourly');
    expect(paused).toMatchObject({ paused: true, nextAt: null, lastDecision: 'paused' });
    expect(clock.live).toBe(0);
    expect(await s.pause('hourly')).toMatchObject({ paused: true });
    await clock.advanceTo(at('2026-05-01T12:10:00Z'));
    expect(submitted).toEqual([]);
    const resumed = await s.resume('hourly');
    expect(resumed).toMatchObject({ paused: false, nextAt: at('2026-05-01T13:00:00Z'), lastDecision: 'resumed; next at 2026-05-01T13:00:00Z' });
    expect(await store.getSchedule('hourly')).toMatchObject({ paused: false, nextAt: at('2026-05-01T13:00:00Z') });
    await clock.advanceTo(at('2026-05-01T13:00:00Z'));
    expect(submitted.map((x) => new Date(x.at).toISOString())).toEqual(['2026-05-01T13:00:00.000Z']);
  });

  it('delete removes the schedule and its timer; its runs are left alone', async () => {
    const s = schedules();
    await s.start();
    await s.upsert('hourly', spec({ cron: '0 * * * *' }), pipeline);
    await clock.advanceTo(at('2026-05-01T09:00:00Z'));
    const gone = await s.delete('hourly');
    expect(gone.name).toBe('hourly');
    expect(s.list()).toEqual([]);
    expect(await store.listSchedules()).toEqual([]);
    expect(clock.live).toBe(0);
    await clock.advanceTo(at('2026-05-01T12:00:00Z'));
    expect(submitted).toHaveLength(1);
  });

  it('runNow submits at once, even over an active run, and leaves the next fire time alone', async () => {
    runsStayActive = true;
    const s = schedules();
    await s.start();
    await s.upsert('hourly', spec({ cron: '0 * * * *' }), pipeline);
    await clock.advanceTo(at('2026-05-01T09:00:00Z'));
    await clock.advance(5 * MIN);
    const { runId, schedule } = await s.runNow('hourly');
    expect(runId).toBe('r2');
    expect(active.has('r1')).toBe(true);
    expect(schedule).toMatchObject({ lastRunId: 'r2', lastAt: at('2026-05-01T09:05:00Z'), nextAt: at('2026-05-01T10:00:00Z'), lastDecision: 'run now on request: submitted run r2' });
    expect(await store.getSchedule('hourly')).toMatchObject({ lastRunId: 'r2' });
    // A paused schedule can be run by hand too.
    await s.pause('hourly');
    expect((await s.runNow('hourly')).runId).toBe('r3');
  });

  it('unknown names are NOT_FOUND', async () => {
    const s = schedules();
    await s.start();
    for (const op of [() => s.pause('nope'), () => s.resume('nope'), () => s.delete('nope'), () => s.runNow('nope')]) {
      await expect(op()).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no schedule nope (see titan schedules)' });
    }
    expect(() => s.get('nope')).toThrow(/no schedule nope/);
  });

  it('upsert replaces spec and run, keeps creation time, last run and pause; refuses a bad DAG or what check refuses', async () => {
    const s = schedules();
    await s.start();
    await s.upsert('x', spec({ cron: '0 * * * *' }), pipeline);
    await clock.advanceTo(at('2026-05-01T09:00:00Z'));
    await s.pause('x');
    const other = RunSpecSchema.parse({ name: 'other', jobs: [jobSpec('only')] });
    const { schedule, created } = await s.upsert('x', spec({ cron: '*/5 * * * *' }), other);
    expect(created).toBe(false);
    expect(schedule).toMatchObject({ run: other, spec: { cron: '*/5 * * * *' }, paused: true, nextAt: null, lastRunId: 'r1', createdAt: at('2026-05-01T08:30:00Z'), updatedAt: at('2026-05-01T09:00:00Z') });
    expect(schedule.lastDecision).toBe('updated (*/5 * * * *, UTC); paused');

    const cyclic = RunSpecSchema.parse({ name: 'c', jobs: [jobSpec('a', { dependsOn: ['b'] }), jobSpec('b', { dependsOn: ['a'] })] });
    await expect(s.upsert('y', spec({ cron: '0 * * * *' }), cyclic)).rejects.toMatchObject({ code: 'INVALID_DAG' });
    const strict = new Schedules({ store, clock, submit: async () => ({ runId: 'r' }), isRunActive: () => false, log: () => {}, check: () => { throw new TitanError('BAD_REQUEST', 'scripts were not uploaded'); } });
    await expect(strict.upsert('z', spec({ cron: '0 * * * *' }), pipeline)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(s.upsert('old', spec({ cron: '0 0 0 1 1 * 2020' }), pipeline)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/has no fire time after/) });
    expect((await store.listSchedules()).map((r) => r.name)).toEqual(['x']);
  });

  it('a failed submission is recorded as the decision and the schedule keeps firing', async () => {
    const s = schedules();
    await s.start();
    await s.upsert('hourly', spec({ cron: '0 * * * *' }), pipeline);
    failSubmit = 'scripts were not uploaded before submission: a.sh (job a)';
    await clock.advanceTo(at('2026-05-01T09:00:00Z'));
    expect(s.get('hourly').lastDecision).toBe('due at 2026-05-01T09:00:00Z; the submission failed: scripts were not uploaded before submission: a.sh (job a)');
    expect(s.get('hourly')).toMatchObject({ lastRunId: null, nextAt: at('2026-05-01T10:00:00Z') });
    failSubmit = null;
    await clock.advanceTo(at('2026-05-01T10:00:00Z'));
    expect(submitted.map((x) => x.runId)).toEqual(['r1']);
  });

  it('waits longer than a timer can in steps, and fires once, on time', async () => {
    const s = schedules();
    await s.start();
    await s.upsert('yearly', spec({ cron: '0 0 1 1 *' }), pipeline);
    await clock.advanceTo(at('2026-12-31T23:59:59Z'));
    expect(submitted).toEqual([]);
    expect(clock.live).toBe(1);
    await clock.advanceTo(at('2027-01-02T00:00:00Z'));
    expect(submitted.map((x) => new Date(x.at).toISOString())).toEqual(['2027-01-01T00:00:00.000Z']);
  });

  it('stop cancels every timer', async () => {
    const s = schedules();
    await s.start();
    await s.upsert('a', spec({ cron: '0 * * * *' }), pipeline);
    await s.upsert('b', spec({ cron: '30 * * * *' }), pipeline);
    expect(clock.live).toBe(2);
    await s.stop();
    expect(clock.live).toBe(0);
  });
});
