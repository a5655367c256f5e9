import { describe, expect, it } from 'vitest';
import { jobSpec } from '../../test/helpers/records.js';
import type { JobRecord } from './model.js';
import { finishAttempt, startAttempt, timerDue } from './attempt-transitions.js';
import type { RunState } from './run-state.js';
import { cancelJob, createRun, retryJob } from './run-transitions.js';

const FAIL = { outcome: 'FAILED', exitCode: 1, error: 'exit code 1' } as const;
const OK = { outcome: 'COMPLETED', exitCode: 0, error: null } as const;

function job(state: RunState, id: string): JobRecord {
  const j = state.jobs.get(id);
  if (!j) throw new Error(`no job ${id}`);
  return j;
}

function fail(state: RunState, id: string, at: number): void {
  startAttempt(state, id, 'w1', at);
  finishAttempt(state, id, job(state, id).attempt, FAIL, at + 1, 0.5);
}

describe('retryJob', () => {
  it('reopens a dead job and the descendants it skipped, with a fresh retry budget, and reopens the run', () => {
    const { state } = createRun('r1', { name: 'r', jobs: [jobSpec('a', { retries: 1 }), jobSpec('b', { dependsOn: ['a'] }), jobSpec('c', { dependsOn: ['b'] })] }, 0);
    fail(state, 'a', 1);
    timerDue(state, 'a', job(state, 'a').notBefore ?? 0, 0.5);
    fail(state, 'a', 5000);
    expect(job(state, 'a').status).toBe('DEAD');
    expect(state.run.status).toBe('FAILED');

    const effects = retryJob(state, 'a', 10_000) ?? [];
    expect(effects.some((e) => e.type === 'run')).toBe(true);
    expect(state.run).toMatchObject({ status: 'RUNNING', finishedAt: null });
    expect(job(state, 'a')).toMatchObject({ status: 'QUEUED', retryBase: 2, error: null });
    expect(job(state, 'b').status).toBe('PENDING');
    expect(job(state, 'c').status).toBe('PENDING');

    // One retry is left again: the first failure after the retry is retried, not fatal.
    fail(state, 'a', 11_000);
    expect(job(state, 'a')).toMatchObject({ status: 'FAILED', attempt: 3 });
    timerDue(state, 'a', job(state, 'a').notBefore ?? 0, 0.5);
    startAttempt(state, 'a', 'w1', 20_000);
    finishAttempt(state, 'a', 4, OK, 20_001, 0.5);
    expect(job(state, 'b').status).toBe('QUEUED');
  });

  it('leaves a descendant skipped when another of its parents is still dead', () => {
    const { state } = createRun('r1', { name: 'r', jobs: [jobSpec('a', { retries: 0 }), jobSpec('x', { retries: 0 }), jobSpec('b', { dependsOn: ['a', 'x'] })] }, 0);
    fail(state, 'a', 1);
    fail(state, 'x', 1);
    retryJob(state, 'a', 100);
    expect(job(state, 'a').status).toBe('QUEUED');
    expect(job(state, 'b').status).toBe('SKIPPED');
    expect(state.open).toBe(1);
  });

  it('retries a cancelled job', () => {
    const { state } = createRun('r1', { name: 'r', jobs: [jobSpec('a'), jobSpec('b', { dependsOn: ['a'] })] }, 0);
    cancelJob(state, 'a', 1);
    expect(state.run.status).toBe('CANCELLED');
    retryJob(state, 'a', 2);
    expect(job(state, 'a').status).toBe('QUEUED');
    expect(job(state, 'b').status).toBe('PENDING');
    expect(state.run.status).toBe('RUNNING');
  });

  it('refuses jobs that completed, are still open, or do not exist', () => {
    const { state } = createRun('r1', { name: 'r', jobs: [jobSpec('a'), jobSpec('b')] }, 0);
    startAttempt(state, 'a', 'w1', 1);
    finishAttempt(state, 'a', 1, OK, 2, 0.5);
    expect(retryJob(state, 'a', 3)).toBeNull();
    expect(retryJob(state, 'b', 3)).toBeNull();
    expect(retryJob(state, 'nope', 3)).toBeNull();
  });
});
