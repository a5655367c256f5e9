/**
 * The running master: it owns the in-memory state of every active run, applies the core's
 * decisions, commits them through the group committer and only then lets the outside world see
 * them (replies, dispatches, events). It knows no transport: the server adapts sessions to the
 * methods here.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { validateDag } from '../core/dag.js';
import { DEFAULT_MAX_ARTIFACT_BYTES } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import type { AgentRunSummary, AttemptRecord, GateDecision, JobRecord, JobSpec, JobStatus, RunRecord, RunSpec, WorkerInfo } from '../core/model.js';
import { isTerminal, jobKey, LIMITS, parseJobRef, workerIdOf } from '../core/model.js';
import { capabilityLane, comesFirst, type QueuedItem, ReadyQueue, workerLane } from '../core/ready-queue.js';
import { DEFAULT_MAX_LOST_ATTEMPTS } from '../core/retry.js';
import { pickWorker } from '../core/routing.js';
import type { AttemptResult, Effect, RunState } from '../core/run-state.js';
import { type AttemptClaim, claimOf, isRunningOn } from '../core/attempt-claims.js';
import { affinityTarget, cancelJob, cancelRun, createRun, decideGate, extendRun, finishAttempt, gateDeadline, isCurrentAttempt, restoreRun, retryJob, serviceReported, startAttempt, stopService, timerDue } from '../core/run-state.js';
import type { AgentRunView, AttemptId, Dispatch, FinishedAttempt, GateDecisionResult, GateView, JobView, LogChunk, PoolView, RunSummary, RunView, ServiceReport, ServiceView, Stats, WorkerView } from '../protocol/methods.js';
import { parseRunCursor, runCursor } from '../protocol/methods.js';
import type { Store } from '../store/store.js';
import { ArtifactStore } from './artifacts.js';
import { PipelineParser } from './pipeline-parser.js';
import { type AutoscaleOptions, Autoscaler, type DesiredCount, type ScalingTarget } from './autoscaler.js';
import { BlobStore } from './blob-store.js';
import { type Clock, systemClock } from './clock.js';
import { Committer } from './committer.js';
import { DEFAULT_MIN_FREE_BYTES, DiskWatch } from './disk-watch.js';
import { FileArea } from './file-area.js';
import { JobViews } from './job-views.js';
import { MetricsHistory } from './metrics-history.js';
import { KvService } from './kv.js';
import { LogCap } from './log-cap.js';
import { LogStore } from './log-store.js';
import { Schedules } from './schedules.js';
import { Timers } from './timers.js';
import { decideTitanGate, listTitanGates } from './titan-gates.js';
import { type FinishedHere, type WorkerLink, WorkerEntry } from './workers.js';
import { WorkerNames } from './worker-names.js';

export interface MasterOptions {
  dataDir: string;
  store: Store;
  clock?: Clock;
  random?: () => number;
  /** A worker silent for this long is dead and its attempts run again elsewhere. */
  workerTimeoutMs?: number;
  /** After a restart, how long running attempts wait for their workers to reclaim them. */
  reclaimGraceMs?: number;
  /** Called when the store fails: the master cannot keep its promises and must stop. */
  onFatal?: (err: Error) => void;
  /** The largest artifact accepted, in bytes (default 512 MiB). */
  maxArtifactBytes?: number;
  /** The most output one attempt keeps on the master, in bytes (default 128 MiB). */
  maxLogBytes?: number;
  /** The most job output kept in all, in bytes: past it the logs of finished runs go, oldest first (default: no cap). */
  maxLogsBytes?: number;
  /** Ports assigned to services that ask for none, inclusive (default 20000-29999). */
  servicePorts?: readonly [number, number];
  /** Starts and stops ephemeral workers by the load of each pool; off when absent. */
  autoscale?: AutoscaleOptions;
  /** Hears each change of a pool's desired worker count (the scale webhook). */
  onDesired?: (count: DesiredCount) => void;
  /** The token a job of this run gets as TITAN_TOKEN (see protocol/derived-tokens.ts). */
  jobToken: (a: AttemptId) => string;
  /** Attempts of one job the infrastructure may lose before the job is given up (default 10). */
  maxLostAttempts?: number;
  /** Where the master says what it did on its own (a worker declared dead, attempts re-queued). */
  log?: (line: string) => void;
  /** Below this much free space on the data directory's disk the master warns (default 256 MiB). */
  minFreeBytes?: number;
}

/** Where a submission comes from: the client's request id, and the run of the job that sent it. */
export interface RunOrigin {
  requestId?: string;
  startedBy?: string;
}

export const DEFAULT_SERVICE_PORTS: readonly [number, number] = [20_000, 29_999];

export interface RunWatcher {
  /** The jobs changed by one commit; omit it to hear only about the run itself. */
  jobs?(jobs: JobView[]): void;
  run(run: RunRecord): void;
}

/** Everything that changes anywhere in the cluster (the dashboard's live feed). */
export interface ClusterWatcher {
  /** Jobs of one run changed in one commit. */
  jobs(runId: string, jobs: JobView[]): void;
  run(run: RunRecord): void;
  /** A worker joined, left, or changed state. */
  workers(): void;
}

export interface LogFollower {
  data(attempt: number, data: string): void;
  end(status: JobStatus): void;
}

export const HEARTBEAT_MS = 2000;

export class Master {
  readonly store: Store;
  readonly logs: LogStore;
  readonly blobs: BlobStore;
  readonly kv: KvService;
  readonly artifacts: ArtifactStore;
  /** Titan's `uploads/`: assets and project archives, by name. */
  readonly uploads: FileArea;
  /** Titan's script library (`perm_files/`): scripts deployed by name to run or serve later. */
  readonly registry: FileArea;
  /** Parses pipeline YAML that clients send, off the event loop. */
  readonly pipelines = new PipelineParser();
  /** Pipelines submitted on cron schedules. */
  readonly schedules: Schedules;
  private readonly clock: Clock;
  private readonly jobToken: (a: AttemptId) => string;
  private readonly random: () => number;
  private readonly committer: Committer;
  /** A worker silent for this long is dead; workers hear it, to stop their jobs when cut off as long. */
  readonly workerTimeoutMs: number;
  private readonly maxLost: number;
  private readonly log: (line: string) => void;
  private readonly reclaimGraceMs: number;
  private readonly servicePorts: readonly [number, number];
  private readonly startedAt: number;

  private readonly runs = new Map<string, RunState>();
  /** Runs being deleted, and finished runs being read back to reopen: the two exclude each other. */
  private readonly deleting = new Set<string>();
  private readonly reopening = new Map<string, number>();
  /** Bare job id → the newest active run that has it. */
  private readonly latestRun = new Map<string, string>();
  private readonly queue = new ReadyQueue();
  private readonly timers: Timers;
  private readonly workers = new Map<string, WorkerEntry>();
  private readonly views = new JobViews(this.runs, this.workers, (w) => this.servicesOn(w));
  private readonly names: WorkerNames;
  /** Attempts found RUNNING at start-up that no worker has reclaimed yet. */
  private readonly unclaimed = new Map<string, { workerId: string; attempt: number }>();
  /** When each job waiting in a capability lane was queued; kept only for the autoscaler. */
  private readonly queuedSince = new Map<string, { pool: string; at: number }>();
  private readonly autoscaler: Autoscaler | null;
  /** The last hour in 10 s samples, for the dashboard's charts. */
  readonly history: MetricsHistory;
  private readonly disk: DiskWatch;
  private readonly logCap: LogCap | null;
  private readonly runWatchers = new Map<string, Set<RunWatcher>>();
  private readonly clusterWatchers = new Set<ClusterWatcher>();
  /** What to do when an attempt stops running (its job's token sessions close), by job key. */
  private readonly attemptEnders = new Map<string, Set<{ attempt: number; fn: () => void }>>();
  private readonly jobWatchers = new Map<string, Set<(job: JobRecord) => void>>();
  private readonly agentWatchers = new Map<string, Set<(run: RunRecord) => void>>();
  private kicked = false;
  private sweeper: { cancel(): void } | null = null;
  private closed = false;
  private readonly totals = { submitted: 0, completed: 0, dead: 0, attempts: 0, retried: 0 };
  /** Submissions with a client request id not yet durable: a retry of one joins it. */
  private readonly submitting = new Map<string, Promise<{ runId: string; jobs: string[] }>>();

  constructor(options: MasterOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.jobToken = options.jobToken;
    this.random = options.random ?? Math.random;
    this.workerTimeoutMs = options.workerTimeoutMs ?? 10_000;
    this.maxLost = options.maxLostAttempts ?? DEFAULT_MAX_LOST_ATTEMPTS;
    this.log = options.log ?? ((line) => void process.stderr.write(`titan master: ${line}\n`));
    this.reclaimGraceMs = options.reclaimGraceMs ?? 15_000;
    this.names = new WorkerNames(this.clock, this.workerTimeoutMs, this.workers, this.unclaimed);
    this.servicePorts = options.servicePorts ?? DEFAULT_SERVICE_PORTS;
    this.startedAt = this.clock.now();
    const logDir = join(options.dataDir, 'logs');
    this.logCap = options.maxLogsBytes ? new LogCap({ dir: logDir, capBytes: options.maxLogsBytes, isActive: (runId) => this.runs.has(runId), remove: (runId, note) => this.logs.removeRun(runId, note), clock: this.clock, log: this.log }) : null;
    this.logs = new LogStore(logDir, { ...(options.maxLogBytes !== undefined && { maxBytes: options.maxLogBytes }), log: this.log, ...(this.logCap && { usage: this.logCap }) });
    this.blobs = new BlobStore(join(options.dataDir, 'blobs'), LIMITS.maxBlobBytes);
    const onFatal =
      options.onFatal ??
      ((err: Error) => {
        process.stderr.write(`titan master: the store failed, stopping so that no unrecorded work is acknowledged: ${err.message}\n`);
        process.exit(70);
      });
    this.committer = new Committer(this.store, onFatal, this.log);
    this.kv = new KvService(this.store, this.clock, onFatal);
    this.artifacts = new ArtifactStore(join(options.dataDir, 'artifacts'), this.store, this.clock, options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES, async (runId) => !this.deleting.has(runId) && (this.runs.has(runId) || (await this.store.getRun(runId)) !== null));
    this.uploads = new FileArea(join(options.dataDir, 'uploads'), options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES);
    this.registry = new FileArea(join(options.dataDir, 'scripts'), LIMITS.maxScriptBytes);
    this.timers = new Timers(this.clock, (key) => this.onTimer(key));
    this.history = new MetricsHistory(this.clock, {
      totals: () => ({ completed: this.totals.completed, dead: this.totals.dead }),
      now: () => {
        const w = this.workerTotals();
        return { queued: this.queue.size, busySlots: w.busySlots, slots: w.slots, workers: w.connected };
      },
    });
    this.disk = new DiskWatch(options.dataDir, options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES, this.clock, this.log);
    this.autoscaler = options.autoscale ? new Autoscaler(options.autoscale, this.scalingTarget(), this.clock, options.onDesired ?? (() => undefined)) : null;
    this.schedules = new Schedules({ store: this.store, clock: this.clock, submit: (run) => this.submit(run), isRunActive: (runId) => this.isRunActive(runId), check: (run) => this.checkScripts(run.jobs), log: this.log });
  }

  private scalingTarget(): ScalingTarget {
    return {
      workers: () =>
        [...this.workers.values()].map((w) => ({
          id: w.id,
          capabilities: w.capabilities,
          slots: w.slots,
          running: w.running,
          accepting: w.accepting,
          permanent: w.info.permanent,
          spawnedBy: w.info.spawnedBy ?? null,
          idleSince: null,
          connected: w.link !== null,
        })),
      queued: () => {
        const pools = new Map<string, { count: number; oldestAt: number }>();
        for (const { pool, at } of this.queuedSince.values()) {
          const p = pools.get(pool);
          if (p) {
            p.count++;
            p.oldestAt = Math.min(p.oldestAt, at);
          } else pools.set(pool, { count: 1, oldestAt: at });
        }
        return pools;
      },
      spawn: (via, request) => {
        const link = this.workers.get(via)?.link;
        link?.spawnWorker(request);
        return link !== null && link !== undefined;
      },
      stop: (workerId) => {
        if (this.workers.has(workerId)) this.requestShutdown(workerId, false);
      },
    };
  }

  /** Loads every unfinished run and re-arms its queue, timers and reclaim grace. */
  async start(): Promise<void> {
    Object.assign(this.totals, await this.store.totals());
    for (const { run, jobs } of await this.store.loadActiveRuns()) {
      const { state, effects } = restoreRun(run, jobs, this.clock.now());
      this.adopt(state);
      for (const job of jobs) {
        if (job.status !== 'RUNNING' || job.workerId === null) continue;
        this.unclaimed.set(jobKey(run.runId, job.spec.id), { workerId: job.workerId, attempt: job.attempt });
        // The store counts attempts as they end; these are still under way.
        this.totals.attempts++;
        if (job.attempt > 1) this.totals.retried++;
      }
      this.apply(state, effects);
    }
    if (this.unclaimed.size > 0) this.clock.setTimer(() => this.loseUnclaimed(), this.reclaimGraceMs);
    // After the active runs are known: their logs are never trimmed.
    this.logCap?.start();
    this.armSweeper();
    this.disk.start();
    this.autoscaler?.start();
    this.history.start();
    await this.kv.start();
    await this.schedules.start();
    await this.committer.flushed();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sweeper?.cancel();
    await this.schedules.stop();
    this.autoscaler?.stop();
    this.disk.stop();
    this.history.stop();
    for (const w of this.workers.values()) w.link?.close('master shutting down');
    await this.committer.flushed();
    await this.kv.close();
    await this.pipelines.close();
    this.logs.closeAll();
  }

  // ---- submission and control -------------------------------------------------------------

  /**
   * Creates a run. With a `requestId`, submitting again (a client retrying after a lost reply)
   * returns the run the first submission created instead of creating another. `startedBy` is
   * the run of the job whose token submitted it.
   */
  async submit(spec: RunSpec, origin: RunOrigin = {}): Promise<{ runId: string; jobs: string[] }> {
    const { requestId } = origin;
    if (requestId === undefined) return this.createRun(spec, origin);
    const pending = this.submitting.get(requestId);
    if (pending) return pending;
    const work = (async () => {
      const refused = 'the submission was not accepted';
      this.committer.checkAvailable(refused);
      await this.committer.readable();
      const earlier = await this.store.findRunByRequest(requestId).catch((err: unknown) => {
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

  private async createRun(spec: RunSpec, origin: RunOrigin): Promise<{ runId: string; jobs: string[] }> {
    const problems = validateDag(spec.jobs);
    if (problems.length > 0) throw new TitanError('INVALID_DAG', problems.map((p) => p.message).join('; '));
    this.checkScripts(spec.jobs);
    this.committer.checkAvailable('the submission was not accepted');
    const runId = this.newRunId();
    const { state, effects } = createRun(runId, spec, this.clock.now(), origin);
    this.adopt(state);
    for (const job of state.jobs.values()) this.committer.newJob(job);
    this.totals.submitted += spec.jobs.length;
    this.apply(state, effects);
    await this.committer.flushed();
    return { runId, jobs: spec.jobs.map((j) => j.id) };
  }

  private checkScripts(jobs: readonly JobSpec[]): void {
    const missing = jobs.flatMap((j) => [j.script, j.archive].filter((f) => f !== undefined && !this.blobs.has(f.sha256)).map((f) => ({ job: j.id, name: f?.name })));
    if (missing.length > 0) {
      const names = missing.map((m) => `${m.name} (job ${m.job})`);
      throw new TitanError('BAD_REQUEST', `scripts were not uploaded before submission: ${names.slice(0, 5).join(', ')}`);
    }
  }

  /**
   * Adds jobs to a run: from one of its own jobs (parents may be any job of the run, the caller
   * included) or from outside by run id. A finished run is reopened from the store.
   */
  async extendRun(runId: string, jobs: JobSpec[]): Promise<{ runId: string; jobs: string[] }> {
    const state = await this.liveRun(runId);
    const problems = validateDag(jobs, new Set(state.jobs.keys()));
    if (problems.length > 0) throw new TitanError('INVALID_DAG', problems.map((p) => p.message).join('; '));
    this.checkScripts(jobs);
    this.committer.checkAvailable(`the jobs were not added to run ${runId}`);
    const current = state;
    if (!this.runs.has(runId)) this.adopt(current);
    const effects = extendRun(current, jobs, this.clock.now());
    for (const spec of jobs) {
      this.latestRun.set(spec.id, runId);
      this.committer.newJob(current.jobs.get(spec.id) as JobRecord);
    }
    this.totals.submitted += jobs.length;
    this.apply(current, effects);
    await this.committer.flushed();
    return { runId, jobs: jobs.map((j) => j.id) };
  }

  /**
   * Approves or rejects an open gate, native or Titan-style; who, when and why are recorded.
   * A ref that names no approval job is tried as a Titan gate id.
   */
  async decideGate(ref: string, approved: boolean, by: string, comment: string | null): Promise<GateDecisionResult> {
    const job = await this.resolve(ref).catch((err: unknown) => {
      if (err instanceof TitanError && err.code === 'NOT_FOUND') return null;
      throw err;
    });
    if (job?.spec.kind === 'approval') {
      const { state, job: live } = await this.resolveActive(ref);
      this.committer.checkAvailable('the decision was not recorded');
      const effects = decideGate(state, live.spec.id, approved, by, comment, this.clock.now());
      if (!effects) throw new TitanError('CONFLICT', `gate ${jobKey(live.runId, live.spec.id)} is ${live.status}, not waiting for a decision`);
      this.apply(state, effects);
      await this.committer.flushed();
      return { ref: jobKey(live.runId, live.spec.id), approved, job: this.views.one(live) };
    }
    const gate = parseJobRef(ref).jobId.replace(/^DAG-/, '');
    if (await decideTitanGate(this.kv, gate, approved)) {
      // The audit names the job running the gate script when there is one; only a running run
      // takes records (a finished one may be deleted meanwhile).
      if (job && this.runs.has(job.runId)) this.committer.decision({ runId: job.runId, jobId: job.spec.id, approved, by, comment, at: this.clock.now(), reason: 'decided' });
      await this.committer.flushed();
      return { ref: gate, approved, job: job ? this.views.one(job) : null };
    }
    if (job) throw new TitanError('CONFLICT', `job ${jobKey(job.runId, job.spec.id)} is not a gate waiting for a decision`);
    throw new TitanError('NOT_FOUND', `no gate ${ref}`);
  }

  async listAgentRuns(limit: number): Promise<AgentRunSummary[]> {
    await this.committer.readable();
    return this.store.listAgentRuns(limit);
  }

  async getAgentRun(agentRunId: string): Promise<AgentRunView> {
    await this.committer.readable();
    const stages = (await this.store.listAgentRunStages(agentRunId)).map((r) => ({ ...r.run, counts: r.counts, total: r.total }));
    if (stages.length === 0) throw new TitanError('NOT_FOUND', `no agent run ${agentRunId}`);
    return { agentRunId, stages };
  }

  /** The agent run's stages now, then every run that joins it or changes status. */
  async watchAgentRun(agentRunId: string, onStage: (run: RunRecord) => void): Promise<{ snapshot: AgentRunView; stop: () => void }> {
    const snapshot = await this.getAgentRun(agentRunId);
    addTo(this.agentWatchers, agentRunId, onStage);
    return { snapshot, stop: () => this.agentWatchers.get(agentRunId)?.delete(onStage) };
  }

  /** Every gate waiting for a decision, native and Titan-style, oldest first. */
  async listGates(): Promise<GateView[]> {
    const gates: GateView[] = await listTitanGates(this.kv);
    for (const state of this.runs.values()) {
      for (const job of state.jobs.values()) {
        if (job.status !== 'WAITING_APPROVAL') continue;
        gates.push({ ref: jobKey(job.runId, job.spec.id), runId: job.runId, runName: state.run.name, jobId: job.spec.id, message: job.spec.message ?? null, openedAt: job.startedAt ?? job.createdAt, deadline: gateDeadline(job), style: 'native' });
      }
    }
    return gates.sort((a, b) => a.openedAt - b.openedAt);
  }

  async gateHistory(limit: number): Promise<GateDecision[]> {
    await this.committer.readable();
    return this.store.listDecisions(limit);
  }

  async cancelJob(ref: string): Promise<JobView> {
    const { state, job } = await this.resolveActive(ref);
    this.committer.checkAvailable('the job was not cancelled');
    const effects = cancelJob(state, job.spec.id, this.clock.now());
    if (!effects) throw new TitanError('CONFLICT', `job ${jobKey(job.runId, job.spec.id)} is already ${job.status}`);
    this.apply(state, effects);
    await this.committer.flushed();
    return this.views.one(job);
  }

  /** Runs a job that died or was cancelled again, with a fresh retry budget (see core retryJob). */
  async retryJob(ref: string): Promise<JobView> {
    const job = await this.resolve(ref);
    const state = await this.liveRun(job.runId);
    const live = state.jobs.get(job.spec.id) as JobRecord;
    this.committer.checkAvailable('the job was not retried');
    const effects = retryJob(state, live.spec.id, this.clock.now());
    if (!effects) throw new TitanError('CONFLICT', `job ${jobKey(live.runId, live.spec.id)} is ${live.status}: only a DEAD or CANCELLED job can be retried`);
    if (!this.runs.has(state.run.runId)) this.adopt(state);
    this.apply(state, effects);
    await this.committer.flushed();
    return this.views.one(live);
  }

  /** Submits a run's jobs again as a new run (the jobs added at runtime included). */
  async rerun(runId: string): Promise<{ runId: string; jobs: string[] }> {
    const { run, jobs } = await this.getRun(runId);
    return this.submit({ name: run.name, tags: run.tags, ...(run.agentRunId !== null && { agentRunId: run.agentRunId }), jobs: jobs.map((j) => j.spec) });
  }

  /** The run in memory, or read back from the store (its callers adopt it before they change it). */
  private async liveRun(runId: string): Promise<RunState> {
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
      const run = await this.store.getRun(runId);
      if (!run) throw new TitanError('NOT_FOUND', `no run ${runId}`);
      return restoreRun(run, await this.store.getRunJobs(runId), this.clock.now()).state;
    } finally {
      const n = (this.reopening.get(runId) ?? 1) - 1;
      if (n === 0) this.reopening.delete(runId);
      else this.reopening.set(runId, n);
    }
  }

  /**
   * Deletes a finished run: its records (jobs, attempts, gate decisions), its logs and the
   * artifacts its jobs published; false when there is no such run. A run that is running, or
   * was just reopened by a retry or an extension, is refused with CONFLICT.
   */
  async deleteRun(runId: string): Promise<boolean> {
    if (this.runs.has(runId) || this.deleting.has(runId) || this.reopening.has(runId)) throw new TitanError('CONFLICT', `run ${runId} is active or in use: cancel it first, or try again`);
    this.committer.checkAvailable(`run ${runId} was not deleted`);
    this.deleting.add(runId);
    try {
      const run = await this.store.getRun(runId);
      if (!run) return false;
      if (run.status === 'RUNNING') throw new TitanError('CONFLICT', `run ${runId} is still running: cancel it first`);
      // Files first, the records last: a deletion that fails half-way can be run again.
      await this.artifacts.deleteRun(runId);
      this.logs.removeRun(runId);
      return await this.store.deleteRun(runId);
    } finally {
      this.deleting.delete(runId);
    }
  }

  /** Deletes the finished runs that finished before `cutoff` (ms); returns how many. */
  async pruneRuns(cutoff: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = (await this.store.finishedRunsBefore(cutoff, 100)).filter((id) => !this.runs.has(id));
      let round = 0;
      for (const id of ids) if (await this.deleteRun(id).catch(() => false)) round++;
      removed += round;
      // Stops when nothing more could go (a run reopened meanwhile, or a failing store).
      if (round === 0) return removed;
    }
  }

  async cancelRun(runId: string): Promise<number> {
    const state = this.runs.get(runId);
    if (!state) {
      const run = await this.store.getRun(runId);
      if (!run) throw new TitanError('NOT_FOUND', `no run ${runId}`);
      throw new TitanError('CONFLICT', `run ${runId} is already ${run.status}`);
    }
    this.committer.checkAvailable('the run was not cancelled');
    const effects = cancelRun(state, this.clock.now());
    this.apply(state, effects);
    await this.committer.flushed();
    return effects.filter((e) => e.type === 'job' && e.job.status === 'CANCELLED').length;
  }

  /** Stops a service for good: its process is killed and it is not restarted. */
  async stopService(ref: string): Promise<JobView> {
    const { state, job } = await this.resolveActive(ref);
    if (job.spec.kind !== 'service') throw new TitanError('BAD_REQUEST', `job ${jobKey(job.runId, job.spec.id)} is not a service (cancel it instead)`);
    this.committer.checkAvailable('the service was not stopped');
    const effects = stopService(state, job.spec.id, this.clock.now());
    if (!effects) throw new TitanError('CONFLICT', `service ${jobKey(job.runId, job.spec.id)} is already ${job.status}`);
    this.apply(state, effects);
    await this.committer.flushed();
    return this.views.one(job);
  }

  /** A service attempt started its process or passed its readiness probe on `workerId`. */
  serviceReport(workerId: string, report: ServiceReport): void {
    const state = this.runs.get(report.runId);
    const job = state?.jobs.get(report.jobId);
    if (!state || job?.workerId !== workerId) return;
    this.apply(state, serviceReported(state, report.jobId, report.attempt, report, this.clock.now()));
  }

  /** The services of every active run, oldest run first. */
  listServices(): ServiceView[] {
    const out: ServiceView[] = [];
    for (const state of this.runs.values()) {
      for (const job of state.jobs.values()) if (job.service) out.push(serviceView(job, state.run.name));
    }
    return out;
  }

  // ---- queries ------------------------------------------------------------------------------

  /** Whether the run is still active: active runs are the ones in memory. */
  isRunActive(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** Whether this attempt is its job's current one and still running (what keeps a job's token valid). */
  attemptRunning(a: AttemptId): boolean {
    const job = this.runs.get(a.runId)?.jobs.get(a.jobId);
    return job?.status === 'RUNNING' && job.attempt === a.attempt;
  }

  /** Calls `fn` once the attempt is no longer running; returns the function that stops that. */
  onAttemptEnd(a: AttemptId, fn: () => void): () => void {
    if (!this.attemptRunning(a)) {
      fn();
      return () => {};
    }
    const entry = { attempt: a.attempt, fn };
    addTo(this.attemptEnders, jobKey(a.runId, a.jobId), entry);
    return () => this.attemptEnders.get(jobKey(a.runId, a.jobId))?.delete(entry);
  }

  /** The job a reference names, as `runId/jobId` (a bare job id: its latest run). */
  async qualifyRef(ref: string): Promise<{ runId: string; ref: string }> {
    const job = await this.resolve(ref);
    return { runId: job.runId, ref: jobKey(job.runId, job.spec.id) };
  }

  /** Whether a job of run `own` may act on run `target`: its own, or one it submitted. */
  async withinReach(own: string, target: string): Promise<boolean> {
    if (own === target) return true;
    const run = this.runs.get(target)?.run ?? (await this.store.getRun(target));
    return run?.startedBy === own;
  }

  /** The agent run a run belongs to (null for none or an unknown run). */
  async agentRunOf(runId: string): Promise<string | null> {
    const run = this.runs.get(runId)?.run ?? (await this.store.getRun(runId));
    return run?.agentRunId ?? null;
  }

  async getRun(runId: string): Promise<RunView> {
    const state = this.runs.get(runId);
    if (state) return { run: { ...state.run }, jobs: [...state.jobs.values()].map(this.views.batch()) };
    const run = await this.store.getRun(runId);
    if (!run) throw new TitanError('NOT_FOUND', `no run ${runId}`);
    return { run, jobs: (await this.store.getRunJobs(runId)).map(this.views.batch()) };
  }

  /** Runs newest first, a page at a time: `next` (null on the last page) is the `after` of the next page. */
  async listRuns(query: { limit: number; status?: RunRecord['status']; tag?: string; after?: string }): Promise<{ runs: RunSummary[]; next: string | null }> {
    await this.committer.readable();
    const { limit, status, tag, after } = query;
    // One more than asked tells whether another page follows.
    const rows = await this.store.listRuns({ limit: limit + 1, ...(status && { status }), ...(tag !== undefined && { tag }), ...(after !== undefined && { after: parseRunCursor(after) }) });
    const runs = rows.slice(0, limit).map((r) => ({ ...r.run, counts: r.counts, total: r.total }));
    const last = runs[runs.length - 1];
    return { runs, next: rows.length > limit && last ? runCursor(last) : null };
  }

  async getJob(ref: string): Promise<{ job: JobView; attempts: AttemptRecord[] }> {
    const job = await this.resolve(ref);
    await this.committer.readable();
    const attempts = await this.store.listAttempts(job.runId, job.spec.id);
    if (job.status === 'RUNNING' && job.workerId !== null && job.startedAt !== null) {
      attempts.push({ runId: job.runId, jobId: job.spec.id, attempt: job.attempt, workerId: job.workerId, startedAt: job.startedAt, finishedAt: null, outcome: null, exitCode: null, error: null });
    }
    return { job: this.views.one(job), attempts };
  }

  async readLogs(ref: string, attempt: number | undefined, offset: number, limit: number): Promise<LogChunk> {
    const job = await this.resolve(ref);
    const n = attempt ?? Math.max(1, job.attempt);
    if (n > Math.max(1, job.attempt)) throw new TitanError('NOT_FOUND', `job ${jobKey(job.runId, job.spec.id)} has no attempt ${n}`);
    const chunk = this.logs.read(job.runId, job.spec.id, n, offset, limit);
    const attemptOver = n < job.attempt || (job.status !== 'RUNNING' && job.status !== 'QUEUED');
    const lost = this.logs.lostOf(job.runId, job.spec.id, n);
    const removed = chunk.size === 0 ? this.logs.removedNote(job.runId) : null;
    return { attempt: n, data: chunk.data, nextOffset: chunk.nextOffset, complete: attemptOver && chunk.nextOffset >= chunk.size, attempts: job.attempt, ...(lost && { lost }), ...(removed !== null && { removed }) };
  }

  /**
   * Streams a job's output: what the current attempt has written so far, then every new chunk
   * of this and later attempts, then the end when the job is terminal.
   */
  async followLogs(ref: string, follower: LogFollower): Promise<() => void> {
    const job = await this.resolve(ref);
    const key = jobKey(job.runId, job.spec.id);
    const current = Math.max(1, job.attempt);
    for (let offset = 0; ; ) {
      const chunk = this.logs.read(job.runId, job.spec.id, current, offset, 1 << 20);
      if (chunk.data.length === 0) break;
      follower.data(current, chunk.data);
      offset = chunk.nextOffset;
    }
    if (isTerminal(job.status)) {
      follower.end(job.status);
      return () => {};
    }
    const stopLogs = this.logs.listen(job.runId, job.spec.id, (attempt, data) => follower.data(attempt, data));
    const onJob = (j: JobRecord): void => {
      if (!isTerminal(j.status)) return;
      stop();
      follower.end(j.status);
    };
    const stop = (): void => {
      stopLogs();
      this.jobWatchers.get(key)?.delete(onJob);
    };
    addTo(this.jobWatchers, key, onJob);
    return stop;
  }

  /** Live changes of one run; the snapshot and the stream have no gap between them. */
  async watchRun(runId: string, watcher: RunWatcher): Promise<{ snapshot: RunView; stop: () => void }> {
    const snapshot = await this.getRun(runId);
    if (!this.runs.has(runId)) return { snapshot, stop: () => {} };
    addTo(this.runWatchers, runId, watcher);
    return { snapshot, stop: () => this.runWatchers.get(runId)?.delete(watcher) };
  }

  /** Every change in the cluster from now on, until the returned function is called. */
  watchCluster(watcher: ClusterWatcher): () => void {
    this.clusterWatchers.add(watcher);
    return () => this.clusterWatchers.delete(watcher);
  }

  private workersChanged(): void {
    for (const w of this.clusterWatchers) w.workers();
  }

  listWorkers(): WorkerView[] {
    return [...this.workers.values()].map((w) => w.view(this.servicesOn(w)));
  }

  /** Each worker's latest finished attempts, oldest first (for Titan's stats). */
  workerHistory(workerId: string): readonly FinishedHere[] {
    return this.workers.get(workerId)?.history ?? [];
  }

  /** Jobs in the ready queue, waiting out a delay or backoff, and waiting for parents (Titan's stats). */
  waitingCounts(): { queued: number; delayed: number; blocked: number } {
    let delayed = 0;
    let blocked = 0;
    for (const state of this.runs.values()) {
      for (const job of state.jobs.values()) {
        if (job.status === 'FAILED' || (job.status === 'PENDING' && job.notBefore !== null)) delayed++;
        else if (job.status === 'PENDING') blocked++;
      }
    }
    return { queued: this.queue.size, delayed, blocked };
  }

  /** Forgets the workers' recent history (Titan's CLEAN_STATS); running work is untouched. */
  clearHistory(): void {
    for (const w of this.workers.values()) w.history.length = 0;
  }

  /** The services running on a worker, with their ports. */
  private servicesOn(w: WorkerEntry): { ref: string; port: number | null }[] {
    const out: { ref: string; port: number | null }[] = [];
    for (const key of w.attempts) {
      const { runId, jobId } = parseJobRef(key);
      const svc = this.runs.get(runId ?? '')?.jobs.get(jobId)?.service;
      if (svc) out.push({ ref: key, port: svc.port });
    }
    return out;
  }

  stats(): Stats {
    const jobs: Partial<Record<JobStatus, number>> = {};
    const queuedByCapability: Record<string, number> = {};
    for (const state of this.runs.values()) {
      for (const job of state.jobs.values()) {
        jobs[job.status] = (jobs[job.status] ?? 0) + 1;
        if (job.status === 'QUEUED') queuedByCapability[job.spec.requirement] = (queuedByCapability[job.spec.requirement] ?? 0) + 1;
      }
    }
    const disk = this.disk.view();
    return {
      uptimeMs: this.clock.now() - this.startedAt,
      workers: this.workerTotals(),
      pools: this.pools(queuedByCapability),
      autoscaler: this.autoscaler?.view() ?? { enabled: false },
      jobs,
      queuedByCapability,
      runs: { active: this.runs.size },
      totals: { ...this.totals },
      ...(disk && { disk }),
    };
  }

  /** Workers known and connected, and their slots in all and in use. */
  private workerTotals(): Stats['workers'] {
    let connected = 0;
    let slots = 0;
    let busySlots = 0;
    for (const w of this.workers.values()) {
      if (w.link) connected++;
      slots += w.slots;
      busySlots += w.running;
    }
    return { total: this.workers.size, connected, slots, busySlots };
  }

  private pools(queued: Record<string, number>): Record<string, PoolView> {
    const pools: Record<string, PoolView> = {};
    const pool = (name: string): PoolView => (pools[name] ??= { workers: 0, slots: 0, busySlots: 0, queued: queued[name] ?? 0, services: 0 });
    for (const w of this.workers.values()) {
      const services = this.servicesOn(w).length;
      for (const c of w.capabilities) {
        const p = pool(c);
        p.workers++;
        p.slots += w.slots;
        p.busySlots += w.running;
        p.services += services;
      }
    }
    for (const name of Object.keys(queued)) pool(name);
    return pools;
  }

  // ---- workers --------------------------------------------------------------------------------

  /**
   * A worker said HELLO. A name the master still knows needs its credential (`proven`: the name
   * the worker's credential proves, if any). The worker takes no work until it has said what it
   * holds (reclaimAttempts).
   */
  attachWorker(info: WorkerInfo, link: WorkerLink, proven: string | null): string {
    const announced = info.port === 0 ? { ...info, port: this.freePort(info.host) } : info;
    const id = workerIdOf(announced);
    this.names.claim(id, proven);
    const now = this.clock.now();
    let entry = this.workers.get(id);
    let stale: WorkerLink | null = null;
    if (entry?.link) {
      // The same worker process dialling again proves its old connection dead, even if this side
      // has not noticed (a half-open TCP connection): take the new one. Another process is refused.
      const sameProcess = announced.pid !== undefined && entry.info.pid === announced.pid;
      if (!sameProcess) throw new TitanError('CONFLICT', `a worker named ${id} is already connected; start this one with another --port`);
      stale = entry.link;
    }
    if (entry) {
      entry.info = announced;
      entry.capabilities = new Set(announced.capabilities);
      entry.lastSeen = now;
      entry.connectedAt = now;
    } else {
      entry = new WorkerEntry(id, announced, now);
      this.workers.set(id, entry);
      this.autoscaler?.registered(id, announced.spawnedBy, announced.capabilities);
    }
    entry.link = link;
    entry.reclaimed = false;
    // A worker that still drains says so again right after HELLO.
    entry.draining = false;
    entry.exiting = false;
    this.workersChanged();
    // Closed only once the new link is in place, so its detach does not forget the worker.
    stale?.close('replaced by a new connection from the same worker');
    return id;
  }

  /**
   * What the worker on `link` holds, reconciled with what the master expected: attempts both agree on
   * continue, those only the worker has are abandoned (returned), the others run again. Then it takes work.
   */
  reclaimAttempts(id: string, link: WorkerLink, running: readonly AttemptId[]): AttemptId[] {
    const entry = this.workers.get(id);
    if (entry?.link !== link) throw new TitanError('UNAVAILABLE', `worker ${id} has a newer connection: this one reclaims nothing`);
    entry.reclaimed = true;
    const abandon: AttemptId[] = [];
    const reported = new Set<string>();
    for (const a of running) {
      const key = jobKey(a.runId, a.jobId);
      if (isRunningOn(this.attemptClaim(a), id)) {
        entry.attempts.add(key);
        entry.unaccepted.delete(key);
        this.unclaimed.delete(key);
        reported.add(key);
      } else {
        abandon.push(a);
      }
    }
    const lost: string[] = [];
    for (const key of [...entry.attempts]) if (!reported.has(key) && this.loseAttempt(entry, key, `worker ${id} came back without it`)) lost.push(key);
    for (const [key, u] of this.unclaimed) if (u.workerId === id && !reported.has(key) && this.loseUnclaimedOne(key, `worker ${id} came back without it`)) lost.push(key);
    this.logRequeued(lost, `worker ${id} rejoined without them`);
    this.kick();
    return abandon;
  }

  /** Any frame from a worker proves it is alive. */
  touchWorker(workerId: string): void {
    const w = this.workers.get(workerId);
    if (w) w.lastSeen = this.clock.now();
  }

  /** An operator's drain: the worker finishes what it runs and takes nothing new. */
  requestDrain(workerId: string): WorkerView {
    const w = this.knownWorker(workerId);
    w.draining = true;
    w.link?.drain();
    this.workersChanged();
    return w.view(this.servicesOn(w));
  }

  /** An operator lets a drained worker take work again; one that is shutting down cannot. */
  requestUndrain(workerId: string): WorkerView {
    const w = this.knownWorker(workerId);
    if (w.exiting) throw new TitanError('CONFLICT', `worker ${workerId} is shutting down and cannot take work again: start it anew`);
    w.draining = false;
    w.link?.undrain();
    this.workersChanged();
    this.kick();
    return w.view(this.servicesOn(w));
  }

  /**
   * An operator's shutdown: drain, then the worker process exits; what still runs after the
   * drain timeout (`drainTimeoutMs`, else the worker's own) is handed back and runs elsewhere.
   * Permanent workers need `force`.
   */
  requestShutdown(workerId: string, force: boolean, drainTimeoutMs?: number): WorkerView {
    const w = this.knownWorker(workerId);
    if (w.info.permanent && !force) throw new TitanError('CONFLICT', `worker ${workerId} is permanent; shut it down with --force`);
    w.draining = true;
    w.exiting = true;
    w.link?.shutdown(drainTimeoutMs);
    this.workersChanged();
    return w.view(this.servicesOn(w));
  }

  private knownWorker(workerId: string): WorkerEntry {
    const w = this.workers.get(workerId);
    if (!w) throw new TitanError('NOT_FOUND', `no worker ${workerId} (see titan workers)`);
    return w;
  }

  /** The worker drains on its own (`exiting`: it was signalled and will stop). */
  drainWorker(workerId: string, exiting: boolean): void {
    const w = this.workers.get(workerId);
    if (!w) return;
    w.draining = true;
    w.exiting ||= exiting;
    this.workersChanged();
  }

  /** The worker received these dispatches: from now on only its silence or its word loses them. */
  attemptsAccepted(workerId: string, ids: readonly AttemptId[]): void {
    const w = this.workers.get(workerId);
    if (!w) return;
    for (const a of ids) {
      const job = this.runs.get(a.runId)?.jobs.get(a.jobId);
      if (job?.attempt === a.attempt && job.workerId === workerId) w.unaccepted.delete(jobKey(a.runId, a.jobId));
    }
  }

  /**
   * The worker's connection closed. Dispatches it never acknowledged run again elsewhere at once;
   * its other attempts keep their slots until it reconnects or the liveness timeout declares it
   * dead. A worker with nothing running is simply forgotten.
   */
  detachWorker(workerId: string, link: WorkerLink): void {
    const w = this.workers.get(workerId);
    if (!w || w.link !== link) return;
    w.link = null;
    const lost = [...w.unaccepted].filter((key) => this.loseAttempt(w, key, `the connection to worker ${workerId} closed before it acknowledged the dispatch`));
    this.logRequeued(lost, `the connection to worker ${workerId} closed before it acknowledged them`);
    if (w.attempts.size === 0 && this.workers.delete(workerId)) this.names.forgot(workerId);
    this.workersChanged();
  }

  /** Whose the attempt is, for checking what a worker says about it. */
  attemptClaim(a: AttemptId): AttemptClaim {
    return claimOf(this.runs.get(a.runId)?.jobs.get(a.jobId), a.attempt);
  }

  workerLog(workerId: string, a: AttemptId, data: string): void {
    const job = this.runs.get(a.runId)?.jobs.get(a.jobId);
    // Output of an abandoned or superseded attempt is dropped, never mixed into the current one.
    if (!job || job.attempt !== a.attempt || job.workerId !== workerId) return;
    this.logs.append(a.runId, a.jobId, a.attempt, data);
  }

  /** Results from a worker; resolves once they are durable (the worker may then forget them). */
  async attemptsFinished(workerId: string, results: readonly FinishedAttempt[]): Promise<number> {
    const worker = this.workers.get(workerId);
    const now = this.clock.now();
    let accepted = 0;
    for (const r of results) {
      const state = this.runs.get(r.runId);
      const job = state?.jobs.get(r.jobId);
      if (!state || !job || job.workerId !== workerId || !isCurrentAttempt(state, r.jobId, r.attempt)) continue;
      const key = jobKey(r.runId, r.jobId);
      worker?.attempts.delete(key);
      worker?.unaccepted.delete(key);
      this.unclaimed.delete(key);
      this.logs.close(r.runId, r.jobId, r.attempt);
      const result: AttemptResult = { outcome: r.outcome, exitCode: r.exitCode, error: r.error, errorCode: r.errorCode };
      const startedAt = job.startedAt ?? now;
      this.apply(state, finishAttempt(state, r.jobId, r.attempt, result, now, this.random(), this.maxLost));
      worker?.remember({ runId: r.runId, jobId: r.jobId, status: isTerminal(job.status) ? job.status : 'FAILED', startedAt, finishedAt: now });
      accepted++;
    }
    if (accepted > 0 && this.clusterWatchers.size > 0) this.committer.afterCommit(() => this.workersChanged());
    this.kick();
    await this.committer.flushed();
    return accepted;
  }

  // ---- internals ------------------------------------------------------------------------------

  private adopt(state: RunState): void {
    this.runs.set(state.run.runId, state);
    for (const jobId of state.jobs.keys()) this.latestRun.set(jobId, state.run.runId);
  }

  private apply(state: RunState, effects: readonly Effect[]): void {
    const changed = new Set<JobRecord>();
    let runChanged = false;
    for (const e of effects) {
      switch (e.type) {
        case 'job':
          this.committer.job(e.job);
          changed.add(e.job);
          break;
        case 'run':
          this.committer.run(e.run);
          runChanged = true;
          this.publishStage(e.run);
          break;
        case 'enqueue': {
          const key = jobKey(e.job.runId, e.job.spec.id);
          const lane = this.laneOf(state, e.job);
          this.queue.push(lane, key, e.job.spec.priority);
          if (this.autoscaler && lane === capabilityLane(e.job.spec.requirement)) this.queuedSince.set(key, { pool: e.job.spec.requirement, at: this.clock.now() });
          this.kick();
          break;
        }
        case 'dequeue':
          this.queue.remove(jobKey(e.job.runId, e.job.spec.id));
          this.queuedSince.delete(jobKey(e.job.runId, e.job.spec.id));
          break;
        case 'timer':
          this.timers.set(jobKey(e.job.runId, e.job.spec.id), e.at);
          break;
        case 'kill':
          this.releaseForKill(e.workerId, e.job, e.attempt);
          break;
        case 'decision':
          this.committer.decision(e.decision);
          break;
        case 'attempt':
          // An attempt is stored when it ends; while it runs, the job's own row (attempt number,
          // worker, start time) already says everything, so starting one costs no extra write.
          if (e.attempt.finishedAt !== null) this.committer.attempt(e.attempt);
          this.countAttempt(e.attempt);
          break;
      }
    }
    for (const job of changed) {
      if (job.status === 'COMPLETED') this.totals.completed++;
      else if (job.status === 'DEAD') this.totals.dead++;
    }
    this.publish(state, changed, runChanged);
  }

  private countAttempt(a: AttemptRecord): void {
    if (a.finishedAt !== null) return;
    this.totals.attempts++;
    if (a.attempt > 1) this.totals.retried++;
  }

  private releaseForKill(workerId: string, job: JobRecord, attempt: number): void {
    const key = jobKey(job.runId, job.spec.id);
    const worker = this.workers.get(workerId);
    worker?.attempts.delete(key);
    worker?.unaccepted.delete(key);
    this.unclaimed.delete(key);
    this.logs.close(job.runId, job.spec.id, attempt);
    const target: AttemptId = { runId: job.runId, jobId: job.spec.id, attempt };
    this.committer.afterCommit(() => worker?.link?.kill(target));
    this.kick();
  }

  /** After the commit, tell watchers what changed and retire a finished run from memory. */
  private publish(state: RunState, changed: Set<JobRecord>, runChanged: boolean): void {
    const runId = state.run.runId;
    const watchers = this.runWatchers.get(runId);
    const hasJobWatchers = this.jobWatchers.size > 0;
    const cluster = this.clusterWatchers.size > 0;
    const finished = state.run.status !== 'RUNNING';
    if (!watchers && !hasJobWatchers && !cluster && !finished && this.attemptEnders.size === 0) return;
    this.committer.afterCommit(() => {
      const views = cluster || (watchers && [...watchers].some((w) => w.jobs)) ? [...changed].map(this.views.batch()) : null;
      if (views && views.length > 0) {
        for (const w of watchers ?? []) w.jobs?.(views);
        for (const w of this.clusterWatchers) w.jobs(runId, views);
      }
      if (runChanged) for (const w of this.clusterWatchers) w.run({ ...state.run });
      if (hasJobWatchers) for (const job of changed) for (const fn of this.jobWatchers.get(jobKey(runId, job.spec.id)) ?? []) fn(job);
      if (this.attemptEnders.size > 0) for (const job of changed) this.endAttempts(job);
      if (runChanged) for (const w of watchers ?? []) w.run({ ...state.run });
      if (state.run.status !== 'RUNNING' && this.runs.get(runId) === state) this.retire(state);
    });
  }

  private endAttempts(job: JobRecord): void {
    const key = jobKey(job.runId, job.spec.id);
    const enders = this.attemptEnders.get(key);
    if (!enders) return;
    for (const e of [...enders]) {
      if (job.status === 'RUNNING' && job.attempt === e.attempt) continue;
      enders.delete(e);
      e.fn();
    }
    if (enders.size === 0) this.attemptEnders.delete(key);
  }

  private publishStage(run: RunRecord): void {
    const watchers = run.agentRunId === null ? undefined : this.agentWatchers.get(run.agentRunId);
    if (!watchers || watchers.size === 0) return;
    const copy = { ...run };
    this.committer.afterCommit(() => {
      for (const fn of watchers) fn(copy);
    });
  }

  private retire(state: RunState): void {
    const runId = state.run.runId;
    this.runs.delete(runId);
    this.runWatchers.delete(runId);
    for (const jobId of state.jobs.keys()) {
      if (this.latestRun.get(jobId) === runId) this.latestRun.delete(jobId);
      this.timers.cancel(jobKey(runId, jobId));
    }
  }

  private laneOf(state: RunState, job: JobRecord): string {
    if (job.spec.affinity === 'required') {
      const target = affinityTarget(state, job);
      if (target) return workerLane(target);
    }
    return capabilityLane(job.spec.requirement);
  }

  private onTimer(key: string): void {
    const { runId, jobId } = parseJobRef(key);
    const state = runId ? this.runs.get(runId) : undefined;
    if (state) this.apply(state, timerDue(state, jobId, this.clock.now(), this.random()));
  }

  /** Schedules a dispatch pass at the end of the current turn, so a burst of events makes one pass. */
  private kick(): void {
    if (this.kicked || this.closed) return;
    this.kicked = true;
    queueMicrotask(() => {
      this.kicked = false;
      this.dispatchReady();
    });
  }

  /**
   * Places queued jobs while any lane has a job some worker can take. Each step takes the best
   * head among lanes that can be served, so a saturated pool never blocks another pool's jobs.
   */
  private dispatchReady(): void {
    const lanes = this.queue.activeLanes();
    if (lanes.length === 0 || this.workers.size === 0) return;
    const outbox = new Map<WorkerEntry, Dispatch[]>();
    const now = this.clock.now();
    for (;;) {
      let best: { lane: string; item: QueuedItem; worker: WorkerEntry; state: RunState; job: JobRecord } | null = null;
      for (const lane of lanes) {
        const item = this.queue.peek(lane);
        if (!item || (best && !comesFirst(item, best.item))) continue;
        const { runId, jobId } = parseJobRef(item.key);
        const state = this.runs.get(runId ?? '');
        const job = state?.jobs.get(jobId);
        if (!state || !job || job.status !== 'QUEUED') {
          this.queue.remove(item.key);
          this.queuedSince.delete(item.key);
          continue;
        }
        const placement = { requirement: job.spec.requirement, affinity: job.spec.affinity, preferredWorker: affinityTarget(state, job) };
        const port = job.spec.service?.port;
        const candidates = port === undefined ? this.workers.values() : [...this.workers.values()].filter((w) => !this.servicesOn(w).some((s) => s.port === port));
        const worker = pickWorker(placement, candidates) as WorkerEntry | null;
        if (worker) best = { lane, item, worker, state, job };
      }
      if (!best) break;
      const { lane, worker, state, job } = best;
      this.queue.pop(lane);
      this.queuedSince.delete(best.item.key);
      this.apply(state, startAttempt(state, job.spec.id, worker.id, now));
      worker.attempts.add(best.item.key);
      worker.unaccepted.add(best.item.key);
      const items = outbox.get(worker) ?? [];
      if (items.length === 0) outbox.set(worker, items);
      items.push(this.dispatchOf(state, job));
    }
    // The link of now: should this one close before the commit, a later connection of the same
    // worker must not receive attempts that were already re-queued.
    for (const [worker, items] of outbox) {
      const link = worker.link;
      this.committer.afterCommit(() => link?.dispatch(items));
    }
    // Worker load changed: the dashboard hears it (its feed coalesces bursts).
    if (outbox.size > 0 && this.clusterWatchers.size > 0) this.committer.afterCommit(() => this.workersChanged());
  }

  private dispatchOf(state: RunState, job: JobRecord): Dispatch {
    // Only run and service jobs are ever queued (gates wait in WAITING_APPROVAL): each has a script or an archive.
    const d: Dispatch = { runId: job.runId, jobId: job.spec.id, attempt: job.attempt, args: job.spec.args, env: this.envOf(state, job), timeoutMs: job.spec.timeoutMs ?? null, token: this.jobToken({ runId: job.runId, jobId: job.spec.id, attempt: job.attempt }) };
    if (job.spec.script) d.script = job.spec.script;
    if (job.spec.archive) d.archive = job.spec.archive;
    const svc = job.spec.service;
    if (job.spec.kind === 'service') {
      d.service = { port: svc?.port ?? null, portRange: [...this.servicePorts], readiness: svc?.readiness ?? 'tcp', readyTimeoutMs: svc?.readyTimeoutMs ?? 60_000 };
    }
    return d;
  }

  /**
   * The job's environment, plus where each service it depends on listens, so a dependent can
   * reach a service whose port was assigned: TITAN_SERVICE_<ID> = host:port.
   */
  private envOf(state: RunState, job: JobRecord): Record<string, string> {
    let env = job.spec.env;
    for (const parentId of job.spec.dependsOn) {
      const parent = state.jobs.get(parentId);
      const host = parent?.workerId ? this.workers.get(parent.workerId)?.info.host : undefined;
      const name = serviceEnvName(parentId);
      // A value the job sets itself wins.
      if (!parent?.service?.port || !host || name in job.spec.env) continue;
      if (env === job.spec.env) env = { ...env };
      env[name] = `${host}:${parent.service.port}`;
    }
    return env;
  }

  /** The worker's attempt is lost to the infrastructure; true when it was still current (and is now re-queued or given up). */
  private loseAttempt(worker: WorkerEntry, key: string, reason: string): boolean {
    worker.attempts.delete(key);
    worker.unaccepted.delete(key);
    const { runId, jobId } = parseJobRef(key);
    const state = this.runs.get(runId ?? '');
    const job = state?.jobs.get(jobId);
    if (!state || !job || job.status !== 'RUNNING') return false;
    this.logs.close(job.runId, jobId, job.attempt);
    this.lose(state, jobId, job.attempt, reason);
    return true;
  }

  private loseUnclaimedOne(key: string, reason: string): boolean {
    const u = this.unclaimed.get(key);
    this.unclaimed.delete(key);
    if (!u) return false;
    const { runId, jobId } = parseJobRef(key);
    const state = this.runs.get(runId ?? '');
    if (!state || !isCurrentAttempt(state, jobId, u.attempt)) return false;
    this.lose(state, jobId, u.attempt, reason);
    return true;
  }

  private lose(state: RunState, jobId: string, attempt: number, reason: string): void {
    this.apply(state, finishAttempt(state, jobId, attempt, { outcome: 'LOST', exitCode: null, error: reason }, this.clock.now(), this.random(), this.maxLost));
    const job = state.jobs.get(jobId);
    if (job?.status === 'DEAD') this.log(`${jobKey(state.run.runId, jobId)} is DEAD: ${job.error ?? reason}`);
    this.kick();
  }

  private loseUnclaimed(): void {
    const byWorker = new Map<string, string[]>();
    for (const [key, u] of [...this.unclaimed]) {
      if (!this.loseUnclaimedOne(key, `worker ${u.workerId} did not reclaim the attempt within ${this.reclaimGraceMs} ms of the master's restart`)) continue;
      const keys = byWorker.get(u.workerId);
      if (keys) keys.push(key);
      else byWorker.set(u.workerId, [key]);
    }
    for (const [workerId, keys] of byWorker) this.logRequeued(keys, `worker ${workerId} did not reclaim them within ${this.reclaimGraceMs} ms of the master's restart`);
  }

  /** One line for attempts lost together: they run again elsewhere, no retry spent. */
  private logRequeued(keys: readonly string[], why: string): void {
    if (keys.length === 0) return;
    const shown = keys.slice(0, 5).join(', ') + (keys.length > 5 ? ` and ${keys.length - 5} more` : '');
    this.log(`${keys.length} attempt${keys.length === 1 ? '' : 's'} lost (${why}): ${shown}; they run again without spending a retry, within --max-lost-attempts (${this.maxLost})`);
  }

  /** Declares silent workers dead; their attempts run again elsewhere. */
  private armSweeper(): void {
    const sweep = (): void => {
      if (this.closed) return;
      const now = this.clock.now();
      for (const w of [...this.workers.values()]) {
        if (now - w.lastSeen <= this.workerTimeoutMs) continue;
        const silence = `no heartbeat for ${now - w.lastSeen} ms`;
        w.link?.close(silence);
        w.link = null;
        this.workers.delete(w.id);
        this.workersChanged();
        this.log(`worker ${w.id} is dead (${silence}; the limit is ${this.workerTimeoutMs} ms)`);
        const lost = [...w.attempts].filter((key) => this.loseAttempt(w, key, `worker ${w.id} stopped responding (${silence})`));
        this.logRequeued(lost, `worker ${w.id} is dead`);
      }
      this.sweeper = this.clock.setTimer(sweep, Math.min(1000, this.workerTimeoutMs / 4));
    };
    this.sweeper = this.clock.setTimer(sweep, Math.min(1000, this.workerTimeoutMs / 4));
  }

  private freePort(host: string): number {
    for (let port = 8080; ; port++) if (!this.names.taken(`${host}:${port}`)) return port;
  }

  private newRunId(): string {
    return `r${this.clock.now().toString(36)}${randomBytes(3).toString('hex')}`;
  }

  /**
   * Resolves a job reference against active runs first, then the store. Titan's clients address
   * DAG jobs as `DAG-<id>`, so that spelling finds the job `<id>` when no job has the full name.
   */
  private async resolve(ref: string): Promise<JobRecord> {
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
    await this.committer.readable();
    return this.store.findJob(jobId, runId);
  }

  private async resolveActive(ref: string): Promise<{ state: RunState; job: JobRecord }> {
    const job = await this.resolve(ref);
    const state = this.runs.get(job.runId);
    const live = state?.jobs.get(job.spec.id);
    if (!state || !live) throw new TitanError('CONFLICT', `job ${jobKey(job.runId, job.spec.id)} is already ${job.status}`);
    return { state, job: live };
  }
}

/** `TITAN_SERVICE_` and the job id in upper case, other characters than letters and digits as `_`. */
export const serviceEnvName = (jobId: string): string => `TITAN_SERVICE_${jobId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

function serviceView(job: JobRecord, runName: string): ServiceView {
  const svc = job.service as NonNullable<JobRecord['service']>;
  return {
    ref: jobKey(job.runId, job.spec.id),
    runId: job.runId,
    runName,
    jobId: job.spec.id,
    status: job.status,
    workerId: job.status === 'RUNNING' ? job.workerId : null,
    port: svc.port,
    pid: svc.pid,
    upSince: svc.readyAt,
    restarts: svc.restarts,
    attempt: job.attempt,
    restart: job.spec.service?.restart ?? 'always',
    error: job.error,
  };
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}
