import { afterEach, describe, expect, it } from 'vitest';
import type { JobSpec } from '../../core/model.js';
import type { RunState } from '../../core/run-state.js';
import { jobSpec } from '../../../test/helpers/records.js';
import { dispatching, masterResources, RecordingLink, type TestResources } from '../../../test/helpers/master-resources.js';
import { WorkerEntry } from '../workers.js';
import { Dispatcher } from './dispatch.js';

let t: TestResources;
afterEach(() => t.close());

function setup(): { dispatcher: Dispatcher; worker: (port: number, capabilities: string[], slots: number) => RecordingLink; submit: (runId: string, jobs: JobSpec[]) => RunState } {
  t = masterResources();
  const { dispatcher, worker, submit } = dispatching(t);
  return { dispatcher, worker: (port, capabilities, slots) => worker(port, capabilities, slots).link, submit };
}

const placed = (state: RunState): Record<string, string | null> => Object.fromEntries([...state.jobs.values()].map((j) => [j.spec.id, j.status === 'RUNNING' ? j.workerId : j.status]));

describe('Dispatcher', () => {
  it('places each job on a worker with its capability and a free slot; the others wait', async () => {
    const { dispatcher, worker, submit } = setup();
    const gpu = worker(9001, ['GPU'], 1);
    const general = worker(9002, ['GENERAL'], 2);
    const state = submit('r1', [jobSpec('g1', { requirement: 'GPU' }), jobSpec('g2', { requirement: 'GPU' }), jobSpec('n1'), jobSpec('x1', { requirement: 'TPU' })]);
    dispatcher.dispatchReady();
    expect(placed(state)).toEqual({ g1: '127.0.0.1:9001', g2: 'QUEUED', n1: '127.0.0.1:9002', x1: 'QUEUED' });
    // Dispatches leave only once the starts are durable.
    expect(gpu.dispatched).toEqual([]);
    await t.r.committer.flushed();
    expect(gpu.dispatched.map((d) => [d.jobId, d.attempt, d.token])).toEqual([['g1', 1, 'token-r1-g1-1']]);
    expect(general.dispatched.map((d) => d.jobId)).toEqual(['n1']);
    expect(t.r.queue.size).toBe(2);
  });

  it('a saturated pool does not hold back another pool, and a freed slot takes the next job of its lane', () => {
    const { dispatcher, worker, submit } = setup();
    worker(9001, ['GPU'], 1);
    worker(9002, ['GENERAL'], 1);
    const state = submit('r1', [jobSpec('g1', { requirement: 'GPU', priority: 9 }), jobSpec('g2', { requirement: 'GPU', priority: 9 }), jobSpec('n1', { priority: 1 })]);
    dispatcher.dispatchReady();
    expect(placed(state)).toEqual({ g1: '127.0.0.1:9001', g2: 'QUEUED', n1: '127.0.0.1:9002' });
    t.r.workers.get('127.0.0.1:9001')?.attempts.clear();
    dispatcher.dispatchReady();
    expect(placed(state)).toEqual({ g1: '127.0.0.1:9001', g2: '127.0.0.1:9001', n1: '127.0.0.1:9002' });
  });

  it('a ready event schedules one pass at the end of the turn', async () => {
    const { worker, submit } = setup();
    const state = submit('r1', [jobSpec('a'), jobSpec('b')]);
    // Queuing kicked a pass, which found no worker.
    await Promise.resolve();
    worker(9002, ['GENERAL'], 2);
    expect(placed(state)).toEqual({ a: 'QUEUED', b: 'QUEUED' });
    t.r.bus.emit('ready', undefined);
    t.r.bus.emit('ready', undefined);
    await Promise.resolve();
    expect(placed(state)).toEqual({ a: '127.0.0.1:9002', b: '127.0.0.1:9002' });
  });

  it('a draining or not yet reclaimed worker takes nothing', () => {
    const { dispatcher, worker, submit } = setup();
    worker(9001, ['GENERAL'], 4);
    const entry = t.r.workers.get('127.0.0.1:9001') as WorkerEntry;
    entry.draining = true;
    const state = submit('r1', [jobSpec('a')]);
    dispatcher.dispatchReady();
    expect(placed(state)).toEqual({ a: 'QUEUED' });
    entry.draining = false;
    entry.reclaimed = false;
    dispatcher.dispatchReady();
    expect(placed(state)).toEqual({ a: 'QUEUED' });
  });
});
