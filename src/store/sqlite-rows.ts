/**
 * The rows of the SQLite store's tables and their mapping to and from the core's records. Write
 * statements bind positional parameters: better-sqlite3 binds an array of values faster than it
 * looks up named properties on an object, and these run several times per job.
 */
import type { RunFlow } from '../core/flow-spec.js';
import type { NotifyTargets } from '../core/notify-spec.js';
import type { AttemptOutcome, AttemptRecord, JobRecord, JobSpec, JobStatus, RunRecord, RunStatus, ServiceState } from '../core/model.js';
import type { JobTotals, RunListing } from './store.js';

export interface RunRow {
  run_id: string;
  name: string;
  agent_run_id: string | null;
  status: string;
  created_at: number;
  finished_at: number | null;
  tags: string | null;
  request_id: string | null;
  started_by: string | null;
  flow: string | null;
  notify: string | null;
}

export interface JobRow {
  run_id: string;
  job_id: string;
  spec: string;
  status: string;
  attempt: number;
  not_before: number | null;
  worker_id: string | null;
  exit_code: number | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  service: string | null;
  retry_base: number;
  lost: number;
  queued_at: number | null;
  added_by: string | null;
}

export interface AttemptRow {
  run_id: string;
  job_id: string;
  attempt: number;
  worker_id: string;
  started_at: number;
  finished_at: number | null;
  queued_at: number | null;
  running_at: number | null;
  outcome: string | null;
  exit_code: number | null;
  error: string | null;
}

/** One row per (run, job status) of the listed runs; job_status is null for a run without jobs. */
export interface RunCountRow extends RunRow {
  job_status: string | null;
  n: number;
}

export type TotalsRow = JobTotals;

/** run_id, name, agent_run_id, status, created_at, finished_at, tags, request_id, started_by, flow, notify */
export type RunParams = [string, string, string | null, string, number, number | null, string | null, string | null, string | null, string | null, string | null];
/** JOB_STATE_COLUMNS in order, then the key: run_id, job_id */
export type JobUpdateParams = [string, number, number | null, string | null, number | null, string | null, number | null, number | null, string | null, number, number, number | null, string, string];
/** JOB_COLUMNS in order (an update's parameters, then spec, created_at and added_by), then run_id again for run_created_at */
export type JobInsertParams = [...JobUpdateParams, string, number, string | null, string];
/** ATTEMPT_COLUMNS in order */
export type AttemptParams = [string, string, number, string, number, number | null, string | null, number | null, string | null, number | null, number | null];
export type DecisionParams = [string, string, number, string, string | null, number, string];

export interface DecisionRow {
  run_id: string;
  job_id: string;
  approved: number;
  decided_by: string;
  comment: string | null;
  at: number;
  reason: string;
}

export const RUN_COLUMNS = 'run_id, name, agent_run_id, status, created_at, finished_at, tags, request_id, started_by, flow, notify';
/** What a job's transitions change: an update writes these, the spec and created_at never change. */
export const JOB_STATE_COLUMNS = ['status', 'attempt', 'not_before', 'worker_id', 'exit_code', 'error', 'started_at', 'finished_at', 'service', 'retry_base', 'lost', 'queued_at'] as const;
/** In the order of an insert's parameters. */
export const JOB_COLUMNS = [...JOB_STATE_COLUMNS, 'run_id', 'job_id', 'spec', 'created_at', 'added_by'].join(', ');
export const ATTEMPT_COLUMNS = 'run_id, job_id, attempt, worker_id, started_at, finished_at, outcome, exit_code, error, queued_at, running_at';

export const runToParams = (r: RunRecord): RunParams => [r.runId, r.name, r.agentRunId ?? null, r.status, r.createdAt, r.finishedAt ?? null, r.tags.length > 0 ? JSON.stringify(r.tags) : null, r.requestId ?? null, r.startedBy ?? null, r.flow ? JSON.stringify(r.flow) : null, r.notify ? JSON.stringify(r.notify) : null];

export const rowToRun = (row: RunRow): RunRecord => ({
  runId: row.run_id,
  name: row.name,
  agentRunId: row.agent_run_id,
  status: row.status as RunStatus,
  createdAt: row.created_at,
  finishedAt: row.finished_at,
  // Written by this store from a string array.
  tags: row.tags === null ? [] : (JSON.parse(row.tags) as string[]),
  ...(row.request_id !== null && { requestId: row.request_id }),
  ...(row.started_by !== null && { startedBy: row.started_by }),
  // Written by this store from a RunFlow.
  ...(row.flow !== null && { flow: JSON.parse(row.flow) as RunFlow }),
  // Written by this store from a validated RunSpec.on.
  ...(row.notify !== null && { notify: JSON.parse(row.notify) as NotifyTargets }),
});

export const jobToUpdateParams = (j: JobRecord): JobUpdateParams => [
  j.status,
  j.attempt,
  j.notBefore ?? null,
  j.workerId ?? null,
  j.exitCode ?? null,
  j.error ?? null,
  j.startedAt ?? null,
  j.finishedAt ?? null,
  j.service ? JSON.stringify(j.service) : null,
  j.retryBase,
  j.lost,
  j.queuedAt ?? null,
  j.runId,
  j.spec.id,
];

export const jobToInsertParams = (j: JobRecord): JobInsertParams => [...jobToUpdateParams(j), JSON.stringify(j.spec), j.createdAt, j.addedBy ?? null, j.runId];

export const rowToJob = (row: JobRow): JobRecord => ({
  runId: row.run_id,
  // The spec was validated when it was submitted and is stored verbatim.
  spec: JSON.parse(row.spec) as JobSpec,
  status: row.status as JobStatus,
  attempt: row.attempt,
  notBefore: row.not_before,
  workerId: row.worker_id,
  exitCode: row.exit_code,
  error: row.error,
  createdAt: row.created_at,
  queuedAt: row.queued_at,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  // Written by this store from a ServiceState.
  service: row.service === null ? null : (JSON.parse(row.service) as ServiceState),
  retryBase: row.retry_base,
  lost: row.lost,
  ...(row.added_by !== null && { addedBy: row.added_by }),
});

export const attemptToParams = (a: AttemptRecord): AttemptParams => [
  a.runId,
  a.jobId,
  a.attempt,
  a.workerId,
  a.startedAt,
  a.finishedAt ?? null,
  a.outcome ?? null,
  a.exitCode ?? null,
  a.error ?? null,
  a.queuedAt ?? null,
  a.runningAt ?? null,
];

export const rowToAttempt = (row: AttemptRow): AttemptRecord => ({
  runId: row.run_id,
  jobId: row.job_id,
  attempt: row.attempt,
  workerId: row.worker_id,
  queuedAt: row.queued_at,
  startedAt: row.started_at,
  runningAt: row.running_at,
  finishedAt: row.finished_at,
  outcome: row.outcome as AttemptOutcome | null,
  exitCode: row.exit_code,
  error: row.error,
});

/** Folds rows of (run, job status, count) into one listing per run, keeping their order. */
export function groupCounts(rows: readonly RunCountRow[]): RunListing[] {
  const listings: RunListing[] = [];
  let current: RunListing | undefined;
  for (const row of rows) {
    if (current?.run.runId !== row.run_id) {
      current = { run: rowToRun(row), counts: {}, total: 0 };
      listings.push(current);
    }
    if (row.job_status !== null) {
      current.counts[row.job_status as JobStatus] = row.n;
      current.total += row.n;
    }
  }
  return listings;
}
