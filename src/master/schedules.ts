/**
 * The Schedules system: pipelines submitted at the fire times of their cron expressions. It keeps
 * every schedule in memory with one timer (armed through the master's Clock) at its next fire
 * time; when one fires, the pure `onDue` decides (overlap and missed policies), the fire time is
 * recorded as handled, and only then is the run submitted. So a crash between the two loses that
 * one run rather than submitting it twice. At start-up a schedule whose next fire time passed
 * while the master was down fires at once and its `missed` policy decides what runs.
 *
 * A run with a `singleton` key is submitted like any other: while an unfinished run holds the key
 * (this schedule's or anyone's), the fire creates nothing and its decision names the holder.
 * `overlap: skip` stays the schedule's own rule about its last run; both may be set.
 *
 * Operations on schedules are applied one at a time, in the order they arrive, so a fire never
 * interleaves with a pause, a change or a deletion of the same schedule.
 */
import { validateDag } from '../core/dag.js';
import { TitanError } from '../core/errors.js';
import type { RunSpec } from '../core/model.js';
import { nextFire, onDue, type ScheduleRecord, type ScheduleSpec, type ScheduleView } from '../core/schedule.js';
import type { Store } from '../store/store.js';
import type { Clock } from './clock.js';

/** A timer never waits longer than this (setTimeout's limit is about 24.8 days); it re-arms instead. */
const MAX_WAIT_MS = 24 * 3_600_000;

export interface SchedulesOptions {
  store: Pick<Store, 'putSchedule' | 'getSchedule' | 'listSchedules' | 'deleteSchedule'>;
  clock: Clock;
  /** Submits a run; resolves once it is durable, or with the run that holds the run's singleton key. */
  submit: (run: RunSpec) => Promise<{ runId: string; singleton?: { key: string; heldBy: string } }>;
  /** Whether the run is still active (not finished). */
  isRunActive: (runId: string) => boolean;
  log: (line: string) => void;
  /** Refuses a run that could not be submitted as it is (e.g. scripts not uploaded); called by upsert. */
  check?: (run: RunSpec) => void;
}

interface Entry {
  record: ScheduleRecord;
  lastDecision: string | null;
  lastDecisionAt: number | null;
  timer: { cancel(): void } | null;
}

const iso = (ms: number | null): string => (ms === null ? 'never' : new Date(ms).toISOString().replace('.000Z', 'Z'));

export class Schedules {
  private readonly entries = new Map<string, Entry>();
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: SchedulesOptions) {}

  /** Loads every schedule and arms its timer; one whose fire time passed meanwhile fires at once. */
  async start(): Promise<void> {
    await this.serial(async () => {
      for (const record of await this.o.store.listSchedules()) {
        const entry: Entry = { record, lastDecision: null, lastDecisionAt: null, timer: null };
        this.entries.set(record.name, entry);
        this.arm(entry);
      }
    });
  }

  /** Cancels every timer and waits for the operation in progress, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.entries.values()) {
      entry.timer?.cancel();
      entry.timer = null;
    }
    await this.queue;
  }

  list(): ScheduleView[] {
    return [...this.entries.values()].sort((a, b) => (a.record.name < b.record.name ? -1 : a.record.name > b.record.name ? 1 : 0)).map(viewOf);
  }

  get(name: string): ScheduleView {
    return viewOf(this.entry(name));
  }

  /**
   * Creates or replaces a schedule. Its next fire time counts from now; a paused schedule stays
   * paused, and its last run is kept.
   */
  upsert(name: string, spec: ScheduleSpec, run: RunSpec): Promise<{ schedule: ScheduleView; created: boolean }> {
    const problems = validateDag(run.jobs);
    if (problems.length > 0) return Promise.reject(new TitanError('INVALID_DAG', problems.map((p) => p.message).join('; ')));
    try {
      this.o.check?.(run);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.serial(async () => {
      const now = this.o.clock.now();
      const nextAt = nextFire(spec, now);
      if (nextAt === null) throw new TitanError('BAD_REQUEST', `the cron expression "${spec.cron}" has no fire time after ${iso(now)}`);
      const old = this.entries.get(name);
      const base = old?.record;
      const record: ScheduleRecord = {
        name,
        spec,
        run,
        paused: base?.paused ?? false,
        nextAt: base?.paused ? null : nextAt,
        lastAt: base?.lastAt ?? null,
        lastRunId: base?.lastRunId ?? null,
        createdAt: base?.createdAt ?? now,
        updatedAt: now,
      };
      await this.o.store.putSchedule(record);
      const entry: Entry = old ?? { record, lastDecision: null, lastDecisionAt: null, timer: null };
      entry.record = record;
      this.entries.set(name, entry);
      this.decide(entry, `${old ? 'updated' : 'created'} (${spec.cron}, ${spec.timezone}); ${record.paused ? 'paused' : `next at ${iso(record.nextAt)}`}`);
      this.arm(entry);
      return { schedule: viewOf(entry), created: !old };
    });
  }

  /** Stops firing until resumed; a no-op for a paused schedule. */
  pause(name: string): Promise<ScheduleView> {
    return this.serial(async () => {
      const entry = this.entry(name);
      if (!entry.record.paused) {
        await this.save(entry, { paused: true, nextAt: null });
        this.arm(entry);
        this.decide(entry, 'paused');
      }
      return viewOf(entry);
    });
  }

  /** Fires again from the next fire time after now; fire times passed while paused are not run. */
  resume(name: string): Promise<ScheduleView> {
    return this.serial(async () => {
      const entry = this.entry(name);
      if (entry.record.paused) {
        await this.save(entry, { paused: false, nextAt: nextFire(entry.record.spec, this.o.clock.now()) });
        this.arm(entry);
        this.decide(entry, `resumed; next at ${iso(entry.record.nextAt)}`);
      }
      return viewOf(entry);
    });
  }

  /** Removes the schedule; the runs it submitted are kept. */
  delete(name: string): Promise<ScheduleView> {
    return this.serial(async () => {
      const entry = this.entry(name);
      entry.timer?.cancel();
      entry.timer = null;
      this.entries.delete(name);
      await this.o.store.deleteSchedule(name);
      this.o.log(`schedule ${name}: deleted`);
      return viewOf(entry);
    });
  }

  /** Submits the schedule's run now, whatever its overlap policy or pause; its timer is unchanged. */
  runNow(name: string): Promise<{ runId: string; schedule: ScheduleView }> {
    return this.serial(async () => {
      const entry = this.entry(name);
      const { runId, singleton } = await this.o.submit(entry.record.run);
      if (singleton) {
        this.decide(entry, `run now on request: ${held(singleton)}`);
        return { runId, schedule: viewOf(entry) };
      }
      await this.save(entry, { lastAt: this.o.clock.now(), lastRunId: runId });
      this.decide(entry, `run now on request: submitted run ${runId}`);
      return { runId, schedule: viewOf(entry) };
    });
  }

  // ---- internals ------------------------------------------------------------------------------

  private entry(name: string): Entry {
    const entry = this.entries.get(name);
    if (!entry) throw new TitanError('NOT_FOUND', `no schedule ${name} (see titan schedules)`);
    return entry;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async save(entry: Entry, change: Partial<ScheduleRecord>): Promise<void> {
    const record = { ...entry.record, ...change, updatedAt: this.o.clock.now() };
    await this.o.store.putSchedule(record);
    entry.record = record;
  }

  private decide(entry: Entry, decision: string): void {
    entry.lastDecision = decision;
    entry.lastDecisionAt = this.o.clock.now();
    this.o.log(`schedule ${entry.record.name}: ${decision}`);
  }

  private arm(entry: Entry): void {
    entry.timer?.cancel();
    entry.timer = null;
    const { nextAt, paused, name } = entry.record;
    if (nextAt === null || paused || this.stopped) return;
    const wait = Math.min(Math.max(0, nextAt - this.o.clock.now()), MAX_WAIT_MS);
    entry.timer = this.o.clock.setTimer(() => void this.fire(name, entry), wait);
  }

  private fire(name: string, armed: Entry): Promise<void> {
    return this.serial(async () => {
      const entry = this.entries.get(name);
      // Deleted, replaced or stopped meanwhile: whatever happened re-armed what should fire.
      if (entry !== armed || this.stopped) return;
      entry.timer = null;
      const now = this.o.clock.now();
      if (entry.record.nextAt !== null && entry.record.nextAt > now) return this.arm(entry);
      const lastRunId = entry.record.lastRunId;
      const decision = onDue(entry.record, now, lastRunId !== null && this.o.isRunActive(lastRunId));
      try {
        // The fire time is handled before its run is submitted: at most one run per fire time.
        await this.save(entry, { nextAt: decision.nextAt });
        if (!decision.submit) {
          this.decide(entry, decision.reason);
          return;
        }
        let submitted: Awaited<ReturnType<SchedulesOptions['submit']>>;
        try {
          submitted = await this.o.submit(entry.record.run);
        } catch (err) {
          this.decide(entry, `${decision.reason}; the submission failed: ${(err as Error).message}`);
          return;
        }
        const { runId, singleton } = submitted;
        if (singleton) {
          this.decide(entry, `${decision.reason}; ${held(singleton)}`);
          return;
        }
        await this.save(entry, { lastAt: now, lastRunId: runId });
        this.decide(entry, `${decision.reason}; submitted run ${runId}`);
      } catch (err) {
        // Kept in memory at least, so the timer does not fire again for the same fire time.
        entry.record = { ...entry.record, nextAt: decision.nextAt };
        this.decide(entry, `${decision.reason}; the schedule could not be saved: ${(err as Error).message}`);
      } finally {
        this.arm(entry);
      }
    });
  }
}

/** A submission answered by the run that holds its singleton key: no run was created. */
const held = (s: { key: string; heldBy: string }): string => `skipped: run ${s.heldBy} holds the singleton key ${s.key}`;

const viewOf = (entry: Entry): ScheduleView => ({ ...entry.record, lastDecision: entry.lastDecision, lastDecisionAt: entry.lastDecisionAt });
