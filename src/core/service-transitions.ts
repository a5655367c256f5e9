/**
 * The transitions of a long-running service: its process reports that it started or became
 * ready, it ends and is restarted by its policy (or given up as a crash loop), or it is stopped
 * by request. Each updates the state and returns (or appends) the effects the master must carry
 * out. No I/O and no clock: the time and any randomness are arguments.
 */
import type { JobRecord, ServiceState } from './model.js';
import { isTerminal } from './model.js';
import { finish, release, releaseChildren } from './job-moves.js';
import { backoffMs, isFailFast } from './retry.js';
import { type AttemptResult, type Effect, isCurrentAttempt, type RunState } from './run-state.js';

/** A service that stayed ready this long before it ended is no longer crash-looping. */
export const SERVICE_STABLE_MS = 30_000;

/**
 * A service's process ended: restart it by its policy (a lost worker always restarts it
 * elsewhere, and does not count as a crash), or give it up. Exits in a row without staying up
 * (crashes, or clean exits under `always`) back off exponentially; reaching the crash-loop limit
 * makes the service DEAD with its logs kept.
 */
export function serviceEnded(state: RunState, job: JobRecord, svc: ServiceState, result: AttemptResult, now: number, random: number, effects: Effect[]): void {
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
