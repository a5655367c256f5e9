import { afterEach, describe, expect, it } from 'vitest';
import type { RunState } from '../../core/run-state.js';
import { createRun } from '../../core/run-transitions.js';
import { jobSpec } from '../../../test/helpers/records.js';
import { masterResources, RecordingLink, type TestResources, workerInfo } from '../../../test/helpers/master-resources.js';
import { Dispatcher } from './dispatch.js';
import { EffectApplier } from './effects.js';
import { WorkerRegistry } from './worker-registry.js';

let t: TestResources;
afterEach(() => t.close());

/** A registry with one worker that took and runs both jobs of a run. */
function setup(): { registry: WorkerRegistry; link: RecordingLink; id: string; state: RunState } {
  t = masterResources({ workerTimeoutMs: 4_000 });
  const effects = new EffectApplier(t.r, t.flow);
  const dispatcher = new Dispatcher(t.r, effects, t.flow, t.secrets);
  const registry = new WorkerRegistry(t.r, effects);
  const link = new RecordingLink();
  const id = registry.attachWorker(workerInfo(9001), link, null);
  registry.reclaimAttempts(id, link, []);
  const { state, effects: created } = createRun('r1', { name: 'two', jobs: [jobSpec('a'), jobSpec('b')] }, t.clock.now());
  t.r.runs.adopt(state);
  for (const job of state.jobs.values()) t.r.committer.newJob(job);
  effects.apply(state, created);
  dispatcher.dispatchReady();
  registry.startSweeper();
  return { registry, link, id, state };
}

describe('WorkerRegistry', () => {
  it('a worker silent past the timeout is declared dead and its attempts are queued again, no retry spent', () => {
    const { link, id, state } = setup();
    expect([...state.jobs.values()].map((j) => [j.status, j.workerId])).toEqual([
      ['RUNNING', id],
      ['RUNNING', id],
    ]);
    t.clock.advance(4_000);
    expect(t.r.workers.has(id)).toBe(true);
    t.clock.advance(1_000);
    expect(t.r.workers.has(id)).toBe(false);
    expect(link.closed).toEqual(['no heartbeat for 5000 ms']);
    for (const job of state.jobs.values()) expect(job).toMatchObject({ status: 'QUEUED', attempt: 1, lost: 1, retryBase: 0 });
    expect(t.r.queue.size).toBe(2);
    expect(t.logged).toEqual([`worker ${id} is dead (no heartbeat for 5000 ms; the limit is 4000 ms)`, `2 attempts lost (worker ${id} is dead): r1/a, r1/b; they run again without spending a retry, within --max-lost-attempts (10)`]);
  });

  it('any frame from the worker keeps it alive', () => {
    const { registry, link, id, state } = setup();
    for (let i = 0; i < 5; i++) {
      t.clock.advance(3_000);
      registry.touchWorker(id);
    }
    expect(t.r.workers.has(id)).toBe(true);
    expect(link.closed).toEqual([]);
    expect([...state.jobs.values()].map((j) => j.status)).toEqual(['RUNNING', 'RUNNING']);
    expect(t.logged).toEqual([]);
  });

  it('a connection that closes loses only the dispatches the worker never acknowledged', () => {
    const { registry, link, id, state } = setup();
    registry.attemptsAccepted(id, [{ runId: 'r1', jobId: 'a', attempt: 1 }]);
    registry.detachWorker(id, link);
    expect(state.jobs.get('a')).toMatchObject({ status: 'RUNNING', workerId: id });
    expect(state.jobs.get('b')).toMatchObject({ status: 'QUEUED', lost: 1 });
    expect(t.r.workers.get(id)?.attempts).toEqual(new Set(['r1/a']));
  });
});
