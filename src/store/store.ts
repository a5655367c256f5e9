/**
 * The persistence seam. The master's transitions produce records; a Store commits them in
 * atomic, durable batches (one per event-loop turn) and answers the queries the master and its
 * clients need. SQLite is the embedded default; other backends implement the same interface and
 * pass the same conformance suite.
 */
import { SetupError, TitanError } from '../core/errors.js';
import type { AgentRunSummary, AttemptRecord, GateDecision, JobRecord, JobStatus, RunRecord, RunStatus } from '../core/model.js';
import type { ScheduleRecord } from '../core/schedule.js';
import type { AccessStore } from './access-store.js';
import type { DataBusStore } from './data-bus-store.js';
import type { StepStore } from './step-store.js';
import type { TriggerStore } from './trigger-store.js';
import type { NotificationStore } from './notification-store.js';

export interface StoreBatch {
  runs: RunRecord[];
  /** Jobs entering the store: inserted with their spec. */
  newJobs: JobRecord[];
  /** Jobs already stored: their mutable fields are updated (the spec never changes). */
  jobs: JobRecord[];
  /** Attempts, inserted or updated by (runId, jobId, attempt). */
  attempts: AttemptRecord[];
  /** Gate decisions, appended. */
  decisions: GateDecision[];
  /**
   * Names the batch, so that committing it again after a failure that left its fate unknown (a
   * remote store's connection dropped before the reply) applies it at most once. Optional.
   */
  id?: string;
}

/**
 * The store cannot be reached or refuses writes for now (a remote store whose connection is
 * down, a server that is loading or out of memory). Nothing the failed call tried is known to be
 * lost: a read can be tried again, and a commit can be retried with the same batch id. It is an
 * UNAVAILABLE TitanError, so a client that meets it is told to try again.
 */
export class StoreUnavailableError extends TitanError {
  /** Whether the store still answers reads (a full disk) or not (a server out of reach). */
  readonly readsWork: boolean;

  constructor(message: string, options?: { cause?: unknown; readsWork?: boolean }) {
    super('UNAVAILABLE', message);
    this.name = 'StoreUnavailableError';
    this.readsWork = options?.readsWork ?? false;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * The store cannot be opened as it is (a file that is not a database, a layout newer than this
 * build): trying again will not help, its operator must act.
 */
export class StoreOpenError extends SetupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}

export interface RunListing {
  run: RunRecord;
  counts: Partial<Record<JobStatus, number>>;
  total: number;
}

/** Lifetime counts. `attempts` and `retried` (attempts after a job's first) count ended attempts. */
export interface JobTotals {
  submitted: number;
  completed: number;
  dead: number;
  attempts: number;
  retried: number;
}

/** Where a listing of runs resumes: strictly after this run in newest-first order. */
export interface RunPosition {
  createdAt: number;
  runId: string;
}

export interface Store extends DataBusStore, AccessStore, StepStore, TriggerStore, NotificationStore {
  /** Applies the whole batch or nothing; resolves once it is durable. */
  commit(batch: StoreBatch): Promise<void>;
  /** Every run that is not finished, with all of its jobs (for recovery at start-up). */
  loadActiveRuns(): Promise<{ run: RunRecord; jobs: JobRecord[] }[]>;
  getRun(runId: string): Promise<RunRecord | null>;
  getRunJobs(runId: string): Promise<JobRecord[]>;
  /** Newest first (by creation time, then run id); optionally only runs of a status and/or carrying a tag, after a position. */
  listRuns(options: { limit: number; status?: RunStatus; tag?: string; after?: RunPosition }): Promise<RunListing[]>;
  /** The run a submission with this client request id created, if any. */
  findRunByRequest(requestId: string): Promise<RunRecord | null>;
  /** The runs of one agent run, oldest first, with per-status job counts. */
  listAgentRunStages(agentRunId: string): Promise<RunListing[]>;
  /** Agent runs, most recently active first. */
  listAgentRuns(limit: number): Promise<AgentRunSummary[]>;
  /** The job of that id in the given run, or in the most recent run that has one. */
  findJob(jobId: string, runId: string | null): Promise<JobRecord | null>;
  listAttempts(runId: string, jobId: string): Promise<AttemptRecord[]>;
  /** Every ended attempt of a run, each job's together in attempt order (the jobs in no promised order). */
  listRunAttempts(runId: string): Promise<AttemptRecord[]>;
  /** Gate decisions, newest first. */
  listDecisions(limit: number): Promise<GateDecision[]>;
  /** Every job ever submitted, completed, dead, and every attempt: deleting runs does not lower them. */
  totals(): Promise<JobTotals>;
  /** Finished runs (not RUNNING) that finished before `cutoff` (ms), oldest first, at most `limit`. */
  finishedRunsBefore(cutoff: number, limit: number): Promise<string[]>;
  /**
   * Removes a finished run with its jobs, attempts, steps, gate decisions and notification deliveries (its artifacts and logs are
   * the master's); false when there is no such run, a CONFLICT error when it is still RUNNING.
   */
  deleteRun(runId: string): Promise<boolean>;
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  /** Creates the schedule of that name, or replaces it whole; resolves once it is durable. */
  putSchedule(record: ScheduleRecord): Promise<void>;
  getSchedule(name: string): Promise<ScheduleRecord | null>;
  /** Every schedule, by name (for arming the timers at start-up and for listings). */
  listSchedules(): Promise<ScheduleRecord[]>;
  /** Removes the schedule; false when there was none of that name. Its past runs are kept. */
  deleteSchedule(name: string): Promise<boolean>;
  close(): Promise<void>;
}

export const emptyBatch = (): StoreBatch => ({ runs: [], newJobs: [], jobs: [], attempts: [], decisions: [] });

/** A batch without records, which a store skips: writing it would still cost an fsync. */
export const isEmptyBatch = (b: StoreBatch): boolean => b.runs.length + b.newJobs.length + b.jobs.length + b.attempts.length + b.decisions.length === 0;

/**
 * The LIMIT of a run listing: null when nothing is to be listed, -1 for no limit (an infinite
 * one), else the limit rounded down (SQLite and the listing script take integers only).
 */
export const listingLimit = (limit: number): number | null => {
  if (!(limit > 0)) return null;
  return Number.isFinite(limit) ? Math.floor(limit) : -1;
};
