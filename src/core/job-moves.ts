/**
 * The steps the transitions are made of: settle a job that entered the run, queue a ready one,
 * end one and cascade to its descendants, settle the run. Each updates the state in place and
 * appends the effects it causes.
 */
import type { AttemptOutcome, JobRecord, JobStatus, RunStatus } from './model.js';
import { isTerminal } from './model.js';
import { gateDeadline } from './job-deadlines.js';
import { type Effect, releases, type RunState } from './run-state.js';

/** Decides where a job that has just entered the run stands, given its parents' statuses. */
export function settleNewJob(state: RunState, job: JobRecord, now: number, effects: Effect[]): void {
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

/**
 * Parents are done: queue now, or after the job's delay, counted from this moment or, while the
 * run's debounce window is open, from the window's end.
 */
function becomeReady(state: RunState, job: JobRecord, now: number, effects: Effect[]): void {
  state.waitingOn.delete(job.spec.id);
  const from = Math.max(now, state.run.flow?.debounce?.until ?? now);
  if (from + job.spec.delayMs > now) {
    job.status = 'PENDING';
    job.notBefore = from + job.spec.delayMs;
    effects.push({ type: 'job', job }, { type: 'timer', job, at: job.notBefore });
  } else {
    queue(job, now, effects);
  }
}

/** A ready job goes to the workers' queue; a ready gate opens and waits for a person. */
export function queue(job: JobRecord, now: number, effects: Effect[]): void {
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
  job.queuedAt = now;
  effects.push({ type: 'job', job }, { type: 'enqueue', job });
}

/** A finished run runs again: jobs were added to it or retried. */
export function reopenRun(state: RunState, effects: Effect[]): void {
  if (state.run.status === 'RUNNING') return;
  state.run.status = 'RUNNING';
  state.run.finishedAt = null;
  effects.push({ type: 'run', run: state.run });
}

/** The job released its children (it completed, or it is a service that became ready). */
export function releaseChildren(state: RunState, job: JobRecord, now: number, effects: Effect[]): void {
  for (const childId of state.children.get(job.spec.id) ?? []) {
    const child = state.jobs.get(childId);
    if (!child || isTerminal(child.status) || !state.waitingOn.has(childId)) continue;
    const left = (state.waitingOn.get(childId) ?? 1) - 1;
    if (left > 0) state.waitingOn.set(childId, left);
    else becomeReady(state, child, now, effects);
  }
}

/** The record of the job's current attempt, ended now. */
export function attemptEnd(job: JobRecord, outcome: AttemptOutcome, exitCode: number | null, error: string | null, now: number, stagedMs: number | null = null): Effect {
  const startedAt = job.startedAt ?? now;
  return {
    type: 'attempt',
    attempt: {
      runId: job.runId,
      jobId: job.spec.id,
      attempt: job.attempt,
      workerId: job.workerId ?? '',
      queuedAt: job.queuedAt,
      startedAt,
      // The worker's staging time, laid on the master's clock (never past the end).
      runningAt: stagedMs === null ? null : Math.min(startedAt + stagedMs, now),
      finishedAt: now,
      outcome,
      exitCode,
      error,
    },
  };
}

/** Moves a job that may be queued or running to a terminal status, releasing what it holds. */
export function stop(state: RunState, job: JobRecord, status: JobStatus, now: number, effects: Effect[], reason: string): void {
  release(job, now, effects, reason);
  finish(state, job, status, now, effects, reason);
}

/** Takes a queued job off the queue, or kills its running attempt. */
export function release(job: JobRecord, now: number, effects: Effect[], reason: string): void {
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
export function finish(state: RunState, job: JobRecord, status: JobStatus, now: number, effects: Effect[], error: string | null): void {
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

export function markTerminal(state: RunState, job: JobRecord, status: JobStatus, now: number, effects: Effect[], error: string | null): void {
  job.status = status;
  job.finishedAt = now;
  job.notBefore = null;
  if (status !== 'COMPLETED') job.error = error;
  state.waitingOn.delete(job.spec.id);
  state.open--;
  effects.push({ type: 'job', job });
}

/** Every job ended: the run is COMPLETED, CANCELLED if any job was cancelled, else FAILED. */
export function settleRun(state: RunState, now: number, effects: Effect[]): void {
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
