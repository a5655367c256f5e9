/**
 * A run's timeline in columns: one array per field instead of one object per job or attempt, so
 * a 10,000-job run stays a compact answer and the dashboard reads a row by index. Pure: the
 * records and the time in, the columns out.
 */
import type { AttemptOutcome, AttemptRecord, JobRecord, JobStatus } from './model.js';

export interface RunTimeline {
  /** The master's time when the timeline was read: open bars end here. */
  now: number;
  jobs: {
    id: string[];
    status: JobStatus[];
    /** When a job waiting in the queue now entered it (null unless QUEUED). */
    queuedAt: (number | null)[];
    /** An approval gate's wait: opened (null for other jobs), and decided (null while open). */
    gateFrom: (number | null)[];
    gateTo: (number | null)[];
  };
  /** One entry per attempt, the running one included; `job` is an index into `jobs`. */
  attempts: {
    job: number[];
    attempt: number[];
    workerId: string[];
    queuedAt: (number | null)[];
    startedAt: number[];
    runningAt: (number | null)[];
    finishedAt: (number | null)[];
    /** null while the attempt runs. */
    outcome: (AttemptOutcome | null)[];
    exitCode: (number | null)[];
  };
}

type TimelineJob = Pick<JobRecord, 'status' | 'attempt' | 'workerId' | 'queuedAt' | 'startedAt' | 'finishedAt' | 'exitCode'> & { spec: Pick<JobRecord['spec'], 'id' | 'kind'> };

/**
 * Shapes a run's jobs (in run order) and its ended attempts into columns. A running job's current
 * attempt is not stored yet: it is added from the job itself.
 */
export function runTimeline(jobs: readonly TimelineJob[], ended: readonly AttemptRecord[], now: number): RunTimeline {
  const t: RunTimeline = {
    now,
    jobs: { id: [], status: [], queuedAt: [], gateFrom: [], gateTo: [] },
    attempts: { job: [], attempt: [], workerId: [], queuedAt: [], startedAt: [], runningAt: [], finishedAt: [], outcome: [], exitCode: [] },
  };
  const byJob = new Map<string, AttemptRecord[]>();
  for (const a of ended) {
    const list = byJob.get(a.jobId);
    if (list) list.push(a);
    else byJob.set(a.jobId, [a]);
  }
  const push = (index: number, a: AttemptRecord): void => {
    const c = t.attempts;
    c.job.push(index);
    c.attempt.push(a.attempt);
    c.workerId.push(a.workerId);
    c.queuedAt.push(a.queuedAt);
    c.startedAt.push(a.startedAt);
    c.runningAt.push(a.runningAt);
    c.finishedAt.push(a.finishedAt);
    c.outcome.push(a.outcome);
    c.exitCode.push(a.exitCode);
  };
  jobs.forEach((job, index) => {
    const id = job.spec.id;
    const gate = job.spec.kind === 'approval';
    t.jobs.id.push(id);
    t.jobs.status.push(job.status);
    t.jobs.queuedAt.push(job.status === 'QUEUED' ? job.queuedAt : null);
    t.jobs.gateFrom.push(gate ? job.startedAt : null);
    t.jobs.gateTo.push(gate && job.startedAt !== null ? job.finishedAt : null);
    const attempts = (byJob.get(id) ?? []).slice().sort((a, b) => a.attempt - b.attempt);
    for (const a of attempts) push(index, a);
    const last = attempts.at(-1)?.attempt ?? 0;
    if (job.status === 'RUNNING' && job.attempt > last && job.startedAt !== null) {
      push(index, { runId: '', jobId: id, attempt: job.attempt, workerId: job.workerId ?? '', queuedAt: job.queuedAt, startedAt: job.startedAt, runningAt: null, finishedAt: null, outcome: null, exitCode: null, error: null });
    }
  });
  return t;
}
