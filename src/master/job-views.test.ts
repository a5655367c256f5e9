import { afterEach, describe, expect, it } from 'vitest';
import type { JobRecord, JobSpec } from '../core/model.js';
import type { RunState } from '../core/run-state.js';
import { jobSpec } from '../../test/helpers/records.js';
import { dispatching, masterResources, type TestResources } from '../../test/helpers/master-resources.js';

let t: TestResources;
afterEach(() => t.close());

function setup(slots: number) {
  t = masterResources();
  const placing = dispatching(t);
  placing.worker(9001, ['GENERAL'], slots);
  const submit = (runId: string, jobs: JobSpec[]): RunState => {
    const state = placing.submit(runId, jobs);
    placing.dispatcher.dispatchReady();
    return state;
  };
  return { submit };
}

const jobOf = (state: RunState, id: string): JobRecord => {
  const job = state.jobs.get(id);
  if (!job) throw new Error(`no job ${id}`);
  return job;
};
const gate: JobSpec = { ...jobSpec('approve', { kind: 'approval' }), script: undefined };

describe('job views say why a job that is not running waits', () => {
  it('counts the jobs ahead of a job that waits for a busy slot, in a single view and for the first jobs of a batch', () => {
    const { submit } = setup(2);
    const state = submit('r1', ['a', 'b', 'c', 'd', 'e'].map((id) => jobSpec(id)));
    const busy = 'all 2 GENERAL slots are busy';
    expect(t.r.jobViews.one(jobOf(state, 'c')).waitingReason).toBe(`${busy}; it is next in line`);
    expect(t.r.jobViews.one(jobOf(state, 'e')).waitingReason).toBe(`${busy}; 2 jobs ahead of it`);
    // A commit's changes count nothing; a run view counts for its first jobs only.
    const plain = t.r.jobViews.batch();
    expect(['c', 'd', 'e'].map((id) => plain(jobOf(state, id)).waitingReason)).toEqual([busy, busy, busy]);
    const counted = t.r.jobViews.batch(2);
    expect(['a', 'c', 'd', 'e'].map((id) => counted(jobOf(state, id)).waitingReason)).toEqual([null, `${busy}; it is next in line`, `${busy}; 1 job ahead of it`, busy]);
    // Fair turns: a run submitted later is offered a slot after one job of the run before it.
    const late = submit('r2', [jobSpec('x')]);
    expect(t.r.jobViews.one(jobOf(late, 'x')).waitingReason).toBe(`${busy}; 1 job ahead of it`);
  });

  it('says what a job that is not queued yet waits for: a delay, a parent gate, its parents', () => {
    const { submit } = setup(1);
    const state = submit('r1', [
      jobSpec('build'),
      jobSpec('later', { delayMs: 10_000 }),
      gate,
      jobSpec('deploy', { dependsOn: ['approve'] }),
      jobSpec('ship', { dependsOn: ['build', 'deploy'] }),
    ]);
    const reasons = t.r.jobViews.batch();
    expect(reasons(jobOf(state, 'build')).waitingReason).toBeNull();
    expect(reasons(jobOf(state, 'later')).waitingReason).toBe('delayed until 00:00:11 UTC');
    expect(reasons(jobOf(state, 'approve')).waitingReason).toBe('awaiting a decision');
    expect(reasons(jobOf(state, 'deploy')).waitingReason).toBe('waits for its parent gate approve (awaiting a decision)');
    expect(reasons(jobOf(state, 'ship')).waitingReason).toBe('waits for 2 parents: build (RUNNING), deploy (PENDING)');
  });
});
