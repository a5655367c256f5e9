import { describe, expect, it } from 'vitest';
import type { Affinity } from './model.js';
import { feasible, hasFreeSlot, pickWorker, type Placement, type WorkerLoad } from './routing.js';

function worker(id: string, running: number, slots: number, options: { caps?: string[]; accepting?: boolean } = {}): WorkerLoad {
  return { id, running, slots, capabilities: new Set(options.caps ?? ['GENERAL']), accepting: options.accepting ?? true };
}

function placement(affinity: Affinity = 'none', preferredWorker: string | null = null, requirement = 'GENERAL'): Placement {
  return { requirement, affinity, preferredWorker };
}

describe('feasibility', () => {
  it('needs a free slot and an accepting worker', () => {
    expect(hasFreeSlot(worker('w', 0, 1))).toBe(true);
    expect(hasFreeSlot(worker('w', 1, 1))).toBe(false);
    expect(hasFreeSlot(worker('w', 2, 1))).toBe(false);
    expect(hasFreeSlot(worker('w', 0, 1, { accepting: false }))).toBe(false);
  });

  it('needs the required capability', () => {
    expect(feasible(placement('none', null, 'GPU'), worker('w', 0, 1, { caps: ['GENERAL', 'GPU'] }))).toBe(true);
    expect(feasible(placement('none', null, 'GPU'), worker('w', 0, 1, { caps: ['GENERAL'] }))).toBe(false);
  });

  it('rejects a full or draining worker even with the capability', () => {
    expect(feasible(placement(), worker('w', 4, 4))).toBe(false);
    expect(feasible(placement(), worker('w', 0, 4, { accepting: false }))).toBe(false);
  });

  it('with required affinity, only the parent worker is feasible', () => {
    expect(feasible(placement('required', 'w1'), worker('w1', 0, 1))).toBe(true);
    expect(feasible(placement('required', 'w1'), worker('w2', 0, 1))).toBe(false);
    // No parent worker known: any worker will do.
    expect(feasible(placement('required', null), worker('w2', 0, 1))).toBe(true);
  });

  it('soft affinity does not restrict feasibility', () => {
    expect(feasible(placement('soft', 'w1'), worker('w2', 0, 1))).toBe(true);
  });
});

describe('pickWorker', () => {
  it('returns null when no worker is feasible', () => {
    expect(pickWorker(placement(), [])).toBeNull();
    expect(pickWorker(placement('none', null, 'GPU'), [worker('a', 0, 2), worker('b', 2, 2, { caps: ['GPU'] }), worker('c', 0, 2, { caps: ['GPU'], accepting: false })])).toBeNull();
  });

  it('skips infeasible workers even when they are less loaded', () => {
    const picked = pickWorker(placement('none', null, 'GPU'), [worker('idle', 0, 8), worker('gpu', 3, 4, { caps: ['GPU'] })]);
    expect(picked?.id).toBe('gpu');
  });

  it('prefers the lowest fraction of slots in use', () => {
    // 2/4 = 0.5 against 3/10 = 0.3: fewer running is not what counts.
    const picked = pickWorker(placement(), [worker('a', 2, 4), worker('b', 3, 10)]);
    expect(picked?.id).toBe('b');
  });

  it('breaks a ratio tie by the running count', () => {
    const picked = pickWorker(placement(), [worker('a', 2, 4), worker('b', 1, 2)]);
    expect(picked?.id).toBe('b');
  });

  it('breaks a full tie by id, whatever the order given', () => {
    const ws = [worker('c', 1, 2), worker('a', 1, 2), worker('b', 1, 2)];
    expect(pickWorker(placement(), ws)?.id).toBe('a');
    expect(pickWorker(placement(), [...ws].reverse())?.id).toBe('a');
  });

  it('soft affinity prefers the parent worker over a less loaded one', () => {
    const ws = [worker('idle', 0, 4), worker('parent', 3, 4)];
    expect(pickWorker(placement('soft', 'parent'), ws)?.id).toBe('parent');
    expect(pickWorker(placement('soft', 'parent'), [...ws].reverse())?.id).toBe('parent');
  });

  it('soft affinity falls back to the least loaded worker when the parent worker is full', () => {
    const ws = [worker('busy', 3, 4), worker('parent', 4, 4), worker('idle', 0, 4)];
    expect(pickWorker(placement('soft', 'parent'), ws)?.id).toBe('idle');
  });

  it('soft affinity falls back when the parent worker is draining, gone or lacks the capability', () => {
    expect(pickWorker(placement('soft', 'parent'), [worker('parent', 0, 4, { accepting: false }), worker('other', 1, 4)])?.id).toBe('other');
    expect(pickWorker(placement('soft', 'gone'), [worker('x', 1, 4), worker('y', 0, 4)])?.id).toBe('y');
    expect(pickWorker(placement('soft', 'parent', 'GPU'), [worker('parent', 0, 4), worker('gpu', 2, 4, { caps: ['GPU'] })])?.id).toBe('gpu');
  });

  it('no affinity ignores the parent worker', () => {
    expect(pickWorker(placement('none', 'parent'), [worker('parent', 3, 4), worker('idle', 0, 4)])?.id).toBe('idle');
  });

  it('required affinity picks only the parent worker', () => {
    const ws = [worker('idle', 0, 4), worker('parent', 3, 4)];
    expect(pickWorker(placement('required', 'parent'), ws)?.id).toBe('parent');
  });

  it('required affinity waits rather than falling back when the parent worker is full or gone', () => {
    expect(pickWorker(placement('required', 'parent'), [worker('idle', 0, 4), worker('parent', 4, 4)])).toBeNull();
    expect(pickWorker(placement('required', 'gone'), [worker('idle', 0, 4)])).toBeNull();
  });

  it('accepts any iterable', () => {
    const map = new Map([
      ['a', worker('a', 1, 2)],
      ['b', worker('b', 0, 2)],
    ]);
    expect(pickWorker(placement(), map.values())?.id).toBe('b');
  });
});
