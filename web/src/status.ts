/**
 * How each job and run status looks: a label and a tone. The tone names the CSS colour variables
 * `--st-<tone>` and `--st-<tone>-bg` in styles.css and the status's icon in icons.tsx (so colour is
 * never the only cue).
 */
import { TERMINAL_JOB_STATUSES } from '../../src/core/statuses.ts';
import type { JobStatus, JobView, RunStatus } from './types.ts';

export type Tone = 'pending' | 'queued' | 'running' | 'completed' | 'failed' | 'dead' | 'cancelled' | 'skipped' | 'approval';

export interface StatusInfo {
  label: string;
  tone: Tone;
  /** One line for a tooltip or screen reader. */
  description: string;
}

const JOB: Record<JobStatus, StatusInfo> = {
  PENDING: { label: 'Pending', tone: 'pending', description: 'waiting for its dependencies or a delay' },
  QUEUED: { label: 'Queued', tone: 'queued', description: 'ready, waiting for a free worker slot' },
  RUNNING: { label: 'Running', tone: 'running', description: 'running on a worker' },
  COMPLETED: { label: 'Completed', tone: 'completed', description: 'finished successfully' },
  FAILED: { label: 'Failed, retrying', tone: 'failed', description: 'an attempt failed; a retry is pending' },
  DEAD: { label: 'Dead', tone: 'dead', description: 'failed with no retries left' },
  CANCELLED: { label: 'Cancelled', tone: 'cancelled', description: 'cancelled' },
  SKIPPED: { label: 'Skipped', tone: 'skipped', description: 'skipped because a dependency did not complete' },
  WAITING_APPROVAL: { label: 'Awaiting approval', tone: 'approval', description: 'an approval gate waiting for a decision' },
};

const RUN: Record<RunStatus, StatusInfo> = {
  RUNNING: { label: 'Running', tone: 'running', description: 'the run has jobs still to finish' },
  COMPLETED: { label: 'Completed', tone: 'completed', description: 'every job completed' },
  FAILED: { label: 'Failed', tone: 'dead', description: 'a job failed for good' },
  CANCELLED: { label: 'Cancelled', tone: 'cancelled', description: 'the run was cancelled' },
};

const UNKNOWN: StatusInfo = { label: 'Unknown', tone: 'pending', description: 'unknown status' };

export function jobStatusInfo(status: string): StatusInfo {
  return (JOB as Record<string, StatusInfo>)[status] ?? { ...UNKNOWN, label: status };
}

export function runStatusInfo(status: string): StatusInfo {
  return (RUN as Record<string, StatusInfo>)[status] ?? { ...UNKNOWN, label: status };
}

/** The CSS colour of a tone (a custom property, so it follows the theme). */
export const toneColor = (tone: Tone): string => `var(--st-${tone})`;

const TERMINAL: ReadonlySet<string> = TERMINAL_JOB_STATUSES;
export const isTerminalStatus = (status: string): boolean => TERMINAL.has(status);

/** Statuses in the order the UI lists them (pipeline order: waiting, working, done, bad). */
export const JOB_STATUS_ORDER: readonly JobStatus[] = ['PENDING', 'QUEUED', 'WAITING_APPROVAL', 'RUNNING', 'FAILED', 'COMPLETED', 'SKIPPED', 'CANCELLED', 'DEAD'];

/** Why a queued job waits, as the master said when it sent the job; null for a job that does not wait. */
export const waitingOf = (job: Pick<JobView, 'status' | 'waitingReason'>): string | null => (job.status === 'QUEUED' ? job.waitingReason : null);
