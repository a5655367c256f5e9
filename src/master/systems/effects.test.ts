import { afterEach, describe, expect, it } from 'vitest';
import { finishAttempt, startAttempt } from '../../core/attempt-transitions.js';
import { createRun } from '../../core/run-transitions.js';
import { jobSpec } from '../../../test/helpers/records.js';
import { masterResources, type TestResources } from '../../../test/helpers/master-resources.js';
import { EffectApplier } from './effects.js';

let t: TestResources;
afterEach(() => t.close());

describe('EffectApplier', () => {
  it("a run's watchers hear every commit of the turn that finished it, then the run retires", async () => {
    t = masterResources();
    const effects = new EffectApplier(t.r, t.flow);
    const { state, effects: created } = createRun('r1', { name: 'three', jobs: [jobSpec('a'), jobSpec('b'), jobSpec('c')] }, t.clock.now());
    t.r.runs.adopt(state);
    for (const job of state.jobs.values()) t.r.committer.newJob(job);
    effects.apply(state, created);
    for (const id of ['a', 'b', 'c']) effects.apply(state, startAttempt(state, id, 'w1', t.clock.now()));
    await t.r.committer.flushed();
    const heard: string[] = [];
    t.r.bus.onKey('jobs', 'r1', (views) => heard.push(views.map((v) => `${v.spec.id} ${v.status}`).join(', ')));
    t.r.bus.onKey('run', 'r1', (run) => heard.push(`run ${run.status}`));
    // All three finish in one turn: the first commit callback already sees the run COMPLETED.
    for (const id of ['a', 'b', 'c']) effects.apply(state, finishAttempt(state, id, 1, { outcome: 'COMPLETED', exitCode: 0, error: null }, t.clock.now(), 0.5, 10));
    expect(heard).toEqual([]);
    await t.r.committer.flushed();
    expect(heard).toEqual(['a COMPLETED', 'b COMPLETED', 'c COMPLETED', 'run COMPLETED']);
    expect(t.r.runs.has('r1')).toBe(false);
    expect(t.r.bus.listensTo('run', 'r1')).toBe(false);
    expect(t.r.totals.completed).toBe(3);
  });
});
