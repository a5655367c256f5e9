/**
 * The persistence of durable steps (core/steps.ts), part of every Store: one record per (run,
 * job, step name), written by the master when a job reports a step and read back by a later
 * attempt. Each write resolves once it is durable; deleting a run removes its steps.
 */
import type { StepRecord } from '../core/steps.js';

export interface StepStore {
  /**
   * Records the step's outcome unless a COMPLETED one is stored already (never overwritten); a
   * FAILED one is replaced. Resolves, once durable, with what is stored afterwards.
   */
  stepRecord(step: StepRecord): Promise<StepRecord>;
  stepGet(runId: string, jobId: string, name: string): Promise<StepRecord | null>;
  /** Notes that `attempt` took the step's recorded result (raises `cachedIn`; a failed step is left alone). */
  stepCached(runId: string, jobId: string, name: string, attempt: number): Promise<void>;
  /** The job's steps, in the order they started. */
  listSteps(runId: string, jobId: string): Promise<StepRecord[]>;
}

/** The step columns of the SQL stores, in the order of their rows below. */
export const STEP_COLUMNS = 'run_id, job_id, name, status, result, error, attempt, started_at, finished_at, cached_in';

export interface StepRow {
  run_id: string;
  job_id: string;
  name: string;
  status: string;
  result: string | null;
  error: string | null;
  attempt: number;
  started_at: number | string;
  finished_at: number | string;
  cached_in: number | null;
}

export const toStep = (r: StepRow): StepRecord => ({
  runId: r.run_id,
  jobId: r.job_id,
  name: r.name,
  // Written by a store from a validated record.
  status: r.status as StepRecord['status'],
  result: r.result,
  error: r.error,
  attempt: r.attempt,
  // PostgreSQL's BIGINT comes back as text.
  startedAt: Number(r.started_at),
  finishedAt: Number(r.finished_at),
  cachedIn: r.cached_in,
});

/** STEP_COLUMNS' values of a record, in order. */
export const stepParams = (s: StepRecord): [string, string, string, string, string | null, string | null, number, number, number, number | null] => [
  s.runId,
  s.jobId,
  s.name,
  s.status,
  s.result,
  s.error,
  s.attempt,
  s.startedAt,
  s.finishedAt,
  s.cachedIn,
];
