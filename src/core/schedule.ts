/**
 * Schedules: a pipeline submitted at the fire times of a cron expression in a timezone. Pure
 * decisions over a given time: when a schedule fires next, and what to do when it is due
 * (submit or not, why, and when it is due again). The master's Schedules system owns the timers
 * and carries the decisions out. croner computes the fire times; none of its timers are used.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { IdSchema, type RunSpec } from './model.js';

export const OVERLAP_POLICIES = ['skip', 'allow'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export const MISSED_POLICIES = ['skip', 'run-once'] as const;
export type MissedPolicy = (typeof MISSED_POLICIES)[number];

/**
 * A fire time handled at most this long after it passed counts as on time (a busy event loop, a
 * quick restart); older ones were missed and follow the schedule's `missed` policy.
 */
export const ON_TIME_MS = 60_000;

/** How many missed fire times are counted one by one; beyond that the count says "or more". */
export const MAX_COUNTED_MISSES = 1000;

/** croner parses a pattern once per (timezone, pattern); the instances compute, never schedule. */
const crons = new Map<string, Cron>();

function cronOf(pattern: string, timezone: string): Cron {
  const key = `${timezone}\n${pattern}`;
  let cron = crons.get(key);
  if (!cron) {
    if (crons.size >= 256) crons.clear();
    cron = new Cron(pattern, { timezone, paused: true });
    crons.set(key, cron);
  }
  return cron;
}

/** What is wrong with a cron expression, or null when it is usable. */
function cronProblem(pattern: string): string | null {
  let cron: Cron;
  try {
    cron = new Cron(pattern, { paused: true });
  } catch (err) {
    return `is not a cron expression: ${(err as Error).message.replace(/^Cron\w*:\s*/, '').replace(/\.$/, '')}`;
  }
  if (cron.getOnce() !== null) return 'is a single date; a schedule needs a repeating cron expression such as "0 9 * * *"';
  if (cron.nextRun(new Date(0)) === null) return 'never matches a date (check the day and month fields)';
  return null;
}

export const CronSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .superRefine((pattern, ctx) => {
    if (pattern.length === 0 || pattern.length > 256) return;
    const problem = cronProblem(pattern);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** An IANA timezone name that this runtime's Intl knows (e.g. "Europe/Berlin", "UTC"). */
export const TimezoneSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'is not a known IANA timezone (e.g. "UTC", "Europe/Berlin", "America/New_York")');

export const ScheduleSpecSchema = z.strictObject({
  /** 5 fields (minute hour day month weekday), or 6 with seconds first, or a nickname such as @daily. */
  cron: CronSchema,
  /** The zone the fields are read in; daylight saving changes follow it. */
  timezone: TimezoneSchema.default('UTC'),
  /** `skip`: no new run while the schedule's previous run is still active; `allow`: run anyway. */
  overlap: z.enum(OVERLAP_POLICIES).default('skip'),
  /** After the master was down across fire times: `run-once` makes one run for all of them, `skip` none. */
  missed: z.enum(MISSED_POLICIES).default('run-once'),
});
export type ScheduleSpec = z.infer<typeof ScheduleSpecSchema>;
export type ScheduleSpecInput = z.input<typeof ScheduleSpecSchema>;

export const ScheduleNameSchema = IdSchema;

/** A schedule as the master keeps and stores it. */
export interface ScheduleRecord {
  name: string;
  spec: ScheduleSpec;
  /** The pipeline submitted at each fire time; its scripts were uploaded when it was registered. */
  run: RunSpec;
  paused: boolean;
  /** The next fire time (epoch ms); null while paused or when the expression has no more. */
  nextAt: number | null;
  /** When a run was last submitted for the schedule (by a fire time or by request). */
  lastAt: number | null;
  lastRunId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A schedule as listed: the stored record and the master's latest decision about it. */
export interface ScheduleView extends ScheduleRecord {
  /** What the master last decided for it (submitted, skipped and why), since it started. */
  lastDecision: string | null;
  lastDecisionAt: number | null;
}

/** The first fire time strictly after `afterMs`, or null when there is none. */
export function nextFire(spec: Pick<ScheduleSpec, 'cron' | 'timezone'>, afterMs: number): number | null {
  return cronOf(spec.cron, spec.timezone).nextRun(new Date(afterMs))?.getTime() ?? null;
}

export interface DueDecision {
  submit: boolean;
  /** Why, for the log and the listing. */
  reason: string;
  /** The first fire time strictly after now (null while paused or when there is none). */
  nextAt: number | null;
  /** Fire times that passed more than ON_TIME_MS before now (at most MAX_COUNTED_MISSES). */
  missedCount: number;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

const times = (n: number): string => (n >= MAX_COUNTED_MISSES ? `${n} or more fire times` : n === 1 ? '1 fire time' : `${n} fire times`);

/**
 * What to do for a schedule whose fire time has come (`record.nextAt <= now`), given whether its
 * last run is still active. Every fire time from `record.nextAt` up to `now` is due; the latest
 * is on time when it passed at most ON_TIME_MS ago, and the others were missed (the master was
 * down or stalled). `missed: run-once` makes one run for all of them, `skip` runs none of the
 * missed ones (only an on-time one). `overlap: skip` submits nothing while the last run is still
 * active. In every case the next fire time is the first one strictly after `now`.
 */
export function onDue(record: ScheduleRecord, now: number, lastRunActive: boolean): DueDecision {
  const { spec } = record;
  if (record.paused) return { submit: false, reason: 'paused', nextAt: null, missedCount: 0 };
  if (record.nextAt === null) return { submit: false, reason: 'no fire time left', nextAt: null, missedCount: 0 };
  if (record.nextAt > now) return { submit: false, reason: `not due until ${iso(record.nextAt)}`, nextAt: record.nextAt, missedCount: 0 };
  const nextAt = nextFire(spec, now);

  // The due fire times: record.nextAt, then each following one up to now (counted up to a cap).
  const first = record.nextAt;
  let last = first;
  let due = 1;
  for (let t = nextFire(spec, first); t !== null && t <= now && due <= MAX_COUNTED_MISSES; t = nextFire(spec, t)) {
    last = t;
    due++;
  }
  if (due > MAX_COUNTED_MISSES) {
    // Too many to walk: the latest one is found from now instead.
    const latest = cronOf(spec.cron, spec.timezone).previousRuns(1, new Date(now + 1))[0]?.getTime();
    if (latest !== undefined && latest > last) last = latest;
  }
  const onTime = now - last <= ON_TIME_MS;
  const missedCount = Math.min(onTime ? due - 1 : due, MAX_COUNTED_MISSES);
  const lastMissed = onTime ? (due > 1 ? previousDue(spec, last, first) : null) : last;
  const span = lastMissed === null || lastMissed === first ? `at ${iso(first)}` : `from ${iso(first)} to ${iso(lastMissed)}`;

  let what: string;
  let wanted: boolean;
  if (missedCount === 0) {
    what = `due at ${iso(last)}`;
    wanted = true;
  } else if (spec.missed === 'run-once') {
    what = `${times(missedCount)} missed ${span}${onTime ? ` and the one due at ${iso(last)}` : ''}: one run for them (missed: run-once)`;
    wanted = true;
  } else {
    what = `${times(missedCount)} missed ${span}: skipped (missed: skip)${onTime ? `; due at ${iso(last)}` : ''}`;
    wanted = onTime;
  }
  if (wanted && spec.overlap === 'skip' && lastRunActive) {
    const previous = record.lastRunId === null ? 'the previous run' : `the previous run ${record.lastRunId}`;
    return { submit: false, reason: `${what}; skipped: ${previous} is still active (overlap: skip)`, nextAt, missedCount };
  }
  return { submit: wanted, reason: what, nextAt, missedCount };
}

/** The fire time before `t` (not before `floor`): the last missed one when `t` is on time. */
function previousDue(spec: ScheduleSpec, t: number, floor: number): number {
  const before = cronOf(spec.cron, spec.timezone).previousRuns(1, new Date(t))[0]?.getTime();
  return before === undefined || before < floor ? floor : before;
}
