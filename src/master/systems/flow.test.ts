import { afterEach, describe, expect, it } from 'vitest';
import type { RunState } from '../../core/run-state.js';
import { finishAttempt } from '../../core/attempt-transitions.js';
import { jobSpec } from '../../../test/helpers/records.js';
import { dispatching, masterResources, type TestResources } from '../../../test/helpers/master-resources.js';

let t: TestResources;
afterEach(() => t.close());

function setup(slots = 10) {
  t = masterResources();
  const { effects, dispatcher, worker, submit } = dispatching(t);
  const { entry } = worker(9001, ['GENERAL'], slots);
  const finish = (state: RunState, jobId: string): void => {
    const job = state.jobs.get(jobId);
    if (!job) throw new Error(jobId);
    entry.attempts.delete(`${state.run.runId}/${jobId}`);
    effects.apply(state, finishAttempt(state, jobId, job.attempt, { outcome: 'COMPLETED', exitCode: 0, error: null }, t.clock.now(), 0.5));
  };
  return { dispatcher, submit, finish };
}

const running = (state: RunState): string[] => [...state.jobs.values()].filter((j) => j.status === 'RUNNING').map((j) => j.spec.id);

describe('flow control in dispatch', () => {
  it('runs at most `limit` jobs of a key; the others wait, saying why, and hold up no other job', () => {
    const { dispatcher, submit, finish } = setup();
    const keyed = ['a', 'b', 'c', 'd'].map((id) => jobSpec(id, { concurrency: { key: 'db', limit: 2 } }));
    const state = submit('r1', [...keyed, jobSpec('free')]);
    dispatcher.dispatchReady();
    expect(running(state).sort()).toEqual(['a', 'b', 'free']);
    expect(t.r.jobViews.one(state.jobs.get('c') as never).waitingReason).toBe('key db is at its limit (2/2 running)');
    finish(state, 'a');
    dispatcher.dispatchReady();
    expect(running(state).sort()).toEqual(['b', 'c', 'free']);
    expect(t.flow.keys()).toEqual([{ key: 'db', limit: null, holders: ['r1/b', 'r1/c'], waiters: 1, nextTokenAt: null }]);
  });

  it('a limit raised live lets waiters start at once', async () => {
    const { dispatcher, submit } = setup();
    const state = submit('r1', ['a', 'b', 'c'].map((id) => jobSpec(id, { concurrency: { key: 'db', limit: 1 } })));
    dispatcher.dispatchReady();
    expect(running(state)).toEqual(['a']);
    await t.flow.setLimit({ key: 'db', concurrency: 3 });
    await Promise.resolve();
    expect(running(state).sort()).toEqual(['a', 'b', 'c']);
    expect(await t.r.store.getMeta('flow.limits')).toBe(JSON.stringify([{ key: 'db', concurrency: 3 }]));
  });

  it('a rate-limited job waits for its token, then starts when the clock reaches it', async () => {
    const { dispatcher, submit } = setup();
    t.clock.advance(10_000);
    const state = submit('r1', ['a', 'b', 'c'].map((id) => jobSpec(id, { rateLimit: { key: 'api', limit: 2, per: 'second' } })));
    dispatcher.dispatchReady();
    expect(running(state).sort()).toEqual(['a', 'b']);
    expect(t.r.jobViews.one(state.jobs.get('c') as never).waitingReason).toMatch(/^rate limit api: next start at \d\d:\d\d:\d\d UTC$/);
    t.clock.advance(499);
    await Promise.resolve();
    expect(running(state).sort()).toEqual(['a', 'b']);
    t.clock.advance(1);
    await Promise.resolve();
    expect(running(state).sort()).toEqual(['a', 'b', 'c']);
  });

  it('every waiter of a rate limit starts in turn, one per token, long after the burst', async () => {
    const { dispatcher, submit, finish } = setup();
    t.clock.advance(10_000);
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const state = submit('r1', ids.map((id) => jobSpec(id, { rateLimit: { key: 'api', limit: 2, per: 'second' } })));
    dispatcher.dispatchReady();
    const started = [...running(state)];
    expect(started.sort()).toEqual(['a', 'b']);
    // Each finish looks at the key at once (no token yet); only the clock brings the next one.
    for (const id of started) finish(state, id);
    await Promise.resolve();
    for (let step = 0; step < 4; step++) {
      t.clock.advance(500);
      await Promise.resolve();
      const now = running(state);
      expect(now, `step ${step}`).toHaveLength(1);
      for (const id of now) finish(state, id);
      await Promise.resolve();
    }
    expect([...state.jobs.values()].map((j) => j.status)).toEqual(ids.map(() => 'COMPLETED'));
  });

  it('a key freed by a job that could not take it passes to the next waiter', () => {
    const { dispatcher, submit, finish } = setup();
    const state = submit('r1', [
      jobSpec('x', { concurrency: { key: 'k1', limit: 1 } }),
      jobSpec('y', { concurrency: { key: 'k2', limit: 1 } }),
      // Both need k1 as concurrency; z also names k2 for its rate.
      jobSpec('z', { concurrency: { key: 'k1', limit: 1 }, rateLimit: { key: 'k2', limit: 1000, per: 'second' } }),
      jobSpec('w', { concurrency: { key: 'k1', limit: 1 } }),
    ]);
    dispatcher.dispatchReady();
    expect(running(state).sort()).toEqual(['x', 'y']);
    t.flow.limiter.setClusterLimits([{ key: 'k2', concurrency: 1 }]);
    finish(state, 'x');
    dispatcher.dispatchReady();
    // z was woken for k1 but k2 holds it back: w gets k1.
    dispatcher.dispatchReady();
    expect(running(state).sort()).toEqual(['w', 'y']);
  });
});
