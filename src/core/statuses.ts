/** The statuses of jobs and runs, apart from the schemas so the dashboard can list them without zod. */
export const JOB_STATUSES = [
  'PENDING',
  'QUEUED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'DEAD',
  'CANCELLED',
  'SKIPPED',
  'WAITING_APPROVAL',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job never leaves. FAILED is not among them: it means "failed, retry pending". */
export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['COMPLETED', 'DEAD', 'CANCELLED', 'SKIPPED']);
export const isTerminal = (s: JobStatus): boolean => TERMINAL_JOB_STATUSES.has(s);

export const RUN_STATUSES = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
