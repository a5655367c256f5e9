import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Attempts } from './attempts.js';
import { Drain } from './drain.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});

afterEach(() => {
  vi.useRealTimers();
});

const id = (jobId: string) => ({ runId: 'r1', jobId, attempt: 1 });

function setup(config: { drainTimeoutMs?: number; onShutdown?: () => void } = {}) {
  const attempts = new Attempts();
  const order: string[] = [];
  const peer = { notify: vi.fn() };
  const parts = {
    attempts,
    outbox: { sendNow: vi.fn(async () => void order.push('report')) },
    peer: () => peer,
    stop: vi.fn(() => void order.push('stop')),
    log: vi.fn(),
  };
  return { drain: new Drain(config, parts), attempts, peer, parts, order };
}

describe('Drain for shutdown', () => {
  it('with nothing running, tells the master, reports what is owed, then disconnects', async () => {
    const { drain, peer, order } = setup();
    await drain.forShutdown(30_000);
    expect(peer.notify).toHaveBeenCalledWith('drain', { exiting: true });
    expect(order).toStrictEqual(['report', 'stop']);
  });

  it('lets running attempts finish within the grace', async () => {
    const { drain, attempts, parts } = setup();
    const a = attempts.hold(id('a'), null);
    const done = drain.forShutdown(30_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(parts.stop).not.toHaveBeenCalled();
    attempts.release(a);
    await done;
    expect(a.ended).toBeNull();
    expect(parts.stop).toHaveBeenCalledOnce();
  });

  it('hands back what still runs when the grace ends, and disconnects once it has ended', async () => {
    const { drain, attempts, parts } = setup();
    const a = attempts.hold(id('a'), null);
    const done = drain.forShutdown(2000);
    await vi.advanceTimersByTimeAsync(2000);
    expect(a.ended).toStrictEqual({ reason: 'handed back: the worker drained and its grace of 2 s ended', lost: true });
    expect(parts.log).toHaveBeenCalledWith("the drain's grace of 2 s ended: handing back 1 running attempt(s)");
    expect(parts.stop).not.toHaveBeenCalled();
    attempts.release(a);
    await done;
    expect(parts.stop).toHaveBeenCalledOnce();
  });

  it('a second call joins the drain under way, ending it sooner with a shorter grace', async () => {
    const { drain, attempts, peer } = setup();
    const a = attempts.hold(id('a'), null);
    const first = drain.forShutdown(30_000);
    const second = drain.forShutdown(1000);
    expect(second).toBe(first);
    expect(peer.notify).toHaveBeenCalledOnce();
    await vi.advanceTimersByTimeAsync(1000);
    expect(a.ended?.lost).toBe(true);
  });

  it("asked by the master, drains for the master's grace, or else the worker's, then lets the process exit", async () => {
    const onShutdown = vi.fn();
    const { drain, parts } = setup({ drainTimeoutMs: 5000, onShutdown });
    drain.shutdownAsked(undefined);
    expect(parts.log).toHaveBeenCalledWith('the master asked this worker to shut down: draining, for up to 5 s');
    await vi.advanceTimersByTimeAsync(0);
    expect(onShutdown).toHaveBeenCalledOnce();
  });
});

describe('Drain by the master', () => {
  it('is said again to a new session: drained, or drained and exiting', async () => {
    const { drain } = setup();
    const session = { notify: vi.fn() };
    drain.announce(session);
    expect(session.notify).not.toHaveBeenCalled();
    drain.byMaster();
    drain.announce(session);
    expect(session.notify).toHaveBeenLastCalledWith('drain', { exiting: false });
    drain.undrainedByMaster(session);
    session.notify.mockClear();
    drain.announce(session);
    expect(session.notify).not.toHaveBeenCalled();
    await drain.forShutdown(1000);
    drain.announce(session);
    expect(session.notify).toHaveBeenLastCalledWith('drain', { exiting: true });
  });

  it('an undrain while draining for shutdown is answered by saying so again', async () => {
    const { drain, parts } = setup();
    await drain.forShutdown(1000);
    const session = { notify: vi.fn() };
    drain.undrainedByMaster(session);
    expect(session.notify).toHaveBeenCalledWith('drain', { exiting: true });
    expect(parts.log).not.toHaveBeenCalledWith('undrained by the master: taking work again');
  });
});
