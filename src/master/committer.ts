/**
 * Group commit: every record staged during one event-loop turn is written in one store
 * transaction, and only then are the turn's acknowledgements and messages released. A reply or
 * a dispatch therefore never gets ahead of the state it depends on.
 */
import type { AttemptRecord, GateDecision, JobRecord, RunRecord } from '../core/model.js';
import { jobKey } from '../core/model.js';
import type { Store } from '../store/store.js';

interface Pending {
  runs: Map<string, RunRecord>;
  newJobs: Map<string, JobRecord>;
  jobs: Map<string, JobRecord>;
  attempts: Map<string, AttemptRecord>;
  decisions: GateDecision[];
  after: (() => void)[];
}

const fresh = (): Pending => ({ runs: new Map(), newJobs: new Map(), jobs: new Map(), attempts: new Map(), decisions: [], after: [] });

export class Committer {
  private pending = fresh();
  private scheduled = false;
  private inFlight: Promise<void> | null = null;
  /** Commits so far and records written, for stats. */
  commits = 0;

  constructor(
    /** Only commits: reads go to the store directly. */
    private readonly store: Pick<Store, 'commit'>,
    private readonly onFatal: (err: Error) => void,
  ) {}

  run(run: RunRecord): void {
    this.pending.runs.set(run.runId, run);
    this.schedule();
  }

  newJob(job: JobRecord): void {
    this.pending.newJobs.set(jobKey(job.runId, job.spec.id), job);
    this.schedule();
  }

  job(job: JobRecord): void {
    const key = jobKey(job.runId, job.spec.id);
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
    const work = this.store
      .commit({ runs: [...batch.runs.values()], newJobs: [...batch.newJobs.values()], jobs: [...batch.jobs.values()], attempts: [...batch.attempts.values()], decisions: batch.decisions })
      .then(() => {
        this.commits++;
        for (const fn of batch.after) fn();
      })
      .catch((err: unknown) => this.onFatal(err instanceof Error ? err : new Error(String(err))));
    this.inFlight = work;
    await work;
    if (this.inFlight === work) this.inFlight = null;
  }
}
