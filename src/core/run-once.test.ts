import { describe, expect, it } from 'vitest';
import { jobSpec } from '../../test/helpers/records.js';
import { timerDue } from './attempt-transitions.js';
import { resolveRunFlow } from './flow-resolve.js';
import type { RunRecord, RunSpec } from './model.js';
import { RunSpecSchema } from './model.js';
import { decideSubmission, replacedReason } from './run-once.js';
import type { RunState } from './run-state.js';
import { cancelRun, createRun, restoreRun } from './run-transitions.js';

/** A manual clock: the tests move it by hand. */
class ManualClock {
  constructor(public now: number) {}
  advance(ms: number): number {
    this.now += ms;
    return this.now;
  }
}

const spec = (extra: Partial<RunSpec> = {}): RunSpec => ({ name: 'deploy', tags: ['env=prod'], jobs: [jobSpec('a'), jobSpec('b', { dependsOn: ['a'] })], ...extra });

/** Creates a run as the master does: keys filled in, then the core's createRun. */
function submitted(runId: string, s: RunSpec, now: number): RunState {
  const resolved = resolveRunFlow(runId, s);
  if (resolved.value === null) throw new Error(resolved.errors.join('; '));
  return createRun(runId, resolved.value, now).state;
}

const runs = (...states: RunState[]): RunRecord[] => states.map((s) => s.run);

describe('singleton', () => {
  it('answers with the unfinished run that holds the key, and creates a run once it has finished', () => {
    const clock = new ManualClock(1_000);
    const first = submitted('r1', spec({ singleton: 'deploy-{tags.env}' }), clock.now);
    expect(first.run.flow).toStrictEqual({ singleton: 'deploy-prod' });
    const again = resolveRunFlow('r2', spec({ singleton: 'deploy-{tags.env}' })).value as RunSpec;
    expect(decideSubmission(again, runs(first), clock.advance(5_000))).toStrictEqual({ kind: 'held', key: 'deploy-prod', heldBy: 'r1' });
    // Another key, or no key, is not held back.
    expect(decideSubmission({ singleton: 'deploy-staging' }, runs(first), clock.now)).toStrictEqual({ kind: 'create', replaces: [] });
    expect(decideSubmission({}, runs(first), clock.now)).toStrictEqual({ kind: 'create', replaces: [] });
    cancelRun(first, clock.now);
    expect(first.run.status).toBe('CANCELLED');
    expect(decideSubmission(again, runs(first), clock.now)).toStrictEqual({ kind: 'create', replaces: [] });
  });

  it('names the oldest holder when several runs hold the key', () => {
    const a = submitted('r2', spec({ singleton: 'k' }), 2_000);
    const b = submitted('r1', spec({ singleton: 'k' }), 1_000);
    expect(decideSubmission({ singleton: 'k' }, runs(a, b), 3_000)).toStrictEqual({ kind: 'held', key: 'k', heldBy: 'r1' });
  });

  it('holds across a restart: the run restored from its record holds the key', () => {
    const first = submitted('r1', spec({ singleton: 'nightly' }), 1_000);
    const stored: RunRecord = JSON.parse(JSON.stringify(first.run)) as RunRecord;
    const restored = restoreRun(stored, [...first.jobs.values()], 9_000).state;
    expect(decideSubmission({ singleton: 'nightly' }, runs(restored), 9_000)).toStrictEqual({ kind: 'held', key: 'nightly', heldBy: 'r1' });
  });

  it('refuses a key that cannot be filled in, naming the placeholder', () => {
    expect(resolveRunFlow('r1', spec({ singleton: 'x-{tags.customer}' })).errors).toEqual(['singleton: key "x-{tags.customer}": {tags.customer} needs a tag "customer=<value>" on the run (its tags: env=prod)']);
  });
});

describe('debounce', () => {
  const debounced = (key = 'push-{name}', waitMs = 30_000): RunSpec => spec({ debounce: { key, waitMs } });

  it('holds the run’s first jobs until the window ends, then queues them', () => {
    const clock = new ManualClock(10_000);
    const { state, effects } = createRun('r1', resolveRunFlow('r1', debounced()).value as RunSpec, clock.now);
    expect(state.run.flow).toStrictEqual({ debounce: { key: 'push-deploy', waitMs: 30_000, until: 40_000 } });
    const a = state.jobs.get('a');
    expect(a).toMatchObject({ status: 'PENDING', notBefore: 40_000 });
    expect(effects).toContainEqual({ type: 'timer', job: a, at: 40_000 });
    expect(timerDue(state, 'a', clock.advance(29_999), 0)).toEqual([]);
    expect(timerDue(state, 'a', clock.advance(1), 0).map((e) => e.type)).toEqual(['job', 'enqueue']);
    expect(a?.status).toBe('QUEUED');
    // A child that becomes ready after the window starts at once.
    expect(state.jobs.get('b')?.status).toBe('PENDING');
    expect(state.jobs.get('b')?.notBefore).toBeNull();
  });

  it('counts a job’s own delay from the window’s end', () => {
    const s = spec({ debounce: { key: 'k', waitMs: 1_000 }, jobs: [jobSpec('a', { delayMs: 500 })] });
    expect(createRun('r1', s, 0).state.jobs.get('a')?.notBefore).toBe(1_500);
  });

  it('replaces the run whose window is still open; the window starts again with the newer run', () => {
    const clock = new ManualClock(0);
    const first = submitted('r1', debounced('k', 1_000), clock.now);
    clock.advance(200);
    expect(decideSubmission(debounced('k', 1_000), runs(first), clock.now)).toStrictEqual({ kind: 'create', replaces: ['r1'] });
    cancelRun(first, clock.now, replacedReason('r2', 'k'));
    const second = submitted('r2', debounced('k', 1_000), clock.now);
    expect(first.run.status).toBe('CANCELLED');
    expect(first.jobs.get('a')?.error).toBe('replaced by run r2 (debounce k)');
    expect(second.run.flow?.debounce?.until).toBe(1_200);
    // Once the window has passed, the run is under way: a new submission starts a window of its own.
    expect(decideSubmission(debounced('k', 1_000), runs(first, second), clock.advance(1_000))).toStrictEqual({ kind: 'create', replaces: [] });
  });

  it('replaces only runs of the same key', () => {
    const other = submitted('r1', debounced('other'), 0);
    expect(decideSubmission(debounced('k'), runs(other), 1)).toStrictEqual({ kind: 'create', replaces: [] });
  });

  it('lets a debounced submission replace the waiting run that holds its singleton key', () => {
    const both = spec({ singleton: 's', debounce: { key: 'k', waitMs: 1_000 } });
    const first = submitted('r1', both, 0);
    expect(decideSubmission(both, runs(first), 500)).toStrictEqual({ kind: 'create', replaces: ['r1'] });
    // After the window the holder runs, and holds the key.
    expect(decideSubmission(both, runs(first), 1_000)).toStrictEqual({ kind: 'held', key: 's', heldBy: 'r1' });
  });

  it('is a whole number of milliseconds between 1 ms and a day', () => {
    const parse = (waitMs: number): boolean => RunSpecSchema.safeParse({ jobs: [{ id: 'a', script: { name: 'a.sh', sha256: 'a'.repeat(64) } }], debounce: { key: 'k', waitMs } }).success;
    expect([parse(0), parse(1), parse(86_400_000), parse(86_400_001), parse(1.5)]).toEqual([false, true, true, false, false]);
  });
});
