/**
 * A run's in-memory state and the effects its transitions return, with the queries over that
 * state the transitions and the master share. The transitions are in run-transitions.ts (a run
 * and its jobs), attempt-transitions.ts (attempts and timers) and service-transitions.ts
 * (long-running services); the steps they share are in job-moves.ts.
 */
import type { FailureCode } from './failure-codes.js';
import type { AttemptOutcome, AttemptRecord, GateDecision, JobRecord, RunRecord } from './model.js';
import { isTerminal } from './model.js';

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
  /** How long the worker took from the dispatch to the process start (staging), when it says. */
  stagedMs?: number | null;
}

/** A run's state before any of its jobs is added. */
export function emptyState(run: RunRecord): RunState {
  return { run, jobs: new Map(), children: new Map(), waitingOn: new Map(), open: 0 };
}

export function addChild(state: RunState, parent: string, child: string): void {
  const list = state.children.get(parent);
  if (list) list.push(child);
  else state.children.set(parent, [child]);
}

/**
 * A parent no longer holds its child back: it completed, or it is a service that became ready
 * (and has not ended since).
 */
export function releases(parent: JobRecord): boolean {
  return parent.status === 'COMPLETED' || (parent.service?.released === true && !isTerminal(parent.status));
}

/** True when a report about `attempt` concerns the job's current, running attempt. */
export function isCurrentAttempt(state: RunState, jobId: string, attempt: number): boolean {
  const job = state.jobs.get(jobId);
  return job !== undefined && job.status === 'RUNNING' && job.attempt === attempt;
}

/** The worker that ran the job's first parent: the affinity target. */
export function affinityTarget(state: RunState, job: JobRecord): string | null {
  if (job.spec.affinity === 'none') return null;
  const first = job.spec.dependsOn[0];
  return first === undefined ? null : (state.jobs.get(first)?.workerId ?? null);
}
