import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/helpers/manual-clock.js';
import { NAME_TAKEN } from '../protocol/methods.js';
import { WorkerNames } from './worker-names.js';

function setup(): { clock: ManualClock; workers: Map<string, unknown>; restored: Map<string, { workerId: string }>; names: WorkerNames } {
  const clock = new ManualClock();
  const workers = new Map<string, unknown>();
  const restored = new Map<string, { workerId: string }>();
  return { clock, workers, restored, names: new WorkerNames(clock, 10_000, workers, restored) };
}

describe('WorkerNames', () => {
  it('takes the names of held workers and of attempts restored after a restart, until they are gone', () => {
    const { workers, restored, names } = setup();
    workers.set('a:1', {});
    restored.set('r1/j1', { workerId: 'b:1' });
    restored.set('r1/j2', { workerId: 'b:1' });
    expect([names.taken('a:1'), names.taken('b:1'), names.taken('c:1')]).toEqual([true, true, false]);
    restored.delete('r1/j1');
    expect(names.taken('b:1')).toBe(true);
    restored.delete('r1/j2');
    workers.delete('a:1');
    expect([names.taken('a:1'), names.taken('b:1')]).toEqual([false, false]);
  });

  it('keeps the name of a worker that left with nothing running for the window, then frees it', () => {
    const { clock, names } = setup();
    names.forgot('a:1');
    clock.advance(9_999);
    expect(names.taken('a:1')).toBe(true);
    clock.advance(1);
    expect(names.taken('a:1')).toBe(false);
  });

  it('lets a taken name be claimed only with its credential, and a free one by anyone', () => {
    const { workers, names } = setup();
    workers.set('a:1', {});
    expect(() => names.claim('a:1', null)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED', message: expect.stringContaining(`worker name a:1 ${NAME_TAKEN}`) as unknown }));
    expect(() => names.claim('a:1', 'b:1')).toThrow(NAME_TAKEN);
    expect(() => names.claim('a:1', 'a:1')).not.toThrow();
    expect(() => names.claim('c:1', null)).not.toThrow();
  });
});
