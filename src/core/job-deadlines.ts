/** When the master stops waiting on a job: a running attempt past its timeout, a gate left undecided. */
import type { JobRecord } from './model.js';

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
