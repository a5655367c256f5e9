import { describe, expect, it } from 'vitest';
import type { AttemptRecord } from './model.js';
import { runTimeline } from './timeline.js';
import { jobRecord, jobSpec } from '../../test/helpers/records.js';

const ended = (jobId: string, attempt: number, extra: Partial<AttemptRecord>): AttemptRecord => ({
  runId: 'r1', jobId, attempt, workerId: 'w1:8080', queuedAt: null, startedAt: 0, runningAt: null, finishedAt: null, outcome: null, exitCode: null, error: null, ...extra,
});

describe('runTimeline', () => {
  it('lays out jobs in run order with each attempt a row of its own, the running one from the job', () => {
    const a = jobRecord('r1', jobSpec('a'), { status: 'RUNNING', attempt: 2, workerId: 'w2:8080', queuedAt: 300, startedAt: 310 });
    const b = jobRecord('r1', jobSpec('b'), { status: 'QUEUED', queuedAt: 400 });
    const gate = jobRecord('r1', jobSpec('ok', { kind: 'approval' }), { status: 'COMPLETED', startedAt: 50, finishedAt: 90 });
    const first = ended('a', 1, { queuedAt: 10, startedAt: 12, runningAt: 20, finishedAt: 100, outcome: 'FAILED', exitCode: 3 });
    const t = runTimeline([a, b, gate], [first], 500);
    expect(t.now).toBe(500);
    expect(t.jobs).toEqual({ id: ['a', 'b', 'ok'], status: ['RUNNING', 'QUEUED', 'COMPLETED'], queuedAt: [null, 400, null], gateFrom: [null, null, 50], gateTo: [null, null, 90] });
    expect(t.attempts).toEqual({
      job: [0, 0],
      attempt: [1, 2],
      workerId: ['w1:8080', 'w2:8080'],
      queuedAt: [10, 300],
      startedAt: [12, 310],
      runningAt: [20, null],
      finishedAt: [100, null],
      outcome: ['FAILED', null],
      exitCode: [3, null],
    });
  });

  it('orders a job’s attempts by number whatever order the store returns them in, and ignores attempts of unknown jobs', () => {
    const a = jobRecord('r1', jobSpec('a'), { status: 'COMPLETED', attempt: 2 });
    const t = runTimeline([a], [ended('a', 2, { outcome: 'COMPLETED' }), ended('gone', 1, {}), ended('a', 1, { outcome: 'LOST' })], 0);
    expect(t.attempts.attempt).toEqual([1, 2]);
    expect(t.attempts.outcome).toEqual(['LOST', 'COMPLETED']);
  });

  it('keeps 10,000 jobs as flat columns', () => {
    const jobs = Array.from({ length: 10_000 }, (_, i) => jobRecord('r1', jobSpec(`j${i}`), { status: 'COMPLETED', attempt: 1 }));
    const attempts = jobs.map((j) => ended(j.spec.id, 1, { startedAt: 1, finishedAt: 2, outcome: 'COMPLETED', exitCode: 0 }));
    const t = runTimeline(jobs, attempts, 3);
    expect(t.jobs.id).toHaveLength(10_000);
    expect(t.attempts.job.at(-1)).toBe(9_999);
  });
});
