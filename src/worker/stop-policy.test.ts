import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DrainGrace, handedBackReason, MasterContact, unreachableReason } from './stop-policy.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
});

afterEach(() => {
  vi.useRealTimers();
});

/** Resolves to the grace that ended, or null if it has not ended yet. */
async function endedWith(grace: DrainGrace): Promise<number | null> {
  return Promise.race([grace.ended, Promise.resolve(null)]);
}

describe('the reasons given for a handed-back attempt', () => {
  it('name the grace and the outage in seconds', () => {
    expect(handedBackReason(2000)).toBe('handed back: the worker drained and its grace of 2 s ended');
    expect(handedBackReason(2500)).toBe('handed back: the worker drained and its grace of 2.5 s ended');
    expect(unreachableReason(10_000)).toBe('stopped: the master was unreachable for 10 s');
  });
});

describe('DrainGrace', () => {
  it('ends when its grace has passed, with that grace', async () => {
    const grace = new DrainGrace(30_000);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(await endedWith(grace)).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(await endedWith(grace)).toBe(30_000);
  });

  it('a shorter grace asked for later brings the end forward; a longer one does not put it off', async () => {
    const grace = new DrainGrace(30_000);
    await vi.advanceTimersByTimeAsync(5000);
    grace.shorten(60_000);
    grace.shorten(2000);
    await vi.advanceTimersByTimeAsync(1999);
    expect(await endedWith(grace)).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(await endedWith(grace)).toBe(2000);
  });

  it('cancelled, it never ends', async () => {
    const grace = new DrainGrace(1000);
    grace.cancel();
    await vi.advanceTimersByTimeAsync(5000);
    expect(await endedWith(grace)).toBeNull();
  });
});

describe('MasterContact', () => {
  const contacts: MasterContact[] = [];
  afterEach(() => {
    for (const c of contacts.splice(0)) c.close();
  });

  function watch(stopAfter: number | 'never' | undefined): { contact: MasterContact; expiries: number[] } {
    const expiries: number[] = [];
    const contact = new MasterContact(stopAfter, (afterMs) => expiries.push(afterMs));
    contacts.push(contact);
    return { contact, expiries };
  }

  /** A connected master that answers every heartbeat (every 2 s) for `ms`. */
  async function answering(contact: MasterContact, ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 2000) {
      await vi.advanceTimersByTimeAsync(2000);
      contact.heard();
    }
  }

  it('never stops anything while the master answers, however short the setting', async () => {
    const { contact, expiries } = watch(1000);
    contact.joined({ heartbeatMs: 2000, workerTimeoutMs: 10_000 });
    await answering(contact, 30_000);
    expect(expiries).toEqual([]);
  });

  it('once the connection is down, expires when the silence passes the setting, once per outage', async () => {
    const { contact, expiries } = watch(2000);
    contact.joined({ heartbeatMs: 2000 });
    await vi.advanceTimersByTimeAsync(500);
    contact.lost();
    await vi.advanceTimersByTimeAsync(1000);
    expect(expiries).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(expiries).toEqual([2000]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(expiries).toEqual([2000]);

    // Back, then gone again: a new outage.
    contact.joined({ heartbeatMs: 2000 });
    contact.lost();
    await vi.advanceTimersByTimeAsync(2250);
    expect(expiries).toEqual([2000, 2000]);
  });

  it("by default waits as long as the master's worker timeout, and never without one", async () => {
    const { contact, expiries } = watch(undefined);
    contact.lost();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(expiries).toEqual([]);
    contact.joined({ heartbeatMs: 2000, workerTimeoutMs: 10_000 });
    expect(contact.stopAfterMs).toBe(10_000);
    contact.lost();
    await vi.advanceTimersByTimeAsync(9750);
    expect(expiries).toEqual([]);
    await vi.advanceTimersByTimeAsync(500);
    expect(expiries).toEqual([10_000]);
  });

  it('counts a connection that is up but silent once the answer to a heartbeat is overdue', async () => {
    const { contact, expiries } = watch(2000);
    contact.joined({ heartbeatMs: 2000 });
    // Black-holed: nothing more is heard, yet the socket looks fine.
    await vi.advanceTimersByTimeAsync(2750);
    expect(expiries).toEqual([]);
    await vi.advanceTimersByTimeAsync(500);
    expect(expiries).toEqual([2000]);
  });

  it('never expires with "never"', async () => {
    const { contact, expiries } = watch('never');
    contact.joined({ heartbeatMs: 2000, workerTimeoutMs: 1000 });
    contact.lost();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(expiries).toEqual([]);
    expect(contact.stopAfterMs).toBeNull();
  });
});
