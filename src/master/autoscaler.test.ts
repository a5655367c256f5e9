import { describe, expect, it } from 'vitest';
import type { PoolWorker, ScalingPolicy } from '../core/autoscale.js';
import { type AutoscaleOptions, Autoscaler, type DesiredCount, type ScalingTarget } from './autoscaler.js';
import { ManualClock } from '../../test/helpers/manual-clock.js';


type TargetWorker = PoolWorker & { connected: boolean };

/** The master as the autoscaler sees it: workers and queues the test sets, actions it records. */
class FakeTarget implements ScalingTarget {
  list: TargetWorker[] = [];
  queue = new Map<string, { count: number; oldestAt: number }>();
  spawnAnswer = true;
  readonly spawns: { via: string; request: { spawnId: string; capabilities: string[]; slots: number } }[] = [];
  readonly stops: string[] = [];

  workers(): TargetWorker[] {
    return this.list.map((w) => ({ ...w }));
  }

  queued(): ReadonlyMap<string, { count: number; oldestAt: number }> {
    return this.queue;
  }

  spawn(via: string, request: { spawnId: string; capabilities: string[]; slots: number }): boolean {
    this.spawns.push({ via, request });
    return this.spawnAnswer;
  }

  stop(workerId: string): void {
    this.stops.push(workerId);
  }
}

function worker(id: string, options: Partial<Omit<TargetWorker, 'id' | 'capabilities'>> & { caps?: string[] } = {}): TargetWorker {
  const { caps, ...rest } = options;
  return { id, capabilities: new Set(caps ?? ['GENERAL']), slots: 1, running: 0, accepting: true, permanent: true, spawnedBy: null, idleSince: null, connected: true, ...rest };
}

const policy: ScalingPolicy = { scaleUpAfterMs: 1_000, idleStopMs: 3_000, maxPerPool: { GENERAL: 2 }, defaultMax: 0 };

function setup(options: Partial<AutoscaleOptions> = {}): { clock: ManualClock; target: FakeTarget; scaler: Autoscaler; desired: DesiredCount[] } {
  const clock = new ManualClock();
  const target = new FakeTarget();
  const desired: DesiredCount[] = [];
  const scaler = new Autoscaler({ policy, intervalMs: 500, spawnTimeoutMs: 5_000, ...options }, target, clock, (c) => desired.push(c));
  return { clock, target, scaler, desired };
}

/** A permanent GENERAL worker p1 with its only slot busy and `count` GENERAL jobs queued since time 0. */
function busyPool(target: FakeTarget, count = 1): void {
  target.list = [worker('p1', { running: 1 })];
  target.queue.set('GENERAL', { count, oldestAt: 0 });
}

const eventsOf = (scaler: Autoscaler, action?: string): { at: number; pool: string; action: string; workerId: string | null; reason: string }[] => {
  const view = scaler.view();
  if (!view.enabled) throw new Error('the autoscaler view says disabled');
  return action === undefined ? view.events : view.events.filter((e) => e.action === action);
};

const pendingOf = (scaler: Autoscaler): number => {
  const view = scaler.view();
  if (!view.enabled) throw new Error('the autoscaler view says disabled');
  return view.pending;
};

describe('Autoscaler', () => {
  it('ticks every intervalMs once started, and not after stop', () => {
    const { clock, target, scaler } = setup();
    busyPool(target);
    scaler.start();
    clock.advance(999);
    // The tick at 500 ms saw the job waiting only 0.5 s.
    expect(target.spawns).toHaveLength(0);
    clock.advance(1);
    expect(target.spawns).toHaveLength(1);
    scaler.stop();
    target.spawnAnswer = false;
    clock.advance(10_000);
    expect(target.spawns).toHaveLength(1);
  });

  it('requests a spawn through the target and records it with the planner reason', () => {
    const { clock, target, scaler } = setup();
    busyPool(target);
    clock.advance(1_500);
    scaler.tick();
    expect(target.spawns).toHaveLength(1);
    const [spawn] = target.spawns;
    expect(spawn?.via).toBe('p1');
    expect(spawn?.request.capabilities).toEqual(['GENERAL']);
    expect(spawn?.request.slots).toBe(1);
    expect(spawn?.request.spawnId).toMatch(/^\S+$/);
    expect(eventsOf(scaler)).toEqual([{ at: 1_500, pool: 'GENERAL', action: 'spawn', workerId: 'p1', reason: '1 GENERAL job waited 1.5 s with no free slot' }]);
    expect(pendingOf(scaler)).toBe(1);
  });

  it('does not request a pending spawn again on the next ticks', () => {
    const { clock, target, scaler } = setup();
    busyPool(target);
    clock.advance(1_000);
    scaler.tick();
    for (let i = 0; i < 5; i++) {
      clock.advance(500);
      scaler.tick();
    }
    expect(target.spawns).toHaveLength(1);
    expect(eventsOf(scaler, 'spawn')).toHaveLength(1);
    expect(pendingOf(scaler)).toBe(1);
  });

  it('requests distinct spawns, within the pool maximum, when one is not enough', () => {
    const { clock, target, scaler } = setup();
    busyPool(target, 5);
    clock.advance(2_000);
    scaler.tick();
    expect(target.spawns).toHaveLength(2);
    expect(new Set(target.spawns.map((s) => s.request.spawnId)).size).toBe(2);
    expect(eventsOf(scaler).map((e) => e.action)).toEqual(['spawn', 'spawn', 'hold']);
    expect(eventsOf(scaler, 'hold')[0]?.reason).toBe('GENERAL at its maximum of 2 autoscaled workers');
  });

  it('registered() clears the pending spawn of that parent and records a registered event', () => {
    const { clock, target, scaler } = setup();
    busyPool(target);
    clock.advance(1_000);
    scaler.tick();
    expect(pendingOf(scaler)).toBe(1);

    // Workers that were not spawned, or spawned by another parent or for another pool, fulfil nothing.
    scaler.registered('h1', undefined, ['GENERAL']);
    scaler.registered('x1', 'p9', ['GENERAL']);
    scaler.registered('g1', 'p1', ['GPU']);
    expect(pendingOf(scaler)).toBe(1);
    expect(eventsOf(scaler, 'registered')).toEqual([]);

    clock.advance(2_500);
    scaler.registered('e1', 'p1', ['GENERAL']);
    expect(pendingOf(scaler)).toBe(0);
    expect(eventsOf(scaler, 'registered')).toEqual([{ at: 3_500, pool: 'GENERAL', action: 'registered', workerId: 'e1', reason: 'started by p1 in 2.5 s' }]);
    // A second registration has no spawn left to fulfil.
    scaler.registered('e2', 'p1', ['GENERAL']);
    expect(eventsOf(scaler, 'registered')).toHaveLength(1);
  });

  it('drops a spawn not registered within spawnTimeoutMs with a spawn-failed event, then may retry', () => {
    const { clock, target, scaler } = setup();
    busyPool(target);
    clock.advance(1_000);
    scaler.tick();
    clock.advance(4_999);
    scaler.tick();
    expect(eventsOf(scaler, 'spawn-failed')).toEqual([]);
    expect(pendingOf(scaler)).toBe(1);

    clock.advance(1);
    scaler.tick();
    expect(eventsOf(scaler, 'spawn-failed')).toEqual([
      { at: 6_000, pool: 'GENERAL', action: 'spawn-failed', workerId: 'p1', reason: 'the worker requested from p1 did not register within 5 s' },
    ]);
    // The job still waits with no free slot, so the same tick asks again.
    expect(target.spawns).toHaveLength(2);
    expect(eventsOf(scaler).map((e) => e.action)).toEqual(['spawn', 'spawn-failed', 'spawn']);
    expect(pendingOf(scaler)).toBe(1);
    // A late registration of the timed-out worker fulfils the retry, not the dropped one.
    scaler.registered('e1', 'p1', ['GENERAL']);
    expect(pendingOf(scaler)).toBe(0);
  });

  it('records spawn-failed when the target cannot reach the parent, and keeps nothing pending', () => {
    const { clock, target, scaler } = setup();
    busyPool(target);
    target.spawnAnswer = false;
    clock.advance(1_000);
    scaler.tick();
    expect(target.spawns).toHaveLength(1);
    expect(eventsOf(scaler)).toEqual([{ at: 1_000, pool: 'GENERAL', action: 'spawn-failed', workerId: 'p1', reason: 'p1 cannot be reached' }]);
    expect(eventsOf(scaler, 'spawn')).toEqual([]);
    expect(pendingOf(scaler)).toBe(0);
    // Nothing is pending, so the next tick tries again.
    target.spawnAnswer = true;
    clock.advance(500);
    scaler.tick();
    expect(target.spawns).toHaveLength(2);
    expect(eventsOf(scaler, 'spawn')).toHaveLength(1);
    expect(pendingOf(scaler)).toBe(1);
  });

  it('stops an idle autoscaled worker once, not again on later ticks', () => {
    const { clock, target, scaler } = setup();
    target.list = [worker('p1'), worker('e1', { permanent: false, spawnedBy: 'p1' })];
    scaler.tick();
    clock.advance(2_999);
    scaler.tick();
    expect(target.stops).toEqual([]);
    clock.advance(1);
    scaler.tick();
    expect(target.stops).toEqual(['e1']);
    expect(eventsOf(scaler, 'stop')).toEqual([{ at: 3_000, pool: 'GENERAL', action: 'stop', workerId: 'e1', reason: 'idle for 3.0 s' }]);
    // Still listed (it drains before it exits): it is not stopped a second time.
    for (let i = 0; i < 5; i++) {
      clock.advance(1_000);
      scaler.tick();
    }
    expect(target.stops).toEqual(['e1']);
    expect(eventsOf(scaler, 'stop')).toHaveLength(1);
    // The permanent worker, idle just as long, is never stopped.
    expect(target.stops).not.toContain('p1');
  });

  it('counts idleness from the end of the last work, not from registration', () => {
    const { clock, target, scaler } = setup();
    const idle = (): TargetWorker[] => [worker('p1'), worker('e1', { permanent: false, spawnedBy: 'p1' })];
    const busy = (): TargetWorker[] => [worker('p1'), worker('e1', { permanent: false, spawnedBy: 'p1', running: 1 })];
    // Idle from 0 to 2 s, busy from 2 s to 7 s, idle again from 7 s.
    target.list = idle();
    scaler.tick();
    clock.advance(2_000);
    target.list = busy();
    scaler.tick();
    clock.advance(5_000);
    scaler.tick();
    expect(target.stops).toEqual([]);
    target.list = idle();
    scaler.tick();
    clock.advance(2_999);
    scaler.tick();
    expect(target.stops).toEqual([]);
    clock.advance(1);
    scaler.tick();
    expect(target.stops).toEqual(['e1']);
    expect(eventsOf(scaler, 'stop')[0]?.reason).toBe('idle for 3.0 s');
  });

  it('records the same hold reason once, not every tick, and again after it cleared', () => {
    const { clock, target, scaler } = setup({ policy: { ...policy, maxPerPool: { ...policy.maxPerPool, GPU: 1 } } });
    target.list = [worker('p1')];
    target.queue.set('GPU', { count: 2, oldestAt: 0 });
    clock.advance(1_000);
    for (let i = 0; i < 5; i++) {
      scaler.tick();
      clock.advance(500);
    }
    const hold = { pool: 'GPU', action: 'hold', workerId: null, reason: 'no permanent GPU worker to start a worker from' };
    expect(eventsOf(scaler)).toEqual([{ at: 1_000, ...hold }]);
    expect(target.spawns).toEqual([]);

    // The queue empties: no hold; it fills again: the hold is news again.
    target.queue.delete('GPU');
    scaler.tick();
    clock.advance(500);
    target.queue.set('GPU', { count: 1, oldestAt: 0 });
    scaler.tick();
    scaler.tick();
    expect(eventsOf(scaler, 'hold')).toEqual([
      { at: 1_000, ...hold },
      { at: clock.now(), ...hold },
    ]);
  });

  it('calls onDesired only when a pool desired count changes', () => {
    const { clock, target, scaler, desired } = setup();
    target.list = [worker('p1', { running: 1 })];
    scaler.tick();
    expect(desired).toEqual([{ pool: 'GENERAL', desired: 1, current: 1, at: 0 }]);
    clock.advance(500);
    scaler.tick();
    scaler.tick();
    expect(desired).toHaveLength(1);

    // Two jobs wait past scaleUpAfter: two spawns, desired 3 (current stays 1 until they register).
    target.queue.set('GENERAL', { count: 2, oldestAt: 0 });
    clock.advance(1_000);
    scaler.tick();
    expect(desired.slice(1)).toEqual([{ pool: 'GENERAL', desired: 3, current: 1, at: 1_500 }]);
    clock.advance(500);
    scaler.tick();
    expect(desired).toHaveLength(2);

    // They register and take the jobs: desired is still 3, nothing is announced.
    scaler.registered('e1', 'p1', ['GENERAL']);
    scaler.registered('e2', 'p1', ['GENERAL']);
    target.queue.delete('GENERAL');
    target.list = [worker('p1', { running: 1 }), worker('e1', { permanent: false, spawnedBy: 'p1', running: 1 }), worker('e2', { permanent: false, spawnedBy: 'p1', running: 1 })];
    scaler.tick();
    expect(desired).toHaveLength(2);

    // Both go idle and are stopped: desired falls back to 1, once.
    target.list = [worker('p1'), worker('e1', { permanent: false, spawnedBy: 'p1' }), worker('e2', { permanent: false, spawnedBy: 'p1' })];
    scaler.tick();
    clock.advance(3_000);
    scaler.tick();
    expect(target.stops.sort()).toEqual(['e1', 'e2']);
    expect(desired.slice(2)).toEqual([{ pool: 'GENERAL', desired: 1, current: 3, at: clock.now() }]);
    target.list = [worker('p1')];
    clock.advance(500);
    scaler.tick();
    scaler.tick();
    expect(desired).toHaveLength(3);
  });

  it('announces the demand of a held pool that has no worker at all', () => {
    const { clock, target, scaler, desired } = setup({ policy: { ...policy, maxPerPool: { ...policy.maxPerPool, GPU: 2 } } });
    target.list = [worker('p1')];
    target.queue.set('GPU', { count: 2, oldestAt: 0 });
    clock.advance(1_000);
    scaler.tick();
    expect(desired.filter((d) => d.pool === 'GPU')).toEqual([{ pool: 'GPU', desired: 2, current: 0, at: 1_000 }]);
  });

  // Infrastructure following the webhook must hear when a pool no longer needs anything.
  it('announces desired 0 once a held pool has neither jobs nor workers left', () => {
    const { clock, target, scaler, desired } = setup({ policy: { ...policy, maxPerPool: { ...policy.maxPerPool, GPU: 2 } } });
    target.list = [worker('p1')];
    target.queue.set('GPU', { count: 2, oldestAt: 0 });
    clock.advance(1_000);
    scaler.tick();
    target.queue.delete('GPU');
    clock.advance(500);
    scaler.tick();
    expect(desired.filter((d) => d.pool === 'GPU').at(-1)).toEqual({ pool: 'GPU', desired: 0, current: 0, at: 1_500 });
  });

  it('keeps at most the 100 most recent events, oldest first', () => {
    const { clock, target, scaler } = setup();
    busyPool(target);
    target.spawnAnswer = false;
    clock.advance(1_000);
    // Every tick fails to reach the parent: one spawn-failed event per tick.
    for (let i = 0; i < 150; i++) {
      scaler.tick();
      clock.advance(10);
    }
    const events = eventsOf(scaler);
    expect(target.spawns).toHaveLength(150);
    expect(events).toHaveLength(100);
    expect(events[0]?.at).toBe(1_000 + 50 * 10);
    expect(events[99]?.at).toBe(1_000 + 149 * 10);
    expect(events.every((e, i) => i === 0 || e.at > (events[i - 1]?.at ?? Infinity))).toBe(true);
  });
});
