/**
 * The run table: every active run in memory, the newest active run of each bare job id, and the
 * finished runs being read back (reopened) or deleted. A run enters with `adopt` and leaves with
 * `retire` once it finishes; queries for it then go to the store.
 */
import { TitanError } from '../../core/errors.js';
import type { JobRecord } from '../../core/model.js';
import { jobRef, parseJobRef } from '../../core/model.js';
import type { RunState } from '../../core/run-state.js';
import { restoreRun } from '../../core/run-transitions.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../clock.js';
import type { Committer } from '../committer.js';
import type { Timers } from '../timers.js';
import type { WorkerEntry } from '../workers.js';
import type { EventBus, MasterEvents } from './events.js';

export interface RunTableDeps {
  store: Store;
  committer: Committer;
  clock: Clock;
  timers: Timers;
  bus: EventBus<MasterEvents>;
}

export class RunTable {
  private readonly runs = new Map<string, RunState>();
  /** Runs being deleted, and finished runs being read back to reopen: the two exclude each other. */
  readonly deleting = new Set<string>();
  private readonly reopening = new Map<string, number>();
  /** Bare job id → the newest active run that has it. */
  private readonly latestRun = new Map<string, string>();

  constructor(private readonly d: RunTableDeps) {}

  get(runId: string): RunState | undefined {
    return this.runs.get(runId);
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  get size(): number {
    return this.runs.size;
  }

  values(): IterableIterator<RunState> {
    return this.runs.values();
  }

  /** The job of an active run. */
  job(runId: string, jobId: string): JobRecord | undefined {
    return this.runs.get(runId)?.jobs.get(jobId);
  }

  adopt(state: RunState): void {
    this.runs.set(state.run.runId, state);
    for (const jobId of state.jobs.keys()) this.latestRun.set(jobId, state.run.runId);
  }

  /** A bare job id now names this run's job first (jobs added to a run). */
  claimJobId(jobId: string, runId: string): void {
    this.latestRun.set(jobId, runId);
  }

  /** The finished run leaves memory, with its timers and the watchers of it. */
  retire(state: RunState): void {
    const runId = state.run.runId;
    this.runs.delete(runId);
    this.d.bus.dropKey('run', runId);
    this.d.bus.dropKey('jobs', runId);
    for (const jobId of state.jobs.keys()) {
      if (this.latestRun.get(jobId) === runId) this.latestRun.delete(jobId);
      this.d.timers.cancel(jobRef(runId, jobId));
    }
  }

  /** Whether deleting the run must be refused: it is active, or being deleted or reopened. */
  inUse(runId: string): boolean {
    return this.runs.has(runId) || this.deleting.has(runId) || this.reopening.has(runId);
  }

  /** Whether the run exists and is not being deleted (artifacts may be published to it). */
  async exists(runId: string): Promise<boolean> {
    return !this.deleting.has(runId) && (this.runs.has(runId) || (await this.d.store.getRun(runId)) !== null);
  }

  /** The run in memory, or read back from the store (its callers adopt it before they change it). */
  async liveRun(runId: string): Promise<RunState> {
    const held = this.runs.get(runId);
    if (held) return held;
    const restored = await this.reopen(runId);
    // Another call may have reopened and adopted it meanwhile: one state per run.
    return this.runs.get(runId) ?? restored;
  }

  /**
   * A finished run read back from the store, to retry or extend it. While it is read, deleting
   * it is refused, and a deletion already under way makes it NOT_FOUND, so a reopened run never
   * commits against records that are gone.
   */
  private async reopen(runId: string): Promise<RunState> {
    if (this.deleting.has(runId)) throw new TitanError('NOT_FOUND', `run ${runId} is being deleted`);
    this.reopening.set(runId, (this.reopening.get(runId) ?? 0) + 1);
    try {
      const run = await this.d.store.getRun(runId);
      if (!run) throw new TitanError('NOT_FOUND', `no run ${runId}`);
      return restoreRun(run, await this.d.store.getRunJobs(runId), this.d.clock.now()).state;
    } finally {
      const n = (this.reopening.get(runId) ?? 1) - 1;
      if (n === 0) this.reopening.delete(runId);
      else this.reopening.set(runId, n);
    }
  }

  /**
   * Resolves a job reference against active runs first, then the store. Titan's clients address
   * DAG jobs as `DAG-<id>`, so that spelling finds the job `<id>` when no job has the full name.
   */
  async resolve(ref: string): Promise<JobRecord> {
    const { runId, jobId } = parseJobRef(ref);
    const found = await this.find(runId, jobId);
    const legacy = !found && jobId.startsWith('DAG-') ? await this.find(runId, jobId.slice(4)) : null;
    const job = found ?? legacy;
    if (!job) throw new TitanError('NOT_FOUND', runId ? `no job ${jobId} in run ${runId}` : `no job ${jobId}`);
    return job;
  }

  private async find(runId: string | null, jobId: string): Promise<JobRecord | null> {
    const active = this.runs.get(runId ?? this.latestRun.get(jobId) ?? '')?.jobs.get(jobId);
    if (active) return active;
    await this.d.committer.readable();
    return this.d.store.findJob(jobId, runId);
  }

  /** The job a reference names in an active run (CONFLICT when its run has finished). */
  async resolveActive(ref: string): Promise<{ state: RunState; job: JobRecord }> {
    const job = await this.resolve(ref);
    const state = this.runs.get(job.runId);
    const live = state?.jobs.get(job.spec.id);
    if (!state || !live) throw new TitanError('CONFLICT', `job ${jobRef(job.runId, job.spec.id)} is already ${job.status}`);
    return { state, job: live };
  }

  /** The services running on a worker, with their ports. */
  servicesOn(w: WorkerEntry): { ref: string; port: number | null }[] {
    const out: { ref: string; port: number | null }[] = [];
    for (const ref of w.attempts) {
      const { runId, jobId } = parseJobRef(ref);
      const svc = this.runs.get(runId ?? '')?.jobs.get(jobId)?.service;
      if (svc) out.push({ ref, port: svc.port });
    }
    return out;
  }
}
