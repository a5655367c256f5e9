/**
 * Records for the store tests: runs, jobs, attempts and schedules with awkward values, and a
 * helper that commits a run with its jobs as a submission would.
 */
import { RunSpecSchema } from '../../src/core/model.js';
import type { AttemptRecord, JobRecord, JobSpec, RunRecord, RunStatus } from '../../src/core/model.js';
import { type ScheduleRecord, ScheduleSpecSchema } from '../../src/core/schedule.js';
import { emptyBatch, type Store, type StoreBatch } from '../../src/store/store.js';
import { jobRecord, jobSpec } from './records.js';

const spec = jobSpec;

/** A spec with every optional field set and awkward values, to check it round-trips intact. */
export const fullSpec = (id: string): JobSpec =>
  spec(id, {
    args: ['--fast', 'two words', '', 'quote"s', 'ünïcødé ✓'],
    dependsOn: ['fetch', 'lint'],
    requirement: 'GPU.large',
    priority: -7,
    delayMs: 1500,
    retries: 0,
    timeoutMs: 60_000,
    affinity: 'required',
    env: { HOME: '/tmp/x', EMPTY: '', MULTI: 'a\nb' },
  });

export function run(runId: string, createdAt: number, status: RunStatus = 'RUNNING', extra: Partial<RunRecord> = {}): RunRecord {
  return { runId, name: `name-${runId}`, agentRunId: null, status, createdAt, finishedAt: null, ...extra, tags: extra.tags ?? [] };
}

export const job = (runId: string, s: JobSpec | string, extra: Partial<JobRecord> = {}): JobRecord => jobRecord(runId, typeof s === 'string' ? spec(s) : s, { createdAt: 1_000, ...extra });

export function attempt(runId: string, jobId: string, n: number, extra: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    runId,
    jobId,
    attempt: n,
    workerId: 'w1:7070',
    queuedAt: null,
    startedAt: 2_000 + n,
    runningAt: null,
    finishedAt: null,
    outcome: null,
    exitCode: null,
    error: null,
    ...extra,
  };
}

export const batch = (b: Partial<StoreBatch>): StoreBatch => ({ ...emptyBatch(), ...b });

/** A run with its jobs, committed as a submission would be. */
export async function submit(store: Store, r: RunRecord, jobIds: (string | JobSpec)[]): Promise<JobRecord[]> {
  const jobs = jobIds.map((s) => job(r.runId, s, { createdAt: r.createdAt }));
  await store.commit(batch({ runs: [r], newJobs: jobs }));
  return jobs;
}


export function schedule(name: string, extra: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    name,
    spec: ScheduleSpecSchema.parse({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }),
    run: RunSpecSchema.parse({ name: `pipeline ${name}`, jobs: [jobSpec('a'), jobSpec('b', { dependsOn: ['a'], args: ['two words', 'ünïcødé ✓', ''], env: { MULTI: 'a\nb' } })] }),
    paused: false,
    nextAt: 1_700_000_060_000,
    lastAt: null,
    lastRunId: null,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...extra,
  };
}
