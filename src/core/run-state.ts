/**
 * The run state machine. Each function takes a run's in-memory state and one event, updates the
 * state and returns the effects the master must carry out (persist, queue, arm a timer, kill).
 * No I/O and no clock: the time and any randomness are arguments.
 */
import type { FailureCode } from './failure-codes.js';
import type { AttemptOutcome, AttemptRecord, GateDecision, JobRecord, JobSpec, JobStatus, RunRecord, RunSpec, RunStatus, ServiceState } from './model.js';
import { isTerminal } from './model.js';
import { backoffMs, DEFAULT_MAX_LOST_ATTEMPTS, isFailFast } from './retry.js';

export interface RunState {
  run: RunRecord;
  jobs: Map<string, JobRecord>;
  children: Map<string, string[]>;
  /** Number of parents not yet COMPLETED, for each job still waiting on parents. */
  waitingOn: Map<string, number>;
  /** Jobs not yet in a terminal status. */
  open: number;
}

export type Effect =
  | { type: 'job'; job: JobRecord }
  | { type: 'run'; run: RunRecord }
  | { type: 'enqueue'; job: JobRecord }
  | { type: 'dequeue'; job: JobRecord }
  | { type: 'timer'; job: JobRecord; at: number }
  | { type: 'kill'; job: JobRecord; workerId: string; attempt: number }
  | { type: 'attempt'; attempt: AttemptRecord }
  | { type: 'decision'; decision: GateDecision };

export interface AttemptResult {
  outcome: Exclude<AttemptOutcome, 'CANCELLED'>;
  exitCode: number | null;
  error: string | null;
  /** A failure class reported by the worker; fail-fast classes skip the remaining retries. */
  errorCode?: FailureCode | null;
}

function newJob(runId: string, spec: JobSpec, now: number): JobRecord {
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
    startedAt: null,
    finishedAt: null,
    service: spec.kind === 'service' ? { port: spec.service?.port ?? null, pid: null, readyAt: null, released: false, restarts: 0, crashes: 0 } : null,
    retryBase: 0,
    lost: 0,
  };
}

/**
 * A parent no longer holds its child back: it completed, or it is a service that became ready
 * (and has not ended since).
 */
function releases(parent: JobRecord): boolean {
  return parent.status === 'COMPLETED' || (parent.service?.released === true && !isTerminal(parent.status));
}

export function createRun(runId: string, spec: Omit<RunSpec, 'tags'> & { tags?: string[] }, now: number, origin: { requestId?: string; startedBy?: string } = {}): { state: RunState; effects: Effect[] } {
  const run: RunRecord = { runId, name: spec.name, agentRunId: spec.agentRunId ?? null, status: 'RUNNING', createdAt: now, finishedAt: null, tags: spec.tags ?? [], ...(origin.requestId !== undefined && { requestId: origin.requestId }), ...(origin.startedBy !== undefined && { startedBy: origin.startedBy }) };
  const state: RunState = { run, jobs: new Map(), children: new Map(), waitingOn: new Map(), open: 0 };
  const effects: Effect[] = [{ type: 'run', run }];
  addJobs(state, spec.jobs, now, effects);
  return { state, effects };
}

/** Adds jobs to a live run (validated by the caller); parents may be any job of the run. */
export function extendRun(state: RunState, specs: readonly JobSpec[], now: number): Effect[] {
  const effects: Effect[] = [];
  if (state.run.status !== 'RUNNING') {
    state.run.status = 'RUNNING';
    state.run.finishedAt = null;
    effects.push({ type: 'run', run: state.run });
  }
  addJobs(state, specs, now, effects);
  return effects;
}

function addJobs(state: RunState, specs: readonly JobSpec[], now: number, effects: Effect[]): void {
  const added: JobRecord[] = [];
  for (const spec of specs) {
    const job = newJob(state.run.runId, spec, now);
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

function addChild(state: RunState, parent: string, child: string): void {
  const list = state.children.get(parent);
  if (list) list.push(child);
  else state.children.set(parent, [child]);
}

/** Decides where a job that has just entered the run stands, given its parents' statuses. */
function settleNewJob(state: RunState, job: JobRecord, now: number, effects: Effect[]): void {
  let waiting = 0;
  for (const parentId of new Set(job.spec.dependsOn)) {
    const parent = state.jobs.get(parentId);
    if (!parent || releases(parent)) continue;
    if (isTerminal(parent.status)) {
      finish(state, job, 'SKIPPED', now, effects, `upstream job ${parentId} is ${parent.status}`);
      return;
    }
    waiting++;
  }
  if (waiting > 0) state.waitingOn.set(job.spec.id, waiting);
  else becomeReady(state, job, now, effects);
}

/** Parents are done: queue now, or after the job's delay (counted from this moment). */
function becomeReady(state: RunState, job: JobRecord, now: number, effects: Effect[]): void {
  state.waitingOn.delete(job.spec.id);
  if (job.spec.delayMs > 0) {
    job.status = 'PENDING';
    job.notBefore = now + job.spec.delayMs;
    effects.push({ type: 'job', job }, { type: 'timer', job, at: job.notBefore });
  } else {
    queue(job, now, effects);
  }
}

/** A ready job goes to the workers' queue; a ready gate opens and waits for a person. */
function queue(job: JobRecord, now: number, effects: Effect[]): void {
  if (job.spec.kind === 'approval') {
    job.status = 'WAITING_APPROVAL';
    job.notBefore = null;
    job.startedAt = now;
    effects.push({ type: 'job', job });
    const deadline = gateDeadline(job);
    if (deadline !== null) effects.push({ type: 'timer', job, at: deadline });
    return;
  }
  job.status = 'QUEUED';
  job.notBefore = null;
  effects.push({ type: 'job', job }, { type: 'enqueue', job });
}

/** A delay or backoff timer fired. Ignored unless the job is still waiting for exactly that. */
/**
 * How long past a job's timeout the master waits for its worker's report before it kills the
 * attempt itself: the worker enforces timeouts, this covers a worker that hangs or goes quiet.
 */
export const TIMEOUT_GRACE_MS = 30_000;

/** When the master gives up on the running attempt of a job with a timeout. */
export function attemptDeadline(job: JobRecord): number | null {
  if (job.status !== 'RUNNING' || job.spec.timeoutMs === undefined || job.startedAt === null) return null;
  return job.startedAt + job.spec.timeoutMs + TIMEOUT_GRACE_MS;
}

/** When an open approval gate with a timeout fails for want of a decision. */
export function gateDeadline(job: JobRecord): number | null {
  if (job.status !== 'WAITING_APPROVAL' || job.spec.timeoutMs === undefined || job.startedAt === null) return null;
  return job.startedAt + job.spec.timeoutMs;
}

/**
 * A timer fired: a delay or backoff ended, a running attempt outlived its deadline, or a gate
 * waited too long for a decision.
 */
export function timerDue(state: RunState, jobId: string, now: number, random: number): Effect[] {
  const job = state.jobs.get(jobId);
  if (!job) return [];
  const gate = gateDeadline(job);
  if (gate !== null) {
    if (gate > now) return [];
    const decision: GateDecision = { runId: job.runId, jobId, approved: false, by: 'titan', comment: null, at: now, reason: 'timeout' };
    const effects: Effect[] = [{ type: 'decision', decision }];
    finish(state, job, 'DEAD', now, effects, `no decision within ${job.spec.timeoutMs} ms`);
    return effects;
  }
  const deadline = attemptDeadline(job);
  if (deadline !== null) {
    if (deadline > now || job.workerId === null) return [];
    const kill: Effect = { type: 'kill', job, workerId: job.workerId, attempt: job.attempt };
    const error = `no report from worker ${job.workerId} ${TIMEOUT_GRACE_MS} ms after the ${job.spec.timeoutMs} ms timeout`;
    return [kill, ...finishAttempt(state, jobId, job.attempt, { outcome: 'TIMED_OUT', exitCode: null, error, errorCode: 'TIMEOUT' }, now, random)];
  }
  if (job.notBefore === null || job.notBefore > now) return [];
  if (job.status !== 'PENDING' && job.status !== 'FAILED') return [];
  if (state.waitingOn.has(jobId)) return [];
  const effects: Effect[] = [];
  queue(job, now, effects);
  return effects;
}

export function startAttempt(state: RunState, jobId: string, workerId: string, now: number): Effect[] {
  const job = state.jobs.get(jobId);
  if (!job || job.status !== 'QUEUED') return [];
  job.status = 'RUNNING';
  job.attempt++;
  job.workerId = workerId;
  job.startedAt = now;
  job.exitCode = null;
  job.error = null;
  if (job.service) {
    job.service.pid = null;
    job.service.readyAt = null;
  }
  const attempt: AttemptRecord = {
    runId: job.runId,
    jobId,
    attempt: job.attempt,
    workerId,
    startedAt: now,
    finishedAt: null,
    outcome: null,
    exitCode: null,
    error: null,
  };
  const effects: Effect[] = [{ type: 'job', job }, { type: 'attempt', attempt }];
  const deadline = attemptDeadline(job);
  if (deadline !== null) effects.push({ type: 'timer', job, at: deadline });
  return effects;
}

/** True when a report about `attempt` concerns the job's current, running attempt. */
export function isCurrentAttempt(state: RunState, jobId: string, attempt: number): boolean {
  const job = state.jobs.get(jobId);
  return job !== undefined && job.status === 'RUNNING' && job.attempt === attempt;
}

/**
 * The current attempt ended (completed, failed, timed out, or lost to the infrastructure). Reports
 * from any other attempt are stale and change nothing. A lost attempt is queued again at once and
 * spends no retry: only more than `maxLost` losses end the job.
 */
export function finishAttempt(state: RunState, jobId: string, attempt: number, result: AttemptResult, now: number, random: number, maxLost: number = DEFAULT_MAX_LOST_ATTEMPTS): Effect[] {
  const job = state.jobs.get(jobId);
  if (!job || !isCurrentAttempt(state, jobId, attempt)) return [];
  const effects: Effect[] = [attemptEnd(job, result.outcome, result.exitCode, result.error, now)];
  job.exitCode = result.exitCode;
  job.error = result.error;
  if (result.outcome === 'LOST') job.lost++;
  if (job.service) {
    serviceEnded(state, job, job.service, result, now, random, effects);
    return effects;
  }
  if (result.outcome === 'COMPLETED') {
    finish(state, job, 'COMPLETED', now, effects, null);
    return effects;
  }
  if (result.outcome === 'LOST') {
    if (job.lost > maxLost) finish(state, job, 'DEAD', now, effects, `${job.lost} attempts were lost to the infrastructure (the limit is ${maxLost}): the job may be killing its workers; last: ${result.error ?? 'lost'}`);
    else queue(job, now, effects);
    return effects;
  }
  const retriesUsed = job.attempt - 1 - job.retryBase - job.lost;
  if (isFailFast(result.errorCode) || retriesUsed >= job.spec.retries) {
    finish(state, job, 'DEAD', now, effects, result.error);
    return effects;
  }
  job.status = 'FAILED';
  job.notBefore = now + backoffMs(job.attempt, random);
  effects.push({ type: 'job', job }, { type: 'timer', job, at: job.notBefore });
  return effects;
}

/** A service that stayed ready this long before it ended is no longer crash-looping. */
export const SERVICE_STABLE_MS = 30_000;

/**
 * A service's process ended: restart it by its policy (a lost worker always restarts it
 * elsewhere, and does not count as a crash), or give it up. Exits in a row without staying up
 * (crashes, or clean exits under `always`) back off exponentially; reaching the crash-loop limit
 * makes the service DEAD with its logs kept.
 */
function serviceEnded(state: RunState, job: JobRecord, svc: ServiceState, result: AttemptResult, now: number, random: number, effects: Effect[]): void {
  const policy = job.spec.service?.restart ?? 'always';
  const limit = job.spec.service?.crashLoopLimit ?? 5;
  const stayedUp = svc.readyAt !== null && now - svc.readyAt >= SERVICE_STABLE_MS;
  svc.pid = null;
  svc.readyAt = null;
  if (stayedUp) svc.crashes = 0;
  const restart = (status: 'PENDING' | 'FAILED', delayMs: number): void => {
    svc.restarts++;
    job.status = status;
    job.notBefore = now + delayMs;
    effects.push({ type: 'job', job }, { type: 'timer', job, at: job.notBefore });
  };
  if (result.outcome === 'LOST') {
    restart('FAILED', 0);
    return;
  }
  const clean = result.outcome === 'COMPLETED';
  if (clean && policy !== 'always') {
    finish(state, job, 'COMPLETED', now, effects, null);
    return;
  }
  if (!clean && (policy === 'never' || isFailFast(result.errorCode))) {
    finish(state, job, 'DEAD', now, effects, result.error);
    return;
  }
  // Under `always` a clean exit is restarted too, but one that keeps coming back at once is
  // looping just as surely as a crash.
  if (!stayedUp || !clean) svc.crashes++;
  if (svc.crashes >= limit) {
    const last = clean ? 'exit code 0' : (result.error ?? 'failed');
    finish(state, job, 'DEAD', now, effects, `crash loop: ${svc.crashes} crashes in a row without staying up ${SERVICE_STABLE_MS / 1000} s (last: ${last})`);
    return;
  }
  restart(clean ? 'PENDING' : 'FAILED', backoffMs(Math.max(1, svc.crashes), random));
}

/**
 * The worker reports a service attempt's progress: its process started on a port, or it passed
 * its readiness probe. The first readiness releases the service's dependents.
 */
export function serviceReported(state: RunState, jobId: string, attempt: number, report: { phase: 'started' | 'ready'; pid: number; port: number }, now: number): Effect[] {
  const job = state.jobs.get(jobId);
  const svc = job?.service;
  if (!job || !svc || !isCurrentAttempt(state, jobId, attempt)) return [];
  svc.pid = report.pid;
  svc.port = report.port;
  const effects: Effect[] = [{ type: 'job', job }];
  if (report.phase === 'ready' && svc.readyAt === null) {
    svc.readyAt = now;
    if (!svc.released) {
      svc.released = true;
      releaseChildren(state, job, now, effects);
    }
  }
  return effects;
}

/**
 * Stops a service for good, whatever it is doing. One that had become ready ends COMPLETED (its
 * dependents already ran); one stopped before it was ever ready ends CANCELLED and its
 * dependents are skipped. Returns null when the job is not a service or has already ended.
 */
export function stopService(state: RunState, jobId: string, now: number): Effect[] | null {
  const job = state.jobs.get(jobId);
  if (!job?.service || isTerminal(job.status)) return null;
  const effects: Effect[] = [];
  const reason = 'stopped by request';
  release(job, now, effects, reason);
  if (job.service.released) {
    job.service.pid = null;
    job.service.readyAt = null;
    finish(state, job, 'COMPLETED', now, effects, null);
  } else {
    finish(state, job, 'CANCELLED', now, effects, reason);
  }
  return effects;
}

function releaseChildren(state: RunState, job: JobRecord, now: number, effects: Effect[]): void {
  for (const childId of state.children.get(job.spec.id) ?? []) {
    const child = state.jobs.get(childId);
    if (!child || isTerminal(child.status) || !state.waitingOn.has(childId)) continue;
    const left = (state.waitingOn.get(childId) ?? 1) - 1;
    if (left > 0) state.waitingOn.set(childId, left);
    else becomeReady(state, child, now, effects);
  }
}

function attemptEnd(job: JobRecord, outcome: AttemptOutcome, exitCode: number | null, error: string | null, now: number): Effect {
  return {
    type: 'attempt',
    attempt: {
      runId: job.runId,
      jobId: job.spec.id,
      attempt: job.attempt,
      workerId: job.workerId ?? '',
      startedAt: job.startedAt ?? now,
      finishedAt: now,
      outcome,
      exitCode,
      error,
    },
  };
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
  if (state.run.status !== 'RUNNING') {
    state.run.status = 'RUNNING';
    state.run.finishedAt = null;
    effects.push({ type: 'run', run: state.run });
  }
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

/** Cancels every open job of the run: all of them end CANCELLED, whatever their order. */
export function cancelRun(state: RunState, now: number): Effect[] {
  const effects: Effect[] = [];
  const reason = 'run cancelled by request';
  for (const job of state.jobs.values()) {
    if (isTerminal(job.status)) continue;
    release(job, now, effects, reason);
    markTerminal(state, job, 'CANCELLED', now, effects, reason);
  }
  if (state.open === 0 && state.run.status === 'RUNNING') settleRun(state, now, effects);
  return effects;
}

/** Moves a job that may be queued or running to a terminal status, releasing what it holds. */
function stop(state: RunState, job: JobRecord, status: JobStatus, now: number, effects: Effect[], reason: string): void {
  release(job, now, effects, reason);
  finish(state, job, status, now, effects, reason);
}

/** Takes a queued job off the queue, or kills its running attempt. */
function release(job: JobRecord, now: number, effects: Effect[], reason: string): void {
  if (job.status === 'QUEUED') effects.push({ type: 'dequeue', job });
  if (job.status === 'RUNNING' && job.workerId !== null) {
    effects.push({ type: 'kill', job, workerId: job.workerId, attempt: job.attempt });
    effects.push(attemptEnd(job, 'CANCELLED', null, reason, now));
  }
}

/**
 * Records a terminal status, then unlocks or skips the children. Skips cascade through every
 * descendant; the cascade uses a work list, not recursion, because a chain may be as long as the
 * run (100,000 jobs). The run is settled once, after the whole cascade.
 */
function finish(state: RunState, job: JobRecord, status: JobStatus, now: number, effects: Effect[], error: string | null): void {
  markTerminal(state, job, status, now, effects, error);
  // A service that was ready released its dependents then; its end changes nothing for them.
  const work: JobRecord[] = job.service?.released ? [] : [job];
  for (let i = 0; i < work.length; i++) {
    const parent = work[i] as JobRecord;
    if (parent.status === 'COMPLETED') {
      releaseChildren(state, parent, now, effects);
      continue;
    }
    for (const childId of state.children.get(parent.spec.id) ?? []) {
      const child = state.jobs.get(childId);
      if (!child || isTerminal(child.status)) continue;
      const reason = `upstream job ${parent.spec.id} is ${parent.status}`;
      release(child, now, effects, reason);
      markTerminal(state, child, 'SKIPPED', now, effects, reason);
      work.push(child);
    }
  }
  if (state.open === 0) settleRun(state, now, effects);
}

function markTerminal(state: RunState, job: JobRecord, status: JobStatus, now: number, effects: Effect[], error: string | null): void {
  job.status = status;
  job.finishedAt = now;
  job.notBefore = null;
  if (status !== 'COMPLETED') job.error = error;
  state.waitingOn.delete(job.spec.id);
  state.open--;
  effects.push({ type: 'job', job });
}

function settleRun(state: RunState, now: number, effects: Effect[]): void {
  let status: RunStatus = 'COMPLETED';
  for (const job of state.jobs.values()) {
    if (job.status === 'CANCELLED') {
      status = 'CANCELLED';
      break;
    }
    if (job.status !== 'COMPLETED') status = 'FAILED';
  }
  state.run.status = status;
  state.run.finishedAt = now;
  effects.push({ type: 'run', run: state.run });
}

/**
 * Rebuilds a run's state from stored records after a master restart. QUEUED jobs are queued
 * again and timers re-armed; RUNNING jobs are left for their workers to reclaim.
 */
export function restoreRun(run: RunRecord, jobs: readonly JobRecord[], now: number): { state: RunState; effects: Effect[] } {
  const state: RunState = { run, jobs: new Map(), children: new Map(), waitingOn: new Map(), open: 0 };
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

/** The worker that ran the job's first parent: the affinity target. */
export function affinityTarget(state: RunState, job: JobRecord): string | null {
  if (job.spec.affinity === 'none') return null;
  const first = job.spec.dependsOn[0];
  return first === undefined ? null : (state.jobs.get(first)?.workerId ?? null);
}
