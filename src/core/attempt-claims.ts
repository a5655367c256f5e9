/**
 * Whose an attempt is, for checking what a worker says about it. A job remembers the worker of
 * its latest attempt (each dispatch is a new attempt number), so for that attempt the master knows
 * for certain which worker may report; an older attempt's report is stale and changes nothing
 * whoever sends it. Only positive evidence counts as forgery: a late report from the rightful
 * worker must never be refused, or the valid results sent with it would be lost.
 */
import type { JobRecord } from './model.js';

export type AttemptClaim =
  /** No active run has the job (finished, deleted, or never there): a report changes nothing. */
  | { kind: 'unknown' }
  /** An attempt before the job's latest one: stale, a report changes nothing. */
  | { kind: 'older' }
  /** The job's latest attempt, dispatched to `workerId`; `running` while it has no result. */
  | { kind: 'latest'; workerId: string; running: boolean }
  /** An attempt number the master never dispatched. */
  | { kind: 'never' };

export function claimOf(job: JobRecord | undefined, attempt: number): AttemptClaim {
  if (!job) return { kind: 'unknown' };
  if (attempt < job.attempt) return { kind: 'older' };
  if (attempt > job.attempt || job.workerId === null) return { kind: 'never' };
  return { kind: 'latest', workerId: job.workerId, running: job.status === 'RUNNING' };
}

/** The attempt was dispatched to another worker, or never: `workerId` has no business reporting it. */
export const isForeign = (claim: AttemptClaim, workerId: string): boolean => claim.kind === 'never' || (claim.kind === 'latest' && claim.workerId !== workerId);

/** The attempt runs on `workerId` now. */
export const isRunningOn = (claim: AttemptClaim, workerId: string): boolean => claim.kind === 'latest' && claim.running && claim.workerId === workerId;
