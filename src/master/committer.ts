/**
 * Group commit: every record staged during one event-loop turn is written in one store
 * transaction, and only then are the turn's acknowledgements and messages released. A reply or
 * a dispatch therefore never gets ahead of the state it depends on.
 *
 * A store that is unavailable for a while (a Redis server that went away, a full disk under
 * SQLite) does not stop the master: the batch is held and committed again, under the same id,
 * until it goes through, and its acknowledgements wait with it. Meanwhile `checkAvailable`
 * refuses new work. Any other failure is fatal (`onFatal`), as before.
 */
import { randomBytes } from 'node:crypto';
import { TitanError } from '../core/errors.js';
import type { AttemptRecord, GateDecision, JobRecord, RunRecord } from '../core/model.js';
import { jobRef } from '../core/model.js';
import { type Store, type StoreBatch, StoreUnavailableError } from '../store/store.js';

interface Pending {
  runs: Map<string, RunRecord>;
  newJobs: Map<string, JobRecord>;
  jobs: Map<string, JobRecord>;
  attempts: Map<string, AttemptRecord>;
  decisions: GateDecision[];
  after: (() => void)[];
}

const fresh = (): Pending => ({ runs: new Map(), newJobs: new Map(), jobs: new Map(), attempts: new Map(), decisions: [], after: [] });

/** Waits between attempts to commit a held batch: 100 ms, doubling up to 2 s. */
const RETRY_MS = { first: 100, max: 2_000 };

export class Committer {
  private pending = fresh();
  private scheduled = false;
  private inFlight: Promise<void> | null = null;
  /** Commits so far and records written, for stats. */
  commits = 0;
  /** Why the batch in flight is held (the store is unavailable), or null. */
  private held: StoreUnavailableError | null = null;
  private readonly idPrefix = randomBytes(6).toString('hex');
  private seq = 0;

  constructor(
    /** Only commits (and asks whether the store can take them): reads go to the store directly. */
    private readonly store: Pick<Store, 'commit'> & Pick<Partial<Store>, 'unavailable'>,
    private readonly onFatal: (err: Error) => void,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /**
   * Throws UNAVAILABLE, saying `what` was refused and why, while the store cannot take commits:
   * checked before new work changes anything, so nothing is half-done or acknowledged.
   */
  checkAvailable(what: string): void {
    const why = this.held ?? this.store.unavailable?.() ?? null;
    if (why) throw new TitanError('UNAVAILABLE', `${what}: ${why.message}; try again once it is back`);
  }

  run(run: RunRecord): void {
    this.pending.runs.set(run.runId, run);
    this.schedule();
  }

  newJob(job: JobRecord): void {
    this.pending.newJobs.set(jobRef(job.runId, job.spec.id), job);
    this.schedule();
  }

  job(job: JobRecord): void {
    const key = jobRef(job.runId, job.spec.id);
    // A job created in this same batch is inserted once, with its latest fields (the caller may
    // pass the same object or a newer copy).
    if (this.pending.newJobs.has(key)) this.pending.newJobs.set(key, job);
    else this.pending.jobs.set(key, job);
    this.schedule();
  }

  attempt(a: AttemptRecord): void {
    this.pending.attempts.set(`${a.runId}/${a.jobId}#${a.attempt}`, { ...a });
    this.schedule();
  }

  decision(d: GateDecision): void {
    this.pending.decisions.push(d);
    this.schedule();
  }

  /** Runs `fn` once everything staged so far is durable. */
  afterCommit(fn: () => void): void {
    this.pending.after.push(fn);
    this.schedule();
  }

  /** Resolves once everything staged so far is durable. */
  flushed(): Promise<void> {
    return new Promise((resolve) => this.afterCommit(resolve));
  }

  /**
   * For reads that must see what was acknowledged: flushed(), but while a batch is held it does
   * not wait for the store to come back. A store that still answers reads (a full disk) is read
   * at once: nothing held was acknowledged, so what it holds is all that was. One that does not
   * (a server out of reach) fails at once with UNAVAILABLE.
   */
  readable(): Promise<void> {
    if (this.held?.readsWork) return Promise.resolve();
    if (this.held) return Promise.reject(new TitanError('UNAVAILABLE', `${this.held.message}; try again once it is back`));
    return this.flushed();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    // One transaction at a time; what arrives meanwhile forms the next batch.
    if (this.inFlight) await this.inFlight;
    this.scheduled = false;
    const batch = this.pending;
    this.pending = fresh();
    const records: StoreBatch = {
      runs: [...batch.runs.values()],
      newJobs: [...batch.newJobs.values()],
      jobs: [...batch.jobs.values()],
      attempts: [...batch.attempts.values()],
      decisions: batch.decisions,
      id: `${this.idPrefix}-${++this.seq}`,
    };
    const work = this.commitHeld(records)
      .then(() => {
        this.commits++;
        for (const fn of batch.after) fn();
      })
      .catch((err: unknown) => this.onFatal(err instanceof Error ? err : new Error(String(err))));
    this.inFlight = work;
    await work;
    if (this.inFlight === work) this.inFlight = null;
  }

  /** Waits `ms`, or less once a store that can tell says it is reachable again. */
  private async pause(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, until - Date.now())));
      if (this.store.unavailable !== undefined && this.store.unavailable() === null) return;
    }
  }

  /** Commits the batch, holding it and trying again (same id) while the store is unavailable. */
  private async commitHeld(batch: StoreBatch): Promise<void> {
    for (let wait = RETRY_MS.first; ; wait = Math.min(wait * 2, RETRY_MS.max)) {
      try {
        await this.store.commit(batch);
        if (this.held) this.log('the store is back: the held commit went through and the master goes on');
        this.held = null;
        return;
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        if (!this.held) this.log(`${err.message}: holding the commit in flight (nothing it contains is acknowledged) and trying again until it goes through; new submissions are refused meanwhile`);
        this.held = err;
        await this.pause(wait);
      }
    }
  }
}
