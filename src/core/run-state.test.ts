import { describe, expect, it } from 'vitest';
import { jobRecord, jobSpec } from '../../test/helpers/records.js';
import type { JobRecord, JobSpec, JobStatus, RunRecord, RunSpec } from './model.js';
import { finishAttempt, startAttempt, timerDue } from './attempt-transitions.js';
import { TIMEOUT_GRACE_MS } from './job-deadlines.js';
import { affinityTarget, type Effect, isCurrentAttempt, type RunState } from './run-state.js';
import { cancelJob, cancelRun, createRun, decideGate, extendRun, restoreRun, retryJob } from './run-transitions.js';

const spec = (id: string, options: Partial<Omit<JobSpec, 'id'>> = {}): JobSpec => jobSpec(id, options);

const after = (...parents: string[]): Partial<JobSpec> => ({ dependsOn: parents });

function runSpec(...jobs: JobSpec[]): RunSpec {
  return { name: 'test-run', tags: [], jobs };
}

function create(now: number, ...jobs: JobSpec[]): { state: RunState; effects: Effect[] } {
  return createRun('r1', runSpec(...jobs), now);
}

function job(state: RunState, id: string): JobRecord {
  const j = state.jobs.get(id);
  if (!j) throw new Error(`no job ${id}`);
  return j;
}

const status = (state: RunState, id: string): JobStatus => job(state, id).status;

function statuses(state: RunState): Record<string, JobStatus> {
  return Object.fromEntries([...state.jobs].map(([id, j]) => [id, j.status]));
}

/** The effects of one type, narrowed. */
function ofType<T extends Effect['type']>(effects: readonly Effect[], type: T): Extract<Effect, { type: T }>[] {
  return effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
}

const ids = (effects: readonly { job: JobRecord }[]): string[] => effects.map((e) => e.job.spec.id);

const OK = { outcome: 'COMPLETED', exitCode: 0, error: null } as const;
const FAIL = { outcome: 'FAILED', exitCode: 1, error: 'exit code 1' } as const;

/** Starts a queued job on a worker and reports the attempt's end. */
function runJob(state: RunState, id: string, result: Parameters<typeof finishAttempt>[3], start: number, end: number, worker = 'w1', random = 0.5): Effect[] {
  expect(startAttempt(state, id, worker, start)).not.toEqual([]);
  return finishAttempt(state, id, job(state, id).attempt, result, end, random);
}

function snapshot(state: RunState): unknown {
  return structuredClone({ run: state.run, jobs: [...state.jobs], waitingOn: [...state.waitingOn], open: state.open });
}

describe('createRun', () => {
  it('queues roots and leaves children pending', () => {
    const { state, effects } = create(1000, spec('a'), spec('b'), spec('c', after('a', 'b')));
    expect(state.run).toEqual({ runId: 'r1', name: 'test-run', agentRunId: null, status: 'RUNNING', createdAt: 1000, finishedAt: null, tags: [] });
    expect(effects[0]).toEqual({ type: 'run', run: state.run });
    expect(statuses(state)).toEqual({ a: 'QUEUED', b: 'QUEUED', c: 'PENDING' });
    expect(ids(ofType(effects, 'enqueue'))).toEqual(['a', 'b']);
    expect(ofType(effects, 'timer')).toEqual([]);
    expect(state.waitingOn.get('c')).toBe(2);
    expect(state.waitingOn.has('a')).toBe(false);
    expect(state.open).toBe(3);
    expect(state.children.get('a')).toEqual(['c']);
    expect(state.children.get('b')).toEqual(['c']);
    for (const j of state.jobs.values()) {
      expect(j).toMatchObject({ runId: 'r1', attempt: 0, workerId: null, createdAt: 1000, startedAt: null, finishedAt: null, notBefore: null });
    }
    // Every job is announced for persistence.
    expect(new Set(ids(ofType(effects, 'job')))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('keeps the agent run id', () => {
    const { state } = createRun('r9', { name: 'n', agentRunId: 'agent-1', jobs: [spec('a')] }, 5);
    expect(state.run.agentRunId).toBe('agent-1');
    expect(job(state, 'a').runId).toBe('r9');
  });

  it('holds a delayed root PENDING with a timer at now + delay', () => {
    const { state, effects } = create(1000, spec('a', { delayMs: 5000 }));
    expect(status(state, 'a')).toBe('PENDING');
    expect(job(state, 'a').notBefore).toBe(6000);
    expect(ofType(effects, 'timer').map((e) => [e.job.spec.id, e.at])).toEqual([['a', 6000]]);
    expect(ofType(effects, 'enqueue')).toEqual([]);
    expect(state.waitingOn.has('a')).toBe(false);
  });

  it('counts a parent listed twice once', () => {
    const { state } = create(0, spec('a'), spec('b', after('a', 'a')));
    expect(state.waitingOn.get('b')).toBe(1);
    const effects = runJob(state, 'a', OK, 1, 2);
    expect(status(state, 'b')).toBe('QUEUED');
    expect(ids(ofType(effects, 'enqueue'))).toEqual(['b']);
  });

  it('handles children listed before their parents', () => {
    const { state } = create(0, spec('c', after('a')), spec('a'));
    expect(statuses(state)).toEqual({ c: 'PENDING', a: 'QUEUED' });
    runJob(state, 'a', OK, 1, 2);
    expect(status(state, 'c')).toBe('QUEUED');
  });
});

describe('timerDue', () => {
  it('queues a delayed job at its deadline, not before', () => {
    const { state } = create(1000, spec('a', { delayMs: 5000 }));
    expect(timerDue(state, 'a', 5999, 0.5)).toEqual([]);
    expect(status(state, 'a')).toBe('PENDING');
    const effects = timerDue(state, 'a', 6000, 0.5);
    expect(status(state, 'a')).toBe('QUEUED');
    expect(job(state, 'a').notBefore).toBeNull();
    expect(effects.map((e) => e.type)).toEqual(['job', 'enqueue']);
    // A second firing is stale.
    expect(timerDue(state, 'a', 7000, 0.5)).toEqual([]);
  });

  it('ignores unknown jobs and jobs not waiting on a timer', () => {
    const { state } = create(0, spec('a'), spec('b', after('a')));
    expect(timerDue(state, 'nope', 10, 0.5)).toEqual([]);
    expect(timerDue(state, 'a', 10, 0.5)).toEqual([]);
    expect(timerDue(state, 'b', 10, 0.5)).toEqual([]);
    expect(statuses(state)).toEqual({ a: 'QUEUED', b: 'PENDING' });
  });
});

describe('startAttempt', () => {
  it('runs a queued job as attempt 1 and records the attempt', () => {
    const { state } = create(0, spec('a'));
    const effects = startAttempt(state, 'a', 'host:1', 100);
    const a = job(state, 'a');
    expect(a).toMatchObject({ status: 'RUNNING', attempt: 1, workerId: 'host:1', startedAt: 100 });
    expect(effects).toEqual([
      { type: 'job', job: a },
      {
        type: 'attempt',
        attempt: { runId: 'r1', jobId: 'a', attempt: 1, workerId: 'host:1', queuedAt: 0, startedAt: 100, runningAt: null, finishedAt: null, outcome: null, exitCode: null, error: null },
      },
    ]);
    expect(isCurrentAttempt(state, 'a', 1)).toBe(true);
    expect(isCurrentAttempt(state, 'a', 2)).toBe(false);
  });

  it('does nothing for a job that is not queued', () => {
    const { state } = create(0, spec('a'), spec('b', after('a')));
    expect(startAttempt(state, 'b', 'w', 1)).toEqual([]);
    expect(startAttempt(state, 'nope', 'w', 1)).toEqual([]);
    startAttempt(state, 'a', 'w', 1);
    expect(startAttempt(state, 'a', 'w2', 2)).toEqual([]);
    expect(job(state, 'a')).toMatchObject({ workerId: 'w', attempt: 1, startedAt: 1 });
  });
});

describe('finishAttempt', () => {
  it('completes a job, records the attempt and unlocks its child', () => {
    const { state } = create(0, spec('a'), spec('b', after('a')));
    startAttempt(state, 'a', 'w1', 10);
    const effects = finishAttempt(state, 'a', 1, OK, 20, 0.5);
    expect(job(state, 'a')).toMatchObject({ status: 'COMPLETED', finishedAt: 20, exitCode: 0, error: null });
    expect(ofType(effects, 'attempt').map((e) => e.attempt)).toEqual([
      { runId: 'r1', jobId: 'a', attempt: 1, workerId: 'w1', queuedAt: 0, startedAt: 10, runningAt: null, finishedAt: 20, outcome: 'COMPLETED', exitCode: 0, error: null },
    ]);
    expect(status(state, 'b')).toBe('QUEUED');
    expect(ids(ofType(effects, 'enqueue'))).toEqual(['b']);
    expect(state.waitingOn.has('b')).toBe(false);
    expect(state.run.status).toBe('RUNNING');
  });

  it('delays a child from the moment it became ready', () => {
    const { state } = create(0, spec('a'), spec('b', { ...after('a'), delayMs: 500 }));
    expect(status(state, 'b')).toBe('PENDING');
    expect(job(state, 'b').notBefore).toBeNull();
    const effects = runJob(state, 'a', OK, 100, 10_000);
    expect(status(state, 'b')).toBe('PENDING');
    expect(job(state, 'b').notBefore).toBe(10_500);
    expect(ofType(effects, 'timer').map((e) => [e.job.spec.id, e.at])).toEqual([['b', 10_500]]);
    expect(ofType(effects, 'enqueue')).toEqual([]);
    expect(timerDue(state, 'b', 10_499, 0.5)).toEqual([]);
    expect(ids(ofType(timerDue(state, 'b', 10_500, 0.5), 'enqueue'))).toEqual(['b']);
    expect(status(state, 'b')).toBe('QUEUED');
  });

  it('fan-in waits for every parent', () => {
    const { state } = create(0, spec('a'), spec('b'), spec('c'), spec('d', after('a', 'b', 'c')));
    runJob(state, 'a', OK, 1, 2);
    expect(status(state, 'd')).toBe('PENDING');
    expect(state.waitingOn.get('d')).toBe(2);
    const e2 = runJob(state, 'c', OK, 3, 4);
    expect(ofType(e2, 'enqueue')).toEqual([]);
    expect(state.waitingOn.get('d')).toBe(1);
    const e3 = runJob(state, 'b', OK, 5, 6);
    expect(ids(ofType(e3, 'enqueue'))).toEqual(['d']);
    expect(status(state, 'd')).toBe('QUEUED');
  });

  it('runs a diamond to completion and completes the run only at the end', () => {
    const { state } = create(0, spec('a'), spec('b', after('a')), spec('c', after('a')), spec('d', after('b', 'c')));
    runJob(state, 'a', OK, 1, 2);
    expect(statuses(state)).toEqual({ a: 'COMPLETED', b: 'QUEUED', c: 'QUEUED', d: 'PENDING' });
    runJob(state, 'b', OK, 3, 4);
    runJob(state, 'c', OK, 3, 5);
    expect(state.run.status).toBe('RUNNING');
    const last = runJob(state, 'd', OK, 6, 7);
    expect(state.run).toMatchObject({ status: 'COMPLETED', finishedAt: 7 });
    expect(ofType(last, 'run')).toEqual([{ type: 'run', run: state.run }]);
    expect(state.open).toBe(0);
  });

  it('retries a failure after a backoff, then runs attempt 2', () => {
    const { state } = create(0, spec('a', { retries: 2 }), spec('b', after('a')));
    startAttempt(state, 'a', 'w1', 500);
    const effects = finishAttempt(state, 'a', 1, FAIL, 1000, 0.5);
    // First retry: 1000 ms nominal, no jitter at random 0.5.
    expect(job(state, 'a')).toMatchObject({ status: 'FAILED', notBefore: 2000, exitCode: 1, error: 'exit code 1', attempt: 1 });
    expect(ofType(effects, 'timer').map((e) => e.at)).toEqual([2000]);
    expect(ofType(effects, 'attempt').map((e) => e.attempt)).toEqual([
      { runId: 'r1', jobId: 'a', attempt: 1, workerId: 'w1', queuedAt: 0, startedAt: 500, runningAt: null, finishedAt: 1000, outcome: 'FAILED', exitCode: 1, error: 'exit code 1' },
    ]);
    expect(status(state, 'b')).toBe('PENDING');
    expect(state.run.status).toBe('RUNNING');
    expect(state.open).toBe(2);

    expect(timerDue(state, 'a', 1999, 0.5)).toEqual([]);
    expect(ids(ofType(timerDue(state, 'a', 2000, 0.5), 'enqueue'))).toEqual(['a']);
    expect(status(state, 'a')).toBe('QUEUED');

    const started = startAttempt(state, 'a', 'w2', 2100);
    expect(job(state, 'a')).toMatchObject({ status: 'RUNNING', attempt: 2, workerId: 'w2', exitCode: null, error: null });
    expect(ofType(started, 'attempt')[0]?.attempt.attempt).toBe(2);

    // Second retry at random 0: 2000 ms nominal minus 20%.
    finishAttempt(state, 'a', 2, { outcome: 'TIMED_OUT', exitCode: null, error: 'timed out' }, 3000, 0);
    expect(job(state, 'a')).toMatchObject({ status: 'FAILED', notBefore: 4600 });
    timerDue(state, 'a', 4600, 0.5);
    startAttempt(state, 'a', 'w1', 4700);
    finishAttempt(state, 'a', 3, OK, 4800, 0.5);
    expect(statuses(state)).toEqual({ a: 'COMPLETED', b: 'QUEUED' });
  });

  it('queues an attempt lost to the infrastructure again at once, without spending a retry', () => {
    const { state } = create(0, spec('a', { retries: 0 }));
    startAttempt(state, 'a', 'w1', 0);
    const effects = finishAttempt(state, 'a', 1, { outcome: 'LOST', exitCode: null, error: 'worker lost' }, 10, 0.5);
    expect(job(state, 'a')).toMatchObject({ status: 'QUEUED', lost: 1, notBefore: null });
    expect(ofType(effects, 'attempt')[0]?.attempt.outcome).toBe('LOST');
    expect(ofType(effects, 'enqueue')).toHaveLength(1);
    startAttempt(state, 'a', 'w2', 20);
    finishAttempt(state, 'a', 2, OK, 30, 0.5);
    expect(job(state, 'a')).toMatchObject({ status: 'COMPLETED', attempt: 2 });
  });

  it('counts lost attempts apart: a real failure after losses still has the whole retry budget', () => {
    const { state } = create(0, spec('a', { retries: 1 }));
    for (let n = 1; n <= 3; n++) {
      startAttempt(state, 'a', 'w1', n);
      finishAttempt(state, 'a', n, { outcome: 'LOST', exitCode: null, error: 'worker lost' }, n, 0.5);
    }
    startAttempt(state, 'a', 'w1', 10);
    finishAttempt(state, 'a', 4, FAIL, 11, 0.5);
    expect(job(state, 'a')).toMatchObject({ status: 'FAILED', attempt: 4, lost: 3 });
    timerDue(state, 'a', job(state, 'a').notBefore ?? 0, 0.5);
    startAttempt(state, 'a', 'w1', 10_000);
    finishAttempt(state, 'a', 5, FAIL, 10_001, 0.5);
    expect(job(state, 'a')).toMatchObject({ status: 'DEAD', attempt: 5 });
  });

  it('gives a job up once it lost more attempts than the lost-attempt budget, and a manual retry resets the budget', () => {
    const { state } = create(0, spec('a', { retries: 5 }), spec('b', after('a')));
    for (let n = 1; n <= 3; n++) {
      startAttempt(state, 'a', 'w1', n);
      finishAttempt(state, 'a', n, { outcome: 'LOST', exitCode: null, error: `worker ${n} died` }, n, 0.5, 2);
    }
    expect(job(state, 'a')).toMatchObject({ status: 'DEAD', lost: 3 });
    expect(job(state, 'a').error).toContain('3 attempts were lost to the infrastructure (the limit is 2)');
    expect(job(state, 'a').error).toContain('worker 3 died');
    expect(status(state, 'b')).toBe('SKIPPED');
    retryJob(state, 'a', 100);
    expect(job(state, 'a')).toMatchObject({ status: 'QUEUED', lost: 0, retryBase: 3 });
  });

  it('with retries exhausted, the job is DEAD, every descendant SKIPPED and the run FAILED', () => {
    const { state } = create(
      0,
      spec('a', { retries: 1 }),
      spec('b', after('a')),
      spec('c', after('b')),
      spec('d', after('c')),
      spec('e', after('a')),
      spec('other'),
    );
    runJob(state, 'other', OK, 1, 2);
    runJob(state, 'a', FAIL, 1, 10);
    timerDue(state, 'a', job(state, 'a').notBefore ?? 0, 0.5);
    const effects = runJob(state, 'a', { outcome: 'FAILED', exitCode: 2, error: 'boom' }, 20, 30);
    expect(job(state, 'a')).toMatchObject({ status: 'DEAD', attempt: 2, error: 'boom', exitCode: 2, finishedAt: 30, notBefore: null });
    expect(ofType(effects, 'timer')).toEqual([]);
    expect(statuses(state)).toEqual({ a: 'DEAD', b: 'SKIPPED', c: 'SKIPPED', d: 'SKIPPED', e: 'SKIPPED', other: 'COMPLETED' });
    expect(job(state, 'b').error).toBe('upstream job a is DEAD');
    expect(job(state, 'e').error).toContain('upstream job a');
    expect(job(state, 'c').error).toBe('upstream job b is SKIPPED');
    expect(job(state, 'd').error).toContain('upstream job c');
    for (const id of ['b', 'c', 'd', 'e']) expect(job(state, id).finishedAt).toBe(30);
    expect(state.run).toMatchObject({ status: 'FAILED', finishedAt: 30 });
    expect(ofType(effects, 'run')).toHaveLength(1);
    expect(state.open).toBe(0);
    expect(state.waitingOn.size).toBe(0);
    // Skipped jobs were never queued, so nothing to dequeue or kill.
    expect(ofType(effects, 'dequeue')).toEqual([]);
    expect(ofType(effects, 'kill')).toEqual([]);
  });

  it('skips a 100,000-job chain below a dead root without exhausting the stack, settling the run once', () => {
    const n = 100_000;
    const jobs = Array.from({ length: n }, (_, i) => spec(`j${i}`, i === 0 ? { retries: 0 } : after(`j${i - 1}`)));
    const { state } = createRun('r1', { name: 'long', jobs }, 0);
    startAttempt(state, 'j0', 'w1', 1);
    const effects = finishAttempt(state, 'j0', 1, FAIL, 2, 0.5);
    expect(status(state, 'j0')).toBe('DEAD');
    expect(status(state, `j${n - 1}`)).toBe('SKIPPED');
    expect(job(state, `j${n - 1}`).error).toBe(`upstream job j${n - 2} is SKIPPED`);
    expect([...state.jobs.values()].filter((j) => j.status === 'SKIPPED')).toHaveLength(n - 1);
    expect(ofType(effects, 'run')).toHaveLength(1);
    expect(state.run.status).toBe('FAILED');
    expect(state.open).toBe(0);
  });

  it('skips each descendant once in a diamond below a dead job', () => {
    const { state } = create(0, spec('a', { retries: 0 }), spec('d', after('c', 'b')), spec('b', after('a')), spec('c', after('a')), spec('e', after('d')));
    const effects = runJob(state, 'a', FAIL, 0, 5);
    expect(statuses(state)).toEqual({ a: 'DEAD', b: 'SKIPPED', c: 'SKIPPED', d: 'SKIPPED', e: 'SKIPPED' });
    const skippedJobEffects = ofType(effects, 'job').filter((e) => e.job.status === 'SKIPPED');
    expect(ids(skippedJobEffects).sort()).toEqual(['b', 'c', 'd', 'e']);
    expect(state.open).toBe(0);
    expect(ofType(effects, 'run')).toHaveLength(1);
  });

  it('a job with no retries dies on its first failure', () => {
    const { state } = create(0, spec('a', { retries: 0 }));
    runJob(state, 'a', FAIL, 0, 5);
    expect(status(state, 'a')).toBe('DEAD');
    expect(state.run.status).toBe('FAILED');
  });

  it('a dead job leaves the run RUNNING while other jobs are open', () => {
    const { state } = create(0, spec('a', { retries: 0 }), spec('b'));
    startAttempt(state, 'b', 'w2', 0);
    runJob(state, 'a', FAIL, 0, 5);
    expect(state.run.status).toBe('RUNNING');
    finishAttempt(state, 'b', 1, OK, 9, 0.5);
    expect(state.run).toMatchObject({ status: 'FAILED', finishedAt: 9 });
  });

  it('a fail-fast error code kills the job at once', () => {
    const { state } = create(0, spec('a', { retries: 5 }), spec('b', after('a')));
    startAttempt(state, 'a', 'w1', 0);
    const effects = finishAttempt(state, 'a', 1, { outcome: 'FAILED', exitCode: null, error: 'no such script', errorCode: 'SCRIPT_NOT_FOUND' }, 5, 0.5);
    expect(job(state, 'a')).toMatchObject({ status: 'DEAD', attempt: 1, error: 'no such script' });
    expect(ofType(effects, 'timer')).toEqual([]);
    expect(status(state, 'b')).toBe('SKIPPED');
    expect(state.run.status).toBe('FAILED');
  });

  it('an error code that is not fail-fast is retried', () => {
    const { state } = create(0, spec('a', { retries: 5 }));
    startAttempt(state, 'a', 'w1', 0);
    finishAttempt(state, 'a', 1, { ...FAIL, errorCode: 'EXIT' }, 5, 0.5);
    expect(status(state, 'a')).toBe('FAILED');
  });

  describe('stale reports change nothing', () => {
    it('a report for another attempt number', () => {
      const { state } = create(0, spec('a'), spec('b', after('a')));
      startAttempt(state, 'a', 'w1', 0);
      const before = snapshot(state);
      expect(finishAttempt(state, 'a', 2, OK, 5, 0.5)).toEqual([]);
      expect(finishAttempt(state, 'a', 0, FAIL, 5, 0.5)).toEqual([]);
      expect(snapshot(state)).toEqual(before);
    });

    it('a report for a job that is not running', () => {
      const { state } = create(0, spec('a'), spec('b', after('a')));
      const before = snapshot(state);
      expect(finishAttempt(state, 'a', 1, OK, 5, 0.5)).toEqual([]);
      expect(finishAttempt(state, 'b', 0, OK, 5, 0.5)).toEqual([]);
      expect(finishAttempt(state, 'nope', 1, OK, 5, 0.5)).toEqual([]);
      expect(snapshot(state)).toEqual(before);
    });

    it('a late report for an attempt that already failed and is waiting to retry', () => {
      const { state } = create(0, spec('a'));
      runJob(state, 'a', FAIL, 0, 5);
      const before = snapshot(state);
      expect(finishAttempt(state, 'a', 1, OK, 6, 0.5)).toEqual([]);
      expect(snapshot(state)).toEqual(before);
    });

    it('a duplicate report for a finished job', () => {
      const { state } = create(0, spec('a'));
      runJob(state, 'a', OK, 0, 5);
      const before = snapshot(state);
      expect(finishAttempt(state, 'a', 1, FAIL, 6, 0.5)).toEqual([]);
      expect(snapshot(state)).toEqual(before);
    });
  });
});

describe('cancelJob', () => {
  it('cancels a queued job: dequeue, CANCELLED, descendants SKIPPED, run CANCELLED', () => {
    const { state } = create(0, spec('a'), spec('b', after('a')), spec('c', after('b')));
    const effects = cancelJob(state, 'a', 50);
    expect(effects).not.toBeNull();
    const list = effects ?? [];
    expect(ids(ofType(list, 'dequeue'))).toEqual(['a']);
    expect(ofType(list, 'kill')).toEqual([]);
    expect(statuses(state)).toEqual({ a: 'CANCELLED', b: 'SKIPPED', c: 'SKIPPED' });
    expect(job(state, 'a')).toMatchObject({ error: 'cancelled by request', finishedAt: 50 });
    expect(job(state, 'b').error).toContain('upstream job a');
    expect(state.run).toMatchObject({ status: 'CANCELLED', finishedAt: 50 });
    expect(ofType(list, 'run')).toHaveLength(1);
  });

  it('cancels the root of a 100,000-job chain', () => {
    const n = 100_000;
    const jobs = Array.from({ length: n }, (_, i) => spec(`j${i}`, i === 0 ? {} : after(`j${i - 1}`)));
    const { state } = createRun('r1', { name: 'long', jobs }, 0);
    const effects = cancelJob(state, 'j0', 5) ?? [];
    expect(status(state, 'j0')).toBe('CANCELLED');
    expect(status(state, `j${n - 1}`)).toBe('SKIPPED');
    expect(ofType(effects, 'run')).toHaveLength(1);
    expect(state.run.status).toBe('CANCELLED');
  });

  it('cancels a running job: kill effect with the worker and attempt, attempt recorded as CANCELLED', () => {
    const { state } = create(0, spec('a'), spec('b', after('a')), spec('other'));
    runJob(state, 'a', FAIL, 0, 5);
    timerDue(state, 'a', 10_000, 0.5);
    startAttempt(state, 'a', 'w7', 10_000);
    const list = cancelJob(state, 'a', 10_500) ?? [];
    expect(ofType(list, 'kill').map((e) => ({ id: e.job.spec.id, workerId: e.workerId, attempt: e.attempt }))).toEqual([{ id: 'a', workerId: 'w7', attempt: 2 }]);
    expect(ofType(list, 'dequeue')).toEqual([]);
    expect(ofType(list, 'attempt').map((e) => e.attempt)).toEqual([
      { runId: 'r1', jobId: 'a', attempt: 2, workerId: 'w7', queuedAt: 10_000, startedAt: 10_000, runningAt: null, finishedAt: 10_500, outcome: 'CANCELLED', exitCode: null, error: 'cancelled by request' },
    ]);
    expect(statuses(state)).toEqual({ a: 'CANCELLED', b: 'SKIPPED', other: 'QUEUED' });
    // Another job is still open: the run goes on.
    expect(state.run.status).toBe('RUNNING');
    // The killed attempt's own report arrives later: stale.
    expect(finishAttempt(state, 'a', 2, FAIL, 10_600, 0.5)).toEqual([]);
    expect(status(state, 'a')).toBe('CANCELLED');
    runJob(state, 'other', OK, 11_000, 12_000);
    expect(state.run).toMatchObject({ status: 'CANCELLED', finishedAt: 12_000 });
  });

  it('cancels a pending child without touching its parent; the parent completing later changes nothing for it', () => {
    const { state } = create(0, spec('a'), spec('b', after('a')));
    const list = cancelJob(state, 'b', 5) ?? [];
    expect(ofType(list, 'dequeue')).toEqual([]);
    expect(statuses(state)).toEqual({ a: 'QUEUED', b: 'CANCELLED' });
    expect(state.waitingOn.has('b')).toBe(false);
    const effects = runJob(state, 'a', OK, 6, 7);
    expect(ofType(effects, 'enqueue')).toEqual([]);
    expect(status(state, 'b')).toBe('CANCELLED');
    expect(state.run.status).toBe('CANCELLED');
  });

  it('cancels a job waiting to retry; its timer firing later is ignored', () => {
    const { state } = create(0, spec('a'));
    runJob(state, 'a', FAIL, 0, 5);
    expect(status(state, 'a')).toBe('FAILED');
    cancelJob(state, 'a', 6);
    expect(job(state, 'a')).toMatchObject({ status: 'CANCELLED', notBefore: null });
    expect(timerDue(state, 'a', 1_000_000, 0.5)).toEqual([]);
    expect(status(state, 'a')).toBe('CANCELLED');
  });

  it('returns null for a terminal or unknown job and changes nothing', () => {
    const { state } = create(0, spec('a'), spec('b'));
    runJob(state, 'a', OK, 0, 5);
    const before = snapshot(state);
    expect(cancelJob(state, 'a', 6)).toBeNull();
    expect(cancelJob(state, 'nope', 6)).toBeNull();
    expect(snapshot(state)).toEqual(before);
  });
});

describe('cancelRun', () => {
  it('cancels every open job, kills running ones, leaves completed ones', () => {
    const { state } = create(0, spec('done'), spec('running'), spec('queued'), spec('delayed', { delayMs: 1000 }), spec('child', after('running')));
    runJob(state, 'done', OK, 0, 5);
    startAttempt(state, 'running', 'w3', 6);
    const effects = cancelRun(state, 100);
    expect(status(state, 'done')).toBe('COMPLETED');
    for (const id of ['running', 'queued', 'delayed']) expect(status(state, id)).toBe('CANCELLED');
    // Every open job of a cancelled run is CANCELLED, whatever the order of the jobs.
    expect(status(state, 'child')).toBe('CANCELLED');
    expect(ofType(effects, 'kill').map((e) => [e.job.spec.id, e.workerId, e.attempt])).toEqual([['running', 'w3', 1]]);
    expect(ids(ofType(effects, 'dequeue'))).toEqual(['queued']);
    expect(state.run).toMatchObject({ status: 'CANCELLED', finishedAt: 100 });
    expect(ofType(effects, 'run')).toHaveLength(1);
    expect(state.open).toBe(0);
    expect(timerDue(state, 'delayed', 10_000, 0.5)).toEqual([]);
  });

  it('does nothing to a finished run', () => {
    const { state } = create(0, spec('a'));
    runJob(state, 'a', OK, 0, 5);
    expect(cancelRun(state, 10)).toEqual([]);
    expect(state.run).toMatchObject({ status: 'COMPLETED', finishedAt: 5 });
  });
});

describe('run status', () => {
  it('is COMPLETED only when every job completed', () => {
    const { state } = create(0, spec('a'), spec('b'));
    runJob(state, 'a', OK, 0, 5);
    expect(state.run).toMatchObject({ status: 'RUNNING', finishedAt: null });
    runJob(state, 'b', OK, 0, 8);
    expect(state.run).toMatchObject({ status: 'COMPLETED', finishedAt: 8 });
  });

  it('is FAILED when a job is dead, even if the others completed', () => {
    const { state } = create(0, spec('a', { retries: 0 }), spec('b'));
    runJob(state, 'b', OK, 0, 5);
    runJob(state, 'a', FAIL, 0, 8);
    expect(state.run.status).toBe('FAILED');
  });

  it('is CANCELLED when any job was cancelled', () => {
    const { state } = create(0, spec('a', { retries: 0 }), spec('b'));
    runJob(state, 'a', FAIL, 0, 5);
    cancelJob(state, 'b', 6);
    expect(state.run.status).toBe('CANCELLED');
  });
});

describe('restoreRun', () => {
  const runRecord = (): RunRecord => ({ runId: 'r1', name: 'restored', agentRunId: null, status: 'RUNNING', createdAt: 0, finishedAt: null, tags: [] });

  const record = (s: JobSpec, fields: Partial<JobRecord>): JobRecord => jobRecord('r1', s, fields);

  function stored(): JobRecord[] {
    return [
      record(spec('done'), { status: 'COMPLETED', attempt: 1, workerId: 'w1', finishedAt: 10 }),
      record(spec('queued'), { status: 'QUEUED' }),
      record(spec('retrying'), { status: 'FAILED', attempt: 1, notBefore: 5000, workerId: 'w1' }),
      record(spec('delayed', { delayMs: 100 }), { status: 'PENDING', notBefore: 7000 }),
      record(spec('ready', after('done')), { status: 'PENDING' }),
      record(spec('waiting', after('done', 'queued', 'running')), { status: 'PENDING' }),
      record(spec('running'), { status: 'RUNNING', attempt: 2, workerId: 'w2', startedAt: 20 }),
      record(spec('dead', { retries: 0 }), { status: 'DEAD', attempt: 1, finishedAt: 30 }),
    ];
  }

  it('re-creates queue and timer effects and waiting counts', () => {
    const { state, effects } = restoreRun(runRecord(), stored(), 0);
    expect(ids(ofType(effects, 'enqueue')).sort()).toEqual(['queued', 'ready']);
    expect(ofType(effects, 'timer').map((e) => [e.job.spec.id, e.at]).sort()).toEqual([
      ['delayed', 7000],
      ['retrying', 5000],
    ]);
    expect(ofType(effects, 'kill')).toEqual([]);
    expect(ofType(effects, 'dequeue')).toEqual([]);
    // The job whose parents are all complete and has no timer is queued (and persisted as such).
    expect(status(state, 'ready')).toBe('QUEUED');
    expect(ids(ofType(effects, 'job'))).toEqual(['ready']);
    expect([...state.waitingOn]).toEqual([['waiting', 2]]);
    expect(status(state, 'running')).toBe('RUNNING');
    expect(state.open).toBe(6);
    expect(state.run.status).toBe('RUNNING');
  });

  it('continues the run from the restored state', () => {
    const { state } = restoreRun(runRecord(), stored(), 0);
    runJob(state, 'queued', OK, 100, 110);
    expect(state.waitingOn.get('waiting')).toBe(1);
    // The running attempt's report is accepted: the worker reclaims it.
    expect(isCurrentAttempt(state, 'running', 2)).toBe(true);
    const effects = finishAttempt(state, 'running', 2, OK, 120, 0.5);
    expect(ids(ofType(effects, 'enqueue'))).toEqual(['waiting']);
    expect(timerDue(state, 'retrying', 5000, 0.5).map((e) => e.type)).toEqual(['job', 'enqueue']);
    expect(timerDue(state, 'delayed', 6999, 0.5)).toEqual([]);
    expect(timerDue(state, 'delayed', 7000, 0.5).map((e) => e.type)).toEqual(['job', 'enqueue']);
    for (const id of ['retrying', 'delayed', 'ready', 'waiting']) runJob(state, id, OK, 8000, 9000);
    expect(state.open).toBe(0);
    // One job was already DEAD when the run was stored.
    expect(state.run).toMatchObject({ status: 'FAILED', finishedAt: 9000 });
  });

  it('a restored PENDING child is unlocked by its parent completing', () => {
    const { state } = restoreRun(runRecord(), [record(spec('p'), { status: 'QUEUED' }), record(spec('c', after('p')), { status: 'PENDING' })], 0);
    expect(state.waitingOn.get('c')).toBe(1);
    runJob(state, 'p', OK, 1, 2);
    expect(status(state, 'c')).toBe('QUEUED');
  });
});

describe('extendRun', () => {
  it('queues a new child whose parent already COMPLETED', () => {
    const { state } = create(0, spec('a'), spec('b'));
    runJob(state, 'a', OK, 0, 5);
    const effects = extendRun(state, [spec('c', after('a'))], 10);
    expect(status(state, 'c')).toBe('QUEUED');
    expect(job(state, 'c').createdAt).toBe(10);
    expect(ids(ofType(effects, 'enqueue'))).toEqual(['c']);
    expect(ofType(effects, 'run')).toEqual([]);
    expect(state.open).toBe(2);
  });

  it('a new child of a running parent waits for it', () => {
    const { state } = create(0, spec('a'));
    startAttempt(state, 'a', 'w1', 1);
    const effects = extendRun(state, [spec('c', after('a')), spec('d', after('c'))], 10);
    expect(ofType(effects, 'enqueue')).toEqual([]);
    expect(statuses(state)).toEqual({ a: 'RUNNING', c: 'PENDING', d: 'PENDING' });
    expect(state.waitingOn.get('c')).toBe(1);
    const done = finishAttempt(state, 'a', 1, OK, 20, 0.5);
    expect(ids(ofType(done, 'enqueue'))).toEqual(['c']);
    expect(state.run.status).toBe('RUNNING');
  });

  it('a new child of a DEAD parent is SKIPPED', () => {
    const { state } = create(0, spec('a', { retries: 0 }), spec('b'));
    runJob(state, 'a', FAIL, 0, 5);
    const effects = extendRun(state, [spec('c', after('a')), spec('d', after('c'))], 10);
    expect(statuses(state)).toEqual({ a: 'DEAD', b: 'QUEUED', c: 'SKIPPED', d: 'SKIPPED' });
    expect(job(state, 'c').error).toBe('upstream job a is DEAD');
    expect(ofType(effects, 'enqueue')).toEqual([]);
    expect(state.run.status).toBe('RUNNING');
  });

  it('new jobs skipped through a new skipped parent listed first are skipped once', () => {
    const { state } = create(0, spec('a', { retries: 0 }), spec('b'));
    runJob(state, 'a', FAIL, 0, 5);
    // c is skipped while settling, which skips d before d itself is settled.
    const effects = extendRun(state, [spec('c', after('a')), spec('d', after('c')), spec('e', after('d'))], 10);
    expect(statuses(state)).toEqual({ a: 'DEAD', b: 'QUEUED', c: 'SKIPPED', d: 'SKIPPED', e: 'SKIPPED' });
    expect(state.open).toBe(1);
    expect(ofType(effects, 'run')).toEqual([]);
    expect(ofType(effects, 'job').filter((e) => e.job.spec.id === 'd' && e.job.status === 'SKIPPED').length).toBeGreaterThan(0);
    runJob(state, 'b', OK, 11, 12);
    expect(state.run).toMatchObject({ status: 'FAILED', finishedAt: 12 });
  });

  it('reopens a finished run, and settles it again', () => {
    const { state } = create(0, spec('a'));
    runJob(state, 'a', OK, 0, 5);
    expect(state.run.status).toBe('COMPLETED');
    const effects = extendRun(state, [spec('b', after('a'))], 10);
    expect(state.run).toMatchObject({ status: 'RUNNING', finishedAt: null });
    expect(ofType(effects, 'run')).toHaveLength(1);
    runJob(state, 'b', OK, 11, 12);
    expect(state.run).toMatchObject({ status: 'COMPLETED', finishedAt: 12 });
  });

  it('a finished run extended only with skipped jobs ends FAILED', () => {
    const { state } = create(0, spec('a', { retries: 0 }));
    runJob(state, 'a', FAIL, 0, 5);
    expect(state.run.status).toBe('FAILED');
    extendRun(state, [spec('b', after('a'))], 10);
    expect(status(state, 'b')).toBe('SKIPPED');
    expect(state.run).toMatchObject({ status: 'FAILED', finishedAt: 10 });
  });

  it('new jobs may depend on each other', () => {
    const { state } = create(0, spec('a'));
    runJob(state, 'a', OK, 0, 5);
    extendRun(state, [spec('d', after('c')), spec('c', after('a'))], 10);
    expect(statuses(state)).toEqual({ a: 'COMPLETED', d: 'PENDING', c: 'QUEUED' });
    runJob(state, 'c', OK, 11, 12);
    expect(status(state, 'd')).toBe('QUEUED');
  });
});

describe('affinityTarget', () => {
  it('is the worker of the first parent when affinity applies', () => {
    const { state } = create(0, spec('p1'), spec('p2'), spec('soft', { ...after('p1', 'p2'), affinity: 'soft' }), spec('req', { ...after('p2'), affinity: 'required' }));
    expect(affinityTarget(state, job(state, 'soft'))).toBeNull();
    runJob(state, 'p1', OK, 0, 5, 'host-a:1');
    runJob(state, 'p2', OK, 0, 5, 'host-b:1');
    expect(affinityTarget(state, job(state, 'soft'))).toBe('host-a:1');
    expect(affinityTarget(state, job(state, 'req'))).toBe('host-b:1');
  });

  it('is null without affinity or without parents', () => {
    const { state } = create(0, spec('p'), spec('none', after('p')), spec('root', { affinity: 'required' }));
    runJob(state, 'p', OK, 0, 5, 'w1');
    expect(affinityTarget(state, job(state, 'none'))).toBeNull();
    expect(affinityTarget(state, job(state, 'root'))).toBeNull();
  });
});

describe('attempt deadline (a worker that never reports)', () => {
  it('arms a timer at start + timeout + grace and, when it fires, kills the attempt and fails it', () => {
    const { state } = create(0, spec('a', { timeoutMs: 1000, retries: 1 }), spec('b', after('a')));
    const started = startAttempt(state, 'a', 'w1', 100);
    expect(ofType(started, 'timer').map((e) => e.at)).toEqual([100 + 1000 + TIMEOUT_GRACE_MS]);
    expect(timerDue(state, 'a', 100 + 1000 + TIMEOUT_GRACE_MS - 1, 0.5)).toEqual([]);
    const effects = timerDue(state, 'a', 100 + 1000 + TIMEOUT_GRACE_MS, 0.5);
    expect(ofType(effects, 'kill').map((e) => [e.workerId, e.attempt])).toEqual([['w1', 1]]);
    expect(ofType(effects, 'attempt')[0]?.attempt).toMatchObject({ attempt: 1, outcome: 'TIMED_OUT' });
    expect(job(state, 'a')).toMatchObject({ status: 'FAILED' });
    expect(job(state, 'a').error).toMatch(/no report from worker w1/);
  });

  it('is not armed without a timeout, and ignores a deadline once the attempt has reported', () => {
    const { state } = create(0, spec('a'), spec('t', { timeoutMs: 50 }));
    expect(ofType(startAttempt(state, 'a', 'w1', 0), 'timer')).toEqual([]);
    startAttempt(state, 't', 'w1', 0);
    finishAttempt(state, 't', 1, OK, 10, 0.5);
    expect(timerDue(state, 't', 50 + TIMEOUT_GRACE_MS, 0.5)).toEqual([]);
    expect(status(state, 't')).toBe('COMPLETED');
  });

  it('is re-armed for running attempts when a run is restored', () => {
    const { state } = create(0, spec('t', { timeoutMs: 500 }));
    startAttempt(state, 't', 'w1', 10);
    const restored = restoreRun(state.run, [...state.jobs.values()], 0);
    expect(ofType(restored.effects, 'timer').map((e) => e.at)).toEqual([10 + 500 + TIMEOUT_GRACE_MS]);
  });
});

describe('approval gates', () => {
  const gate = (id: string, options: Partial<Omit<JobSpec, 'id'>> = {}): JobSpec => ({ ...spec(id, { kind: 'approval', message: 'ship it?', ...options }), script: undefined });

  it('opens when its parents complete, holds no worker, and approval releases its children', () => {
    const { state } = create(0, spec('build'), gate('ok', after('build')), spec('deploy', after('ok')));
    runJob(state, 'build', OK, 0, 10);
    expect(job(state, 'ok')).toMatchObject({ status: 'WAITING_APPROVAL', startedAt: 10, attempt: 0 });
    expect(startAttempt(state, 'ok', 'w1', 11)).toEqual([]);
    const effects = decideGate(state, 'ok', true, 'ana@host', 'looks good', 20) ?? [];
    expect(ofType(effects, 'decision')[0]?.decision).toEqual({ runId: state.run.runId, jobId: 'ok', approved: true, by: 'ana@host', comment: 'looks good', at: 20, reason: 'decided' });
    expect(statuses(state)).toMatchObject({ ok: 'COMPLETED', deploy: 'QUEUED' });
  });

  it('rejection makes the gate DEAD, skips everything downstream and fails the run', () => {
    const { state } = create(0, gate('ok'), spec('deploy', after('ok')), spec('notify', after('deploy')));
    decideGate(state, 'ok', false, 'bo', 'not today', 5);
    expect(statuses(state)).toEqual({ ok: 'DEAD', deploy: 'SKIPPED', notify: 'SKIPPED' });
    expect(job(state, 'ok').error).toBe('rejected by bo: not today');
    expect(state.run.status).toBe('FAILED');
    expect(decideGate(state, 'ok', true, 'late', null, 6)).toBeNull();
  });

  it('times out without a decision, recording the clock as the decider', () => {
    const { state, effects } = create(100, gate('ok', { timeoutMs: 1000 }), spec('deploy', after('ok')));
    expect(ofType(effects, 'timer').map((e) => e.at)).toEqual([1100]);
    expect(timerDue(state, 'ok', 1099, 0.5)).toEqual([]);
    const fired = timerDue(state, 'ok', 1100, 0.5);
    expect(ofType(fired, 'decision')[0]?.decision).toMatchObject({ approved: false, by: 'titan', reason: 'timeout' });
    expect(statuses(state)).toEqual({ ok: 'DEAD', deploy: 'SKIPPED' });
  });

  it('keeps waiting across a restore, with its timeout re-armed from when it opened', () => {
    const { state } = create(100, gate('ok', { timeoutMs: 1000 }));
    const restored = restoreRun(state.run, [...state.jobs.values()], 5000);
    expect(ofType(restored.effects, 'timer').map((e) => e.at)).toEqual([1100]);
    expect(restored.state.jobs.get('ok')?.status).toBe('WAITING_APPROVAL');
  });
});
