/** Fire times and due decisions against fixed reference times (never the real clock). */
import { describe, expect, it } from 'vitest';
import { RunSpecSchema } from './model.js';
import { MAX_COUNTED_MISSES, nextFire, ON_TIME_MS, onDue, type ScheduleRecord, type ScheduleSpecInput, ScheduleSpecSchema } from './schedule.js';

const at = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;

function record(spec: ScheduleSpecInput, extra: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    name: 's',
    spec: ScheduleSpecSchema.parse(spec),
    run: RunSpecSchema.parse({ name: 's', jobs: [{ id: 'a', script: { name: 'a.sh', sha256: 'ab'.repeat(32) } }] }),
    paused: false,
    nextAt: null,
    lastAt: null,
    lastRunId: null,
    createdAt: 0,
    updatedAt: 0,
    ...extra,
  };
}

const problem = (input: unknown): string => {
  const r = ScheduleSpecSchema.safeParse(input);
  if (r.success) throw new Error('accepted');
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
};

describe('ScheduleSpecSchema', () => {
  it('fills the defaults: UTC, overlap skip, missed run-once', () => {
    expect(ScheduleSpecSchema.parse({ cron: '0 9 * * *' })).toEqual({ cron: '0 9 * * *', timezone: 'UTC', overlap: 'skip', missed: 'run-once' });
  });

  it('accepts seconds (6 fields), nicknames and IANA zones', () => {
    expect(ScheduleSpecSchema.parse({ cron: '*/5 * * * * *', timezone: 'Europe/Berlin', overlap: 'allow', missed: 'skip' }).cron).toBe('*/5 * * * * *');
    expect(ScheduleSpecSchema.parse({ cron: '@daily', timezone: 'America/New_York' }).timezone).toBe('America/New_York');
  });

  it('names what is wrong with a cron expression', () => {
    expect(problem({ cron: '61 * * * *' })).toBe('cron: is not a cron expression: Invalid value for minute: 61');
    expect(problem({ cron: 'every day' })).toMatch(/is not a cron expression: invalid configuration format \('every day'\), exactly five, six, or seven space separated parts are required$/);
    expect(problem({ cron: '' })).toBe('cron: must not be empty');
    expect(problem({ cron: '2030-01-23T00:00:00' })).toMatch(/is a single date; a schedule needs a repeating cron expression/);
    expect(problem({ cron: '0 0 30 2 *' })).toMatch(/never matches a date/);
  });

  it('refuses an unknown timezone, policy or key', () => {
    expect(problem({ cron: '0 9 * * *', timezone: 'Mars/Olympus' })).toMatch(/^timezone: is not a known IANA timezone/);
    expect(problem({ cron: '0 9 * * *', overlap: 'queue' })).toMatch(/^overlap:/);
    expect(problem({ cron: '0 9 * * *', missed: 'all' })).toMatch(/^missed:/);
    expect(problem({ cron: '0 9 * * *', tz: 'UTC' })).toMatch(/tz/);
  });
});

describe('nextFire', () => {
  const berlin9 = ScheduleSpecSchema.parse({ cron: '0 9 * * *', timezone: 'Europe/Berlin' });

  it('is 09:00 Berlin time on each side of the spring DST change', () => {
    // CET (UTC+1) until 2026-03-29 02:00, CEST (UTC+2) after.
    expect(nextFire(berlin9, at('2026-03-27T12:00:00Z'))).toBe(at('2026-03-28T08:00:00Z'));
    expect(nextFire(berlin9, at('2026-03-28T08:00:00Z'))).toBe(at('2026-03-29T07:00:00Z'));
    expect(nextFire(berlin9, at('2026-03-29T07:00:00Z'))).toBe(at('2026-03-30T07:00:00Z'));
  });

  it('is 09:00 Berlin time on each side of the autumn DST change', () => {
    expect(nextFire(berlin9, at('2026-10-24T06:00:00Z'))).toBe(at('2026-10-24T07:00:00Z'));
    expect(nextFire(berlin9, at('2026-10-24T07:00:00Z'))).toBe(at('2026-10-25T08:00:00Z'));
  });

  it('is strictly after the given time, to the second', () => {
    const everySecond = ScheduleSpecSchema.parse({ cron: '* * * * * *' });
    expect(nextFire(everySecond, 1_000)).toBe(2_000);
    expect(nextFire(everySecond, 1_001)).toBe(2_000);
    expect(nextFire(everySecond, 1_999)).toBe(2_000);
  });

  it('is null when the expression has no fire time left', () => {
    expect(nextFire(ScheduleSpecSchema.parse({ cron: '0 0 0 1 1 * 2020' }), at('2026-01-01T00:00:00Z'))).toBeNull();
  });
});

describe('onDue', () => {
  const hourly = { cron: '0 * * * *' };
  const t9 = at('2026-05-01T09:00:00Z');

  it('submits a fire time handled on time and moves to the next one', () => {
    const d = onDue(record(hourly, { nextAt: t9 }), t9 + 5, false);
    expect(d).toEqual({ submit: true, reason: 'due at 2026-05-01T09:00:00Z', nextAt: t9 + HOUR, missedCount: 0 });
  });

  it('overlap skip: no run while the last one is active; allow: a run anyway', () => {
    const skip = onDue(record(hourly, { nextAt: t9, lastRunId: 'r1' }), t9, true);
    expect(skip.submit).toBe(false);
    expect(skip.reason).toBe('due at 2026-05-01T09:00:00Z; skipped: the previous run r1 is still active (overlap: skip)');
    expect(skip.nextAt).toBe(t9 + HOUR);
    expect(onDue(record(hourly, { nextAt: t9, lastRunId: 'r1' }), t9, false).submit).toBe(true);
    expect(onDue(record({ ...hourly, overlap: 'allow' }, { nextAt: t9, lastRunId: 'r1' }), t9, true).submit).toBe(true);
  });

  it('missed run-once: one run for every fire time missed while the master was down', () => {
    const now = t9 + 3 * HOUR + 20 * 60_000; // 12:20: 09:00, 10:00, 11:00 and 12:00 passed
    const d = onDue(record(hourly, { nextAt: t9 }), now, false);
    expect(d.submit).toBe(true);
    expect(d.missedCount).toBe(4);
    expect(d.reason).toBe('4 fire times missed from 2026-05-01T09:00:00Z to 2026-05-01T12:00:00Z: one run for them (missed: run-once)');
    expect(d.nextAt).toBe(t9 + 4 * HOUR);
  });

  it('missed skip: none of the missed fire times runs; the next one in the future will', () => {
    const now = t9 + 3 * HOUR + 20 * 60_000;
    const d = onDue(record({ ...hourly, missed: 'skip' }, { nextAt: t9 }), now, false);
    expect(d).toEqual({ submit: false, reason: '4 fire times missed from 2026-05-01T09:00:00Z to 2026-05-01T12:00:00Z: skipped (missed: skip)', nextAt: t9 + 4 * HOUR, missedCount: 4 });
  });

  it('a fire time at most ON_TIME_MS old is on time: missed skip still runs it, without the older ones', () => {
    const now = t9 + 2 * HOUR + ON_TIME_MS; // 11:01: 09:00 and 10:00 missed, 11:00 on time
    const skip = onDue(record({ ...hourly, missed: 'skip' }, { nextAt: t9 }), now, false);
    expect(skip.submit).toBe(true);
    expect(skip.missedCount).toBe(2);
    expect(skip.reason).toBe('2 fire times missed from 2026-05-01T09:00:00Z to 2026-05-01T10:00:00Z: skipped (missed: skip); due at 2026-05-01T11:00:00Z');
    const once = onDue(record(hourly, { nextAt: t9 }), now, false);
    expect(once.reason).toBe('2 fire times missed from 2026-05-01T09:00:00Z to 2026-05-01T10:00:00Z and the one due at 2026-05-01T11:00:00Z: one run for them (missed: run-once)');
    expect(onDue(record(hourly, { nextAt: t9 }), t9 + ON_TIME_MS + 1, false).reason).toBe('1 fire time missed at 2026-05-01T09:00:00Z: one run for them (missed: run-once)');
  });

  it('overlap skip also holds back the run for missed fire times', () => {
    const d = onDue(record(hourly, { nextAt: t9, lastRunId: 'r7' }), t9 + 5 * HOUR + 1, true);
    expect(d.submit).toBe(false);
    expect(d.missedCount).toBe(5);
    expect(d.reason).toMatch(/and the one due at 2026-05-01T14:00:00Z: one run for them \(missed: run-once\); skipped: the previous run r7 is still active \(overlap: skip\)$/);
  });

  it('follows DST when catching up: 09:00 Berlin missed over the spring change', () => {
    const spec = { cron: '0 9 * * *', timezone: 'Europe/Berlin', missed: 'skip' } as const;
    const d = onDue(record(spec, { nextAt: at('2026-03-28T08:00:00Z') }), at('2026-03-29T12:00:00Z'), false);
    expect(d.missedCount).toBe(2);
    expect(d.nextAt).toBe(at('2026-03-30T07:00:00Z'));
    expect(d.reason).toBe('2 fire times missed from 2026-03-28T08:00:00Z to 2026-03-29T07:00:00Z: skipped (missed: skip)');
  });

  it('counts a flood of missed fire times only up to a cap, and still finds the next one', () => {
    const spec = { cron: '* * * * * *' };
    const now = t9 + 24 * HOUR + 500;
    const d = onDue(record(spec, { nextAt: t9 }), now, false);
    expect(d.missedCount).toBe(MAX_COUNTED_MISSES);
    expect(d.reason).toMatch(/^1000 or more fire times missed from 2026-05-01T09:00:00Z to 2026-05-02T08:59:59Z and the one due at 2026-05-02T09:00:00Z/);
    expect(d.nextAt).toBe(t9 + 24 * HOUR + 1000);
  });

  it('does nothing for a paused schedule, one not yet due, or one with no fire time left', () => {
    expect(onDue(record(hourly, { nextAt: t9, paused: true }), t9, false)).toMatchObject({ submit: false, reason: 'paused', nextAt: null });
    expect(onDue(record(hourly, { nextAt: t9 }), t9 - 1, false)).toMatchObject({ submit: false, nextAt: t9 });
    expect(onDue(record(hourly, { nextAt: null }), t9, false)).toMatchObject({ submit: false, nextAt: null });
  });
});
