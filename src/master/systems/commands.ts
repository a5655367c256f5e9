/**
 * The commands that change runs: submit, extend, decide a gate, cancel, retry, stop a service,
 * delete and prune. Each resolves what it acts on, then goes through one helper, `change`: check
 * that the store takes commits, let the core decide, apply its effects and wait for the commit.
 * A refused check or decision leaves every run as it was and publishes nothing.
 */
import { randomBytes } from 'node:crypto';
import { validateDag } from '../../core/dag.js';
import { TitanError } from '../../core/errors.js';
import type { JobRecord, JobSpec, RunSpec } from '../../core/model.js';
import { jobRef, parseJobRef } from '../../core/model.js';
import type { Effect, RunState } from '../../core/run-state.js';
import { cancelJob, cancelRun, createRun, decideGate, extendRun, retryJob } from '../../core/run-transitions.js';
import { resolveAddedJobs, resolveRunFlow, type Resolved } from '../../core/flow-resolve.js';
import { decideSubmission, replacedReason } from '../../core/run-once.js';
import { stopService } from '../../core/service-transitions.js';
import type { GateDecisionResult, JobView, SubmitResult } from '../../protocol/methods.js';
import { decideTitanGate } from '../titan-gates.js';
import type { EffectSink, MasterResources } from './resources.js';

/** Where a submission comes from: the client's request id, and the run of the job that sent it. */
export interface RunOrigin {
  requestId?: string;
  startedBy?: string;
}

/** One change of a run, as `change` carries it out. */
export interface Change {
  /** What was refused, for the UNAVAILABLE error while the store cannot take commits. */
  refused: string;
  /** The core's decision and the run it is about; null when the run's state allows none. */
  decide(now: number): { state: RunState; effects: readonly Effect[] } | null;
  /** Why nothing could be done (CONFLICT), when `decide` returns null. */
  conflict?: () => string;
  /** Records staged with the decision, before its effects (the jobs a run gains). */
  stage?(state: RunState): void;
}

export class Commands {
  /** Submissions with a client request id not yet durable: a retry of one joins it. */
  private readonly submitting = new Map<string, Promise<SubmitResult>>();

  constructor(
    private readonly r: MasterResources,
    private readonly effects: EffectSink,
  ) {}

  /**
   * resolve → check → core → apply → commit, the second half: the store must take commits, the
   * core must allow the change; only then is the run adopted (a reopened one), the change
   * applied, and the call answered once it is durable.
   */
  async change(c: Change): Promise<readonly Effect[]> {
    this.r.committer.checkAvailable(c.refused);
    const decided = c.decide(this.r.clock.now());
    if (!decided) throw new TitanError('CONFLICT', c.conflict?.() ?? c.refused);
    const { state, effects } = decided;
    if (!this.r.runs.has(state.run.runId)) this.r.runs.adopt(state);
    c.stage?.(state);
    this.effects.apply(state, effects);
    await this.r.committer.flushed();
    return effects;
  }

  /**
   * Creates a run. With a `requestId`, submitting again (a client retrying after a lost reply)
   * returns the run the first submission created instead of creating another. `startedBy` is
   * the run of the job whose token submitted it.
   */
  async submit(spec: RunSpec, origin: RunOrigin = {}): Promise<SubmitResult> {
    const { requestId } = origin;
    if (requestId === undefined) return this.createRun(spec, origin);
    const pending = this.submitting.get(requestId);
    if (pending) return pending;
    const work = (async () => {
      const refused = 'the submission was not accepted';
      this.r.committer.checkAvailable(refused);
      await this.r.committer.readable();
      const earlier = await this.r.store.findRunByRequest(requestId).catch((err: unknown) => {
        throw err instanceof TitanError && err.code === 'UNAVAILABLE' ? new TitanError('UNAVAILABLE', `${refused}: ${err.message}`) : err;
      });
      if (earlier) return { runId: earlier.runId, jobs: spec.jobs.map((j) => j.id) };
      return this.createRun(spec, origin);
    })();
    this.submitting.set(requestId, work);
    try {
      return await work;
    } finally {
      this.submitting.delete(requestId);
    }
  }

  /**
   * Creates the run, unless an unfinished run holds its singleton key (then that run is the
   * answer); the runs its debounce key replaces are cancelled in the same commit.
   */
  private async createRun(submitted: RunSpec, origin: RunOrigin): Promise<SubmitResult> {
    const problems = validateDag(submitted.jobs);
    if (problems.length > 0) throw new TitanError('INVALID_DAG', problems.map((p) => p.message).join('; '));
    this.checkScripts(submitted.jobs);
    const runId = this.newRunId();
    const spec = flowResolved(resolveRunFlow(runId, submitted));
    // Decided and applied in one turn of the event loop: no other submission sees the runs in between.
    const once = decideSubmission(spec, [...this.r.runs.values()].map((s) => s.run), this.r.clock.now());
    if (once.kind === 'held') {
      const holder = this.r.runs.get(once.heldBy);
      // The holder may have been submitted this very turn: answer once it is durable.
      await this.r.committer.flushed();
      return { runId: once.heldBy, jobs: holder ? [...holder.jobs.keys()] : [], singleton: { key: once.key, heldBy: once.heldBy } };
    }
    const created = this.change({
      refused: 'the submission was not accepted',
      decide: (now) => createRun(runId, spec, now, origin),
      stage: (state) => {
        for (const job of state.jobs.values()) this.r.committer.newJob(job);
        this.r.totals.submitted += spec.jobs.length;
      },
    });
    const replaced = once.replaces.flatMap((id) => {
      const state = this.r.runs.get(id);
      if (!state) return [];
      const reason = replacedReason(runId, spec.debounce?.key ?? '');
      return [this.change({ refused: 'the submission was not accepted', decide: (now) => ({ state, effects: cancelRun(state, now, reason) }) })];
    });
    await Promise.all([created, ...replaced]);
    return { runId, jobs: spec.jobs.map((j) => j.id), ...(once.replaces.length > 0 && { replaced: once.replaces }) };
  }

  /** Refuses jobs whose script or archive was not uploaded first. */
  checkScripts(jobs: readonly JobSpec[]): void {
    const missing = jobs.flatMap((j) => [j.script, j.archive, j.payload].filter((f) => f !== undefined && !this.r.blobs.has(f.sha256)).map((f) => ({ job: j.id, name: f?.name })));
    if (missing.length > 0) {
      const names = missing.map((m) => `${m.name} (job ${m.job})`);
      throw new TitanError('BAD_REQUEST', `scripts were not uploaded before submission: ${names.slice(0, 5).join(', ')}`);
    }
  }

  /**
   * Adds jobs to a run: from one of its own jobs (parents may be any job of the run, the caller
   * included) or from outside by run id. A finished run is reopened from the store.
   */
  async extendRun(runId: string, added: JobSpec[], addedBy?: string): Promise<{ runId: string; jobs: string[] }> {
    const state = await this.r.runs.liveRun(runId);
    const problems = validateDag(added, new Set(state.jobs.keys()));
    if (problems.length > 0) throw new TitanError('INVALID_DAG', problems.map((p) => p.message).join('; '));
    this.checkScripts(added);
    const jobs = flowResolved(resolveAddedJobs(state.run, added));
    await this.change({
      refused: `the jobs were not added to run ${runId}`,
      decide: (now) => ({ state, effects: extendRun(state, jobs, now, addedBy) }),
      stage: () => {
        for (const spec of jobs) {
          this.r.runs.claimJobId(spec.id, runId);
          this.r.committer.newJob(state.jobs.get(spec.id) as JobRecord);
        }
        this.r.totals.submitted += jobs.length;
      },
    });
    return { runId, jobs: jobs.map((j) => j.id) };
  }

  /**
   * Approves or rejects an open gate, native or Titan-style; who, when and why are recorded.
   * A ref that names no approval job is tried as a Titan gate id.
   */
  async decideGate(ref: string, approved: boolean, by: string, comment: string | null): Promise<GateDecisionResult> {
    const { runs, committer, jobViews } = this.r;
    const job = await runs.resolve(ref).catch((err: unknown) => {
      if (err instanceof TitanError && err.code === 'NOT_FOUND') return null;
      throw err;
    });
    if (job?.spec.kind === 'approval') {
      const { state, job: live } = await runs.resolveActive(ref);
      await this.change({
        refused: 'the decision was not recorded',
        decide: (now) => withState(state, decideGate(state, live.spec.id, approved, by, comment, now)),
        conflict: () => `gate ${jobRef(live.runId, live.spec.id)} is ${live.status}, not waiting for a decision`,
      });
      return { ref: jobRef(live.runId, live.spec.id), approved, job: jobViews.one(live) };
    }
    const gate = parseJobRef(ref).jobId.replace(/^DAG-/, '');
    if (await decideTitanGate(this.r.kv, gate, approved)) {
      // The audit names the job running the gate script when there is one; only a running run
      // takes records (a finished one may be deleted meanwhile).
      if (job && runs.has(job.runId)) committer.decision({ runId: job.runId, jobId: job.spec.id, approved, by, comment, at: this.r.clock.now(), reason: 'decided' });
      await committer.flushed();
      return { ref: gate, approved, job: job ? jobViews.one(job) : null };
    }
    if (job) throw new TitanError('CONFLICT', `job ${jobRef(job.runId, job.spec.id)} is not a gate waiting for a decision`);
    throw new TitanError('NOT_FOUND', `no gate ${ref}`);
  }

  async cancelJob(ref: string): Promise<JobView> {
    const { state, job } = await this.r.runs.resolveActive(ref);
    await this.change({
      refused: 'the job was not cancelled',
      decide: (now) => withState(state, cancelJob(state, job.spec.id, now)),
      conflict: () => `job ${jobRef(job.runId, job.spec.id)} is already ${job.status}`,
    });
    return this.r.jobViews.one(job);
  }

  /** Runs a job that died or was cancelled again, with a fresh retry budget (see core retryJob). */
  async retryJob(ref: string): Promise<JobView> {
    const job = await this.r.runs.resolve(ref);
    const state = await this.r.runs.liveRun(job.runId);
    const live = state.jobs.get(job.spec.id) as JobRecord;
    await this.change({
      refused: 'the job was not retried',
      decide: (now) => withState(state, retryJob(state, live.spec.id, now)),
      conflict: () => `job ${jobRef(live.runId, live.spec.id)} is ${live.status}: only a DEAD or CANCELLED job can be retried`,
    });
    return this.r.jobViews.one(live);
  }

  async cancelRun(runId: string): Promise<number> {
    const state = this.r.runs.get(runId);
    if (!state) {
      const run = await this.r.store.getRun(runId);
      if (!run) throw new TitanError('NOT_FOUND', `no run ${runId}`);
      throw new TitanError('CONFLICT', `run ${runId} is already ${run.status}`);
    }
    const effects = await this.change({ refused: 'the run was not cancelled', decide: (now) => ({ state, effects: cancelRun(state, now) }) });
    return effects.filter((e) => e.type === 'job' && e.job.status === 'CANCELLED').length;
  }

  /** Stops a service for good: its process is killed and it is not restarted. */
  async stopService(ref: string): Promise<JobView> {
    const { state, job } = await this.r.runs.resolveActive(ref);
    if (job.spec.kind !== 'service') throw new TitanError('BAD_REQUEST', `job ${jobRef(job.runId, job.spec.id)} is not a service (cancel it instead)`);
    await this.change({
      refused: 'the service was not stopped',
      decide: (now) => withState(state, stopService(state, job.spec.id, now)),
      conflict: () => `service ${jobRef(job.runId, job.spec.id)} is already ${job.status}`,
    });
    return this.r.jobViews.one(job);
  }

  /**
   * Deletes a finished run: its records (jobs, attempts, gate decisions), its logs and the
   * artifacts its jobs published; false when there is no such run. A run that is running, or
   * was just reopened by a retry or an extension, is refused with CONFLICT.
   */
  async deleteRun(runId: string): Promise<boolean> {
    const { runs } = this.r;
    if (runs.inUse(runId)) throw new TitanError('CONFLICT', `run ${runId} is active or in use: cancel it first, or try again`);
    this.r.committer.checkAvailable(`run ${runId} was not deleted`);
    runs.deleting.add(runId);
    try {
      const run = await this.r.store.getRun(runId);
      if (!run) return false;
      if (run.status === 'RUNNING') throw new TitanError('CONFLICT', `run ${runId} is still running: cancel it first`);
      // Files first, the records last: a deletion that fails half-way can be run again.
      await this.r.artifacts.deleteRun(runId);
      this.r.logs.removeRun(runId);
      return await this.r.store.deleteRun(runId);
    } finally {
      runs.deleting.delete(runId);
    }
  }

  /** Deletes the finished runs that finished before `cutoff` (ms); returns how many. */
  async pruneRuns(cutoff: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = (await this.r.store.finishedRunsBefore(cutoff, 100)).filter((id) => !this.r.runs.has(id));
      let round = 0;
      for (const id of ids) if (await this.deleteRun(id).catch(() => false)) round++;
      removed += round;
      // Stops when nothing more could go (a run reopened meanwhile, or a failing store).
      if (round === 0) return removed;
    }
  }

  private newRunId(): string {
    return `r${this.r.clock.now().toString(36)}${randomBytes(3).toString('hex')}`;
  }
}

/** A decision of the core about `state`, or null when it made none. */
const withState = (state: RunState, effects: readonly Effect[] | null): { state: RunState; effects: readonly Effect[] } | null => (effects ? { state, effects } : null);

/** A submission's flow keys, filled in, or BAD_REQUEST naming every key that could not be. */
function flowResolved<T>(r: Resolved<T>): T {
  if (r.value === null) throw new TitanError('BAD_REQUEST', r.errors.join('; '));
  return r.value;
}
