import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Peer } from '../protocol/peer.js';
import { Attempts } from './attempts.js';
import { OutputBatcher } from './output-batcher.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});

afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  const attempts = new Attempts();
  const notify = vi.fn();
  const link: { peer: Peer | null } = { peer: { notify } as unknown as Peer };
  const batcher = new OutputBatcher(attempts, link);
  return { attempts, notify, link, batcher, a: attempts.hold({ runId: 'r1', jobId: 'a', attempt: 1 }, null) };
}

describe('OutputBatcher', () => {
  it('sends what attempts wrote in one batch each after ~100 ms', async () => {
    const { batcher, notify, a, attempts } = setup();
    const b = attempts.hold({ runId: 'r1', jobId: 'b', attempt: 1 }, null);
    batcher.push(a, 'one ');
    batcher.push(b, 'other');
    batcher.push(a, 'two');
    await vi.advanceTimersByTimeAsync(99);
    expect(notify).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(notify.mock.calls).toStrictEqual([
      ['log', { ...a.id, data: 'one two' }],
      ['log', { ...b.id, data: 'other' }],
    ]);
  });

  it('sends at once an attempt that has written a lot', () => {
    const { batcher, notify, a } = setup();
    batcher.push(a, 'x'.repeat(256 * 1024));
    expect(notify).toHaveBeenCalledOnce();
  });

  it('holds output while there is no session, and sends it when asked once there is one', async () => {
    const { batcher, notify, link, a } = setup();
    const session = link.peer;
    link.peer = null;
    batcher.push(a, 'x'.repeat(256 * 1024));
    await vi.advanceTimersByTimeAsync(100);
    expect(notify).not.toHaveBeenCalled();
    link.peer = session;
    batcher.flushAll();
    expect(notify).toHaveBeenCalledOnce();
  });

  it('stopped, sends nothing more', async () => {
    const { batcher, notify, a } = setup();
    batcher.push(a, 'late');
    batcher.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(notify).not.toHaveBeenCalled();
  });
});
