/**
 * What clients read: runs, jobs, logs, gates, services, agent runs and the master's stats. Active
 * runs are answered from memory, finished ones from the store once everything acknowledged is
 * durable. Job views come from job-views.ts, which says why a queued job waits.
 */
import { type RunTimeline, runTimeline } from '../../core/timeline.js';
import { TitanError } from '../../core/errors.js';
import type { AgentRunSummary, AttemptRecord, GateDecision, JobRecord, JobStatus, RunRecord } from '../../core/model.js';
import { jobRef } from '../../core/model.js';
import { gateDeadline } from '../../core/job-deadlines.js';
import { stepView, type StepView } from '../../core/steps.js';
import type { AgentRunView, AttemptId, AutoscalerView, DiskView, GateView, JobView, LogChunk, PoolView, RunSummary, RunView, ServiceView, Stats } from '../../protocol/methods.js';
import { parseRunCursor, runCursor } from '../../protocol/run-cursor.js';
import { AHEAD_COUNTS_PER_VIEW } from '../job-views.js';
import { listTitanGates } from '../titan-gates.js';
import type { MasterResources } from './resources.js';

/** What the stats tell beyond runs and workers: the data disk and the autoscaler. */
export interface StatsSources {
  startedAt: number;
  disk(): DiskView | null;
  autoscaler(): AutoscalerView;
}

export class Views {
  constructor(
    private readonly r: MasterResources,
    private readonly sources: StatsSources,
  ) {}

  /** Whether the run is still active: active runs are the ones in memory. */
  isRunActive(runId: string): boolean {
    return this.r.runs.has(runId);
  }

  /** Whether this attempt is its job's current one and still running (what keeps a job's token valid). */
  attemptRunning(a: AttemptId): boolean {
    const job = this.r.runs.job(a.runId, a.jobId);
    return job?.status === 'RUNNING' && job.attempt === a.attempt;
  }

  /** The job a reference names, as `runId/jobId` (a bare job id: its latest run). */
  async qualifyRef(ref: string): Promise<{ runId: string; ref: string }> {
    const job = await this.r.runs.resolve(ref);
    return { runId: job.runId, ref: jobRef(job.runId, job.spec.id) };
  }

  /** Whether a job of run `own` may act on run `target`: its own, or one it submitted. */
  async withinReach(own: string, target: string): Promise<boolean> {
    if (own === target) return true;
    const run = this.r.runs.get(target)?.run ?? (await this.r.store.getRun(target));
    return run?.startedBy === own;
  }

  /** The agent run a run belongs to (null for none or an unknown run). */
  async agentRunOf(runId: string): Promise<string | null> {
    const run = this.r.runs.get(runId)?.run ?? (await this.r.store.getRun(runId));
    return run?.agentRunId ?? null;
  }

  async getRun(runId: string): Promise<RunView> {
    // What was changed before this call is durable before it is shown.
    await this.r.committer.readable();
    const state = this.r.runs.get(runId);
    if (state) return { run: { ...state.run }, jobs: [...state.jobs.values()].map(this.r.jobViews.batch(AHEAD_COUNTS_PER_VIEW)) };
    const run = await this.r.store.getRun(runId);
    if (!run) throw new TitanError('NOT_FOUND', `no run ${runId}`);
    return { run, jobs: (await this.r.store.getRunJobs(runId)).map(this.r.jobViews.batch()) };
  }

  /** The run's jobs and attempts as timeline columns (core/timeline.ts). */
  async runTimeline(runId: string): Promise<RunTimeline> {
    const { jobs } = await this.getRun(runId);
    return runTimeline(jobs, await this.r.store.listRunAttempts(runId), this.r.clock.now());
  }

  /** Runs newest first, a page at a time: `next` (null on the last page) is the `after` of the next page. */
  async listRuns(query: { limit: number; status?: RunRecord['status']; tag?: string; after?: string }): Promise<{ runs: RunSummary[]; next: string | null }> {
    await this.r.committer.readable();
    const { limit, status, tag, after } = query;
    // One more than asked tells whether another page follows.
    const rows = await this.r.store.listRuns({ limit: limit + 1, ...(status && { status }), ...(tag !== undefined && { tag }), ...(after !== undefined && { after: parseRunCursor(after) }) });
    const runs = rows.slice(0, limit).map((r) => ({ ...r.run, counts: r.counts, total: r.total }));
    const last = runs[runs.length - 1];
    return { runs, next: rows.length > limit && last ? runCursor(last) : null };
  }

  async getJob(ref: string): Promise<{ job: JobView; attempts: AttemptRecord[]; steps: StepView[] }> {
    const job = await this.r.runs.resolve(ref);
    await this.r.committer.readable();
    const attempts = await this.r.store.listAttempts(job.runId, job.spec.id);
    if (job.status === 'RUNNING' && job.workerId !== null && job.startedAt !== null) {
      attempts.push({ runId: job.runId, jobId: job.spec.id, attempt: job.attempt, workerId: job.workerId, queuedAt: job.queuedAt, startedAt: job.startedAt, runningAt: null, finishedAt: null, outcome: null, exitCode: null, error: null });
    }
    const steps = (await this.r.store.listSteps(job.runId, job.spec.id)).map(stepView);
    return { job: this.r.jobViews.one(job), attempts, steps };
  }

  async readLogs(ref: string, attempt: number | undefined, offset: number, limit: number): Promise<LogChunk> {
    const { logs } = this.r;
    const job = await this.r.runs.resolve(ref);
    const n = attempt ?? Math.max(1, job.attempt);
    if (n > Math.max(1, job.attempt)) throw new TitanError('NOT_FOUND', `job ${jobRef(job.runId, job.spec.id)} has no attempt ${n}`);
    const chunk = logs.read(job.runId, job.spec.id, n, offset, limit);
    const attemptOver = n < job.attempt || (job.status !== 'RUNNING' && job.status !== 'QUEUED');
    const lost = logs.lostOf(job.runId, job.spec.id, n);
    const removed = chunk.size === 0 ? logs.removedNote(job.runId) : null;
    const stderr = chunk.stderr.length > 0 ? { stderr: chunk.stderr } : {};
    return { attempt: n, data: chunk.data, nextOffset: chunk.nextOffset, complete: attemptOver && chunk.nextOffset >= chunk.size, attempts: job.attempt, ...stderr, ...(lost && { lost }), ...(removed !== null && { removed }) };
  }

  async listAgentRuns(limit: number): Promise<AgentRunSummary[]> {
    await this.r.committer.readable();
    return this.r.store.listAgentRuns(limit);
  }

  async getAgentRun(agentRunId: string): Promise<AgentRunView> {
    await this.r.committer.readable();
    const stages = (await this.r.store.listAgentRunStages(agentRunId)).map((r) => ({ ...r.run, counts: r.counts, total: r.total }));
    if (stages.length === 0) throw new TitanError('NOT_FOUND', `no agent run ${agentRunId}`);
    return { agentRunId, stages };
  }

  /** Every gate waiting for a decision, native and Titan-style, oldest first. */
  async listGates(): Promise<GateView[]> {
    const gates: GateView[] = await listTitanGates(this.r.kv);
    for (const state of this.r.runs.values()) {
      for (const job of state.jobs.values()) {
        if (job.status !== 'WAITING_APPROVAL') continue;
        gates.push({ ref: jobRef(job.runId, job.spec.id), runId: job.runId, runName: state.run.name, jobId: job.spec.id, message: job.spec.message ?? null, openedAt: job.startedAt ?? job.createdAt, deadline: gateDeadline(job), style: 'native' });
      }
    }
    return gates.sort((a, b) => a.openedAt - b.openedAt);
  }

  async gateHistory(limit: number): Promise<GateDecision[]> {
    await this.r.committer.readable();
    return this.r.store.listDecisions(limit);
  }

  /** The services of every active run, oldest run first. */
  listServices(): ServiceView[] {
    const out: ServiceView[] = [];
    for (const state of this.r.runs.values()) {
      for (const job of state.jobs.values()) if (job.service) out.push(serviceView(job, state.run.name));
    }
    return out;
  }

  /** Jobs in the ready queue, waiting out a delay or backoff, and waiting for parents (Titan's stats). */
  waitingCounts(): { queued: number; delayed: number; blocked: number } {
    let delayed = 0;
    let blocked = 0;
    for (const state of this.r.runs.values()) {
      for (const job of state.jobs.values()) {
        if (job.status === 'FAILED' || (job.status === 'PENDING' && job.notBefore !== null)) delayed++;
        else if (job.status === 'PENDING') blocked++;
      }
    }
    return { queued: this.r.queue.size, delayed, blocked };
  }

  stats(): Stats {
    const jobs: Partial<Record<JobStatus, number>> = {};
    const queuedByCapability: Record<string, number> = {};
    for (const state of this.r.runs.values()) {
      for (const job of state.jobs.values()) {
        jobs[job.status] = (jobs[job.status] ?? 0) + 1;
        if (job.status === 'QUEUED') queuedByCapability[job.spec.requirement] = (queuedByCapability[job.spec.requirement] ?? 0) + 1;
      }
    }
    const disk = this.sources.disk();
    return {
      uptimeMs: this.r.clock.now() - this.sources.startedAt,
      workers: this.workerTotals(),
      pools: this.pools(queuedByCapability),
      autoscaler: this.sources.autoscaler(),
      jobs,
      queuedByCapability,
      runs: { active: this.r.runs.size },
      totals: { ...this.r.totals },
      ...(disk && { disk }),
    };
  }

  /** Workers known and connected, and their slots in all and in use. */
  workerTotals(): Stats['workers'] {
    let connected = 0;
    let slots = 0;
    let busySlots = 0;
    for (const w of this.r.workers.values()) {
      if (w.link) connected++;
      slots += w.slots;
      busySlots += w.running;
    }
    return { total: this.r.workers.size, connected, slots, busySlots };
  }

  private pools(queued: Record<string, number>): Record<string, PoolView> {
    const pools: Record<string, PoolView> = {};
    const pool = (name: string): PoolView => (pools[name] ??= { workers: 0, slots: 0, busySlots: 0, queued: queued[name] ?? 0, services: 0 });
    for (const w of this.r.workers.values()) {
      const services = this.r.runs.servicesOn(w).length;
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
}

function serviceView(job: JobRecord, runName: string): ServiceView {
  const svc = job.service as NonNullable<JobRecord['service']>;
  return {
    ref: jobRef(job.runId, job.spec.id),
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
