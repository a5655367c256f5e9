import { describe, expect, it } from 'vitest';
import type { Master } from '../../master/master.js';
import type { Peer } from '../../protocol/peer.js';
import { SESSION_LIMITS } from '../limits.js';
import { SessionState } from './session-state.js';

/** A connection that only records who hears its close. */
function fakePeer(): { peer: Peer; close: () => void } {
  const onClose: (() => void)[] = [];
  const peer = { onClose: (fn: () => void) => void onClose.push(fn), notify: () => undefined } as unknown as Peer;
  return { peer, close: () => onClose.forEach((fn) => fn()) };
}
const master = { artifacts: { abort: async () => undefined } } as unknown as Master;

describe('SessionState.subscribe', () => {
  it('a subscription that fails to open frees its place under the cap', async () => {
    const { peer } = fakePeer();
    const state = new SessionState(peer, master);
    for (let i = 0; i < SESSION_LIMITS.subscriptions + 5; i++) {
      await expect(state.subscribe(i, () => Promise.reject(new Error('no such run')))).rejects.toThrow('no such run');
    }
    expect(state.subscriptions.size).toBe(0);
    await expect(state.subscribe(999, async () => ({ stop: () => undefined, result: 'ok' }))).resolves.toBe('ok');
  });

  it('a subscription whose connection closed while it opened is stopped at once', async () => {
    const { peer, close } = fakePeer();
    const state = new SessionState(peer, master);
    let stopped = 0;
    let opened!: () => void;
    const subscribing = state.subscribe(1, () => new Promise<{ stop: () => void; result: string }>((resolve) => (opened = () => resolve({ stop: () => stopped++, result: 'snapshot' }))));
    close();
    opened();
    await expect(subscribing).resolves.toBe('snapshot');
    expect(stopped).toBe(1);
    expect(state.subscriptions.size).toBe(0);
  });
});
