/**
 * The transitions of a job's attempts: one starts on a worker, ends with a report (or is lost),
 * or outlives its deadline; and the timers of delays, backoffs and gates. Each updates the state
 * and returns the effects the master must carry out. No I/O and no clock: the time and any
 * randomness are arguments.
 */
import type { AttemptRecord, GateDecision } from './model.js';
import { attemptDeadline, gateDeadline, TIMEOUT_GRACE_MS } from './job-deadlines.js';
import { attemptEnd, finish, queue } from './job-moves.js';
import { backoffMs, DEFAULT_MAX_LOST_ATTEMPTS, isFailFast } from './retry.js';
import { type AttemptResult, type Effect, isCurrentAttempt, type RunState } from './run-state.js';
import { serviceEnded } from './service-transitions.js';

/**
 * A timer fired: a delay or backoff ended, a running attempt outlived its deadline, or a gate
 * waited too long for a decision. Ignored unless the job is still waiting for exactly that.
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
    queuedAt: job.queuedAt,
    startedAt: now,
    runningAt: null,
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

/**
 * The current attempt ended (completed, failed, timed out, or lost to the infrastructure). Reports
 * from any other attempt are stale and change nothing. A lost attempt is queued again at once and
 * spends no retry: only more than `maxLost` losses end the job.
 */
export function finishAttempt(state: RunState, jobId: string, attempt: number, result: AttemptResult, now: number, random: number, maxLost: number = DEFAULT_MAX_LOST_ATTEMPTS): Effect[] {
  const job = state.jobs.get(jobId);
  if (!job || !isCurrentAttempt(state, jobId, attempt)) return [];
  const effects: Effect[] = [attemptEnd(job, result.outcome, result.exitCode, result.error, now, result.stagedMs ?? null)];
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
