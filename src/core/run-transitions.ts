/**
 * The transitions of a run as a whole and of its jobs by request: a run is created, grows,
 * is restored after a restart; a person decides a gate, retries or cancels a job, cancels the
 * run. Each updates the state and returns the effects the master must carry out. No I/O and no
 * clock: the time is an argument.
 */
import type { JobRecord, JobSpec, RunRecord, RunSpec } from './model.js';
import { isTerminal } from './model.js';
import { attemptDeadline, gateDeadline } from './job-deadlines.js';
import { finish, markTerminal, queue, release, reopenRun, settleNewJob, settleRun, stop } from './job-moves.js';
import { addChild, type Effect, emptyState, releases, type RunState } from './run-state.js';
import { runFlowOf } from './flow-resolve.js';

function newJob(runId: string, spec: JobSpec, now: number, addedBy?: string): JobRecord {
  return {
    runId,
    spec,
    status: 'PENDING',
    attempt: 0,
    notBefore: null,
    workerId: null,
    exitCode: null,
    error: null,
    createdAt: now,
    queuedAt: null,
    startedAt: null,
    finishedAt: null,
    service: spec.kind === 'service' ? { port: spec.service?.port ?? null, pid: null, readyAt: null, released: false, restarts: 0, crashes: 0 } : null,
    retryBase: 0,
    lost: 0,
    ...(addedBy !== undefined && { addedBy }),
  };
}

export function createRun(runId: string, spec: Omit<RunSpec, 'tags'> & { tags?: string[] }, now: number, origin: { requestId?: string; startedBy?: string } = {}): { state: RunState; effects: Effect[] } {
  const run: RunRecord = { runId, name: spec.name, agentRunId: spec.agentRunId ?? null, status: 'RUNNING', createdAt: now, finishedAt: null, tags: spec.tags ?? [], ...(origin.requestId !== undefined && { requestId: origin.requestId }), ...(origin.startedBy !== undefined && { startedBy: origin.startedBy }) };
  const flow = runFlowOf(spec, now);
  if (flow) run.flow = flow;
  if (spec.on && Object.keys(spec.on).length > 0) run.notify = spec.on;
  const state = emptyState(run);
  const effects: Effect[] = [{ type: 'run', run }];
  addJobs(state, spec.jobs, now, effects);
  return { state, effects };
}

/** Adds jobs to a live run (validated by the caller); parents may be any job of the run. */
export function extendRun(state: RunState, specs: readonly JobSpec[], now: number, addedBy?: string): Effect[] {
  const effects: Effect[] = [];
  reopenRun(state, effects);
  addJobs(state, specs, now, effects, addedBy);
  return effects;
}

function addJobs(state: RunState, specs: readonly JobSpec[], now: number, effects: Effect[], addedBy?: string): void {
  const added: JobRecord[] = [];
  for (const spec of specs) {
    const job = newJob(state.run.runId, spec, now, addedBy);
    state.jobs.set(spec.id, job);
    state.open++;
    added.push(job);
    for (const parent of new Set(spec.dependsOn)) addChild(state, parent, spec.id);
  }
  for (const job of added) {
    effects.push({ type: 'job', job });
    // An earlier new job may already have skipped this one (a new parent of it was skipped).
    if (!isTerminal(job.status)) settleNewJob(state, job, now, effects);
  }
}

/**
 * A person decides an open gate: approval completes it and releases its children; rejection
 * makes it DEAD and skips everything downstream. Returns null when the job is not an open gate.
 */
export function decideGate(state: RunState, jobId: string, approved: boolean, by: string, comment: string | null, now: number): Effect[] | null {
  const job = state.jobs.get(jobId);
  if (!job || job.status !== 'WAITING_APPROVAL') return null;
  const effects: Effect[] = [{ type: 'decision', decision: { runId: job.runId, jobId, approved, by, comment, at: now, reason: 'decided' } }];
  if (approved) finish(state, job, 'COMPLETED', now, effects, null);
  else finish(state, job, 'DEAD', now, effects, `rejected by ${by}${comment ? `: ${comment}` : ''}`);
  return effects;
}

/**
 * A person retries a job that ended without completing (DEAD or CANCELLED): it gets a fresh
 * retry budget and runs again once its parents allow, and the descendants it had skipped wait
 * for it again. A finished run reopens. Returns null when the job cannot be retried.
 */
export function retryJob(state: RunState, jobId: string, now: number): Effect[] | null {
  const job = state.jobs.get(jobId);
  if (!job || (job.status !== 'DEAD' && job.status !== 'CANCELLED')) return null;
  const effects: Effect[] = [];
  reopenRun(state, effects);
  // Parents come before children in this order, so each job settles after what it waits on.
  const reopened: JobRecord[] = [job];
  for (let i = 0; i < reopened.length; i++) {
    for (const childId of state.children.get((reopened[i] as JobRecord).spec.id) ?? []) {
      const child = state.jobs.get(childId);
      if (child?.status === 'SKIPPED' && !reopened.includes(child)) reopened.push(child);
    }
  }
  job.retryBase = job.attempt;
  job.lost = 0;
  if (job.service) job.service.crashes = 0;
  for (const r of reopened) {
    r.status = 'PENDING';
    r.finishedAt = null;
    r.notBefore = null;
    r.error = null;
    state.open++;
  }
  for (const r of reopened) {
    effects.push({ type: 'job', job: r });
    // A child with another ended parent is skipped again by settling.
    if (r.status === 'PENDING') settleNewJob(state, r, now, effects);
  }
  return effects;
}

/** Cancels one job (and skips what depends on it). Returns null when the job is unknown or already terminal. */
export function cancelJob(state: RunState, jobId: string, now: number): Effect[] | null {
  const job = state.jobs.get(jobId);
  if (!job || isTerminal(job.status)) return null;
  const effects: Effect[] = [];
  stop(state, job, 'CANCELLED', now, effects, 'cancelled by request');
  return effects;
}

/** Cancels every open job of the run: all of them end CANCELLED, whatever their order, with `reason` as their error. */
export function cancelRun(state: RunState, now: number, reason = 'run cancelled by request'): Effect[] {
  const effects: Effect[] = [];
  for (const job of state.jobs.values()) {
    if (isTerminal(job.status)) continue;
    release(job, now, effects, reason);
    markTerminal(state, job, 'CANCELLED', now, effects, reason);
  }
  if (state.open === 0 && state.run.status === 'RUNNING') settleRun(state, now, effects);
  return effects;
}

/**
 * Rebuilds a run's state from stored records after a master restart. QUEUED jobs are queued
 * again and timers re-armed; RUNNING jobs are left for their workers to reclaim.
 */
export function restoreRun(run: RunRecord, jobs: readonly JobRecord[], now: number): { state: RunState; effects: Effect[] } {
  const state = emptyState(run);
  for (const job of jobs) {
    state.jobs.set(job.spec.id, job);
    if (!isTerminal(job.status)) state.open++;
    for (const parent of new Set(job.spec.dependsOn)) addChild(state, parent, job.spec.id);
  }
  const effects: Effect[] = [];
  for (const job of jobs) {
    const deadline = attemptDeadline(job) ?? gateDeadline(job);
    if (job.status === 'QUEUED') effects.push({ type: 'enqueue', job });
    else if (deadline !== null) effects.push({ type: 'timer', job, at: deadline });
    else if ((job.status === 'PENDING' || job.status === 'FAILED') && job.notBefore !== null) effects.push({ type: 'timer', job, at: job.notBefore });
    else if (job.status === 'PENDING') {
      const waiting = [...new Set(job.spec.dependsOn)].filter((p) => {
        const parent = state.jobs.get(p);
        return parent !== undefined && !releases(parent);
      }).length;
      if (waiting > 0) state.waitingOn.set(job.spec.id, waiting);
      else queue(job, now, effects);
    }
  }
  return { state, effects };
}
