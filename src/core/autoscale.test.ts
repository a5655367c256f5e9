import { describe, expect, it } from 'vitest';
import { maxAutoscaled, planScaling, poolOf, type PendingSpawn, type PoolWorker, type ScalingInput, type ScalingPolicy } from './autoscale.js';

const NOW = 1_000_000;

const policy: ScalingPolicy = { scaleUpAfterMs: 10_000, idleStopMs: 300_000, maxPerPool: { GPU: 2 }, defaultMax: 4 };

function worker(id: string, options: Partial<Omit<PoolWorker, 'id' | 'capabilities'>> & { caps?: string[] } = {}): PoolWorker {
  const { caps, ...rest } = options;
  const running = rest.running ?? 0;
  return {
    id,
    capabilities: new Set(caps ?? ['GENERAL']),
    slots: 2,
    running,
    accepting: true,
    permanent: true,
    spawnedBy: null,
    idleSince: running === 0 ? NOW : null,
    ...rest,
  };
}

/** An autoscaled worker, started from p1. */
const scaled = (id: string, options: Parameters<typeof worker>[1] = {}): PoolWorker => worker(id, { permanent: false, spawnedBy: 'p1', ...options });

function pending(spawnId: string, pool: string, slots = 2): PendingSpawn {
  return { spawnId, pool, via: 'p1', slots, at: NOW - 1_000 };
}

function input(options: { workers?: PoolWorker[]; queued?: Record<string, [count: number, waitedMs: number]>; pending?: PendingSpawn[]; stopping?: string[]; policy?: ScalingPolicy } = {}): ScalingInput {
  const queued = new Map(Object.entries(options.queued ?? {}).map(([pool, [count, waited]]) => [pool, { count, oldestAt: NOW - waited }]));
  return { now: NOW, policy: options.policy ?? policy, workers: options.workers ?? [], queued, pending: options.pending ?? [], stopping: new Set(options.stopping ?? []) };
}

describe('scale up', () => {
  it('decides nothing when the queued work fits in free slots', () => {
    const plan = planScaling(input({ workers: [worker('p1', { running: 1 })], queued: { GENERAL: [5, 60_000] } }));
    expect(plan.decisions).toEqual([]);
    expect(plan.desired).toEqual({ GENERAL: 1 });
  });

  it('waits scaleUpAfterMs before starting a worker', () => {
    const workers = [worker('p1', { running: 2 })];
    expect(planScaling(input({ workers, queued: { GENERAL: [1, 9_999] } })).decisions).toEqual([]);
    expect(planScaling(input({ workers, queued: { GENERAL: [1, 10_000] } })).decisions).toHaveLength(1);
  });

  it('starts enough workers to cover the queue, via the parent, with a reason', () => {
    const plan = planScaling(input({ workers: [worker('p1', { running: 2 })], queued: { GENERAL: [7, 12_345] } }));
    const spawn = { action: 'spawn', pool: 'GENERAL', via: 'p1', slots: 2, reason: '7 GENERAL jobs waited 12.3 s with no free slot' };
    // ceil(7 / 2) = 4 workers of 2 slots.
    expect(plan.decisions).toEqual([spawn, spawn, spawn, spawn]);
    expect(plan.desired).toEqual({ GENERAL: 5 });
  });

  it('picks the least loaded accepting permanent worker as parent, then by id', () => {
    const workers = [
      worker('p0', { running: 5, slots: 4 }),
      worker('p2', { running: 3, slots: 3 }),
      worker('p1', { running: 4, slots: 4 }),
      worker('draining', { running: 0, slots: 8, accepting: false }),
      scaled('a1', { running: 1, slots: 1 }),
    ];
    const plan = planScaling(input({ workers, queued: { GENERAL: [1, 60_000] } }));
    expect(plan.decisions).toEqual([{ action: 'spawn', pool: 'GENERAL', via: 'p1', slots: 4, reason: '1 GENERAL job waited 60.0 s with no free slot' }]);
  });

  it('counts the slots of pending spawns, so a tick later does not spawn twice', () => {
    const workers = [worker('p1', { running: 2 })];
    const once = planScaling(input({ workers, queued: { GENERAL: [7, 60_000] }, pending: [pending('s1', 'GENERAL')] }));
    expect(once.decisions.filter((d) => d.action === 'spawn')).toHaveLength(3);

    const covered = planScaling(input({ workers, queued: { GENERAL: [7, 60_000] }, pending: ['s1', 's2', 's3', 's4'].map((id) => pending(id, 'GENERAL')) }));
    expect(covered.decisions).toEqual([]);
    expect(covered.desired).toEqual({ GENERAL: 5 });
  });

  it('measures pending spawns by their slots, not their number', () => {
    const plan = planScaling(input({ workers: [worker('p1', { running: 2 })], queued: { GENERAL: [7, 60_000] }, pending: [pending('s1', 'GENERAL', 6)] }));
    expect(plan.decisions.filter((d) => d.action === 'spawn')).toHaveLength(1);
  });

  it('respects the pool maximum and holds for the rest', () => {
    const workers = [worker('p1', { caps: ['GPU'], slots: 1, running: 1 }), scaled('a1', { caps: ['GPU'], slots: 1, running: 1 })];
    const plan = planScaling(input({ workers, queued: { GPU: [5, 60_000] } }));
    expect(plan.decisions).toEqual([
      { action: 'spawn', pool: 'GPU', via: 'p1', slots: 1, reason: '5 GPU jobs waited 60.0 s with no free slot' },
      { action: 'hold', pool: 'GPU', reason: 'GPU at its maximum of 2 autoscaled workers' },
    ]);
  });

  it('uses defaultMax for pools not listed, counting pending spawns toward it', () => {
    expect(maxAutoscaled(policy, 'GENERAL')).toBe(4);
    const workers = [worker('p1', { running: 2 }), scaled('a1', { running: 2 }), scaled('a2', { running: 2 }), scaled('a3', { running: 2 })];
    const plan = planScaling(input({ workers, queued: { GENERAL: [9, 60_000] }, pending: [pending('s1', 'GENERAL')] }));
    expect(plan.decisions).toEqual([{ action: 'hold', pool: 'GENERAL', reason: 'GENERAL at its maximum of 4 autoscaled workers' }]);
  });

  it('holds when no accepting permanent worker can start one', () => {
    const workers = [worker('p1', { caps: ['GPU'], accepting: false }), scaled('a1', { caps: ['GPU'], running: 2 })];
    const plan = planScaling(input({ workers, queued: { GPU: [3, 60_000] } }));
    expect(plan.decisions).toEqual([{ action: 'hold', pool: 'GPU', reason: 'no permanent GPU worker to start a worker from' }]);
  });

  it('counts a stopping worker toward the maximum but not as capacity', () => {
    const workers = [worker('p1', { caps: ['GPU'], slots: 1, running: 1 }), scaled('a1', { caps: ['GPU'], slots: 1 })];
    const plan = planScaling(input({ workers, queued: { GPU: [2, 60_000] }, stopping: ['a1'] }));
    expect(plan.decisions.map((d) => d.action)).toEqual(['spawn', 'hold']);
  });
});

describe('scale down', () => {
  const idleFor = (ms: number): number => NOW - ms;

  it('stops an idle autoscaled worker after idleStopMs, not before', () => {
    const before = planScaling(input({ workers: [worker('p1'), scaled('a1', { idleSince: idleFor(299_999) })] }));
    expect(before.decisions).toEqual([]);
    const after = planScaling(input({ workers: [worker('p1'), scaled('a1', { idleSince: idleFor(300_000) })] }));
    expect(after.decisions).toEqual([{ action: 'stop', pool: 'GENERAL', workerId: 'a1', reason: 'idle for 300.0 s' }]);
    expect(after.desired).toEqual({ GENERAL: 1 });
  });

  it('keeps an idle worker while its pool has queued jobs', () => {
    const plan = planScaling(input({ workers: [worker('p1', { running: 1 }), scaled('a1', { idleSince: idleFor(600_000) })], queued: { GENERAL: [1, 1_000] } }));
    expect(plan.decisions).toEqual([]);
  });

  it('never stops a permanent or hand-started worker', () => {
    const workers = [worker('p1', { idleSince: idleFor(600_000) }), worker('manual', { permanent: false, idleSince: idleFor(600_000) })];
    expect(planScaling(input({ workers })).decisions).toEqual([]);
  });

  it('does not stop a worker twice, nor a busy or draining one', () => {
    const workers = [
      scaled('stopping', { idleSince: idleFor(600_000) }),
      scaled('busy', { running: 1, idleSince: null }),
      scaled('draining', { accepting: false, idleSince: idleFor(600_000) }),
    ];
    const plan = planScaling(input({ workers, stopping: ['stopping'] }));
    expect(plan.decisions).toEqual([]);
    expect(plan.desired).toEqual({ GENERAL: 2 });
  });
});

describe('desired', () => {
  it('adds pending spawns and spawns decided now', () => {
    const plan = planScaling(input({ workers: [worker('p1', { running: 2 })], queued: { GENERAL: [3, 60_000] }, pending: [pending('s1', 'GENERAL')] }));
    expect(plan.decisions).toHaveLength(1);
    expect(plan.desired).toEqual({ GENERAL: 3 });
  });

  it('includes the missing capacity when the pool holds', () => {
    const workers = [worker('p1', { caps: ['GPU'], running: 2 }), scaled('a1', { caps: ['GPU'], running: 2 }), scaled('a2', { caps: ['GPU'], running: 2 })];
    const plan = planScaling(input({ workers, queued: { GPU: [4, 60_000] } }));
    expect(plan.decisions).toEqual([{ action: 'hold', pool: 'GPU', reason: 'GPU at its maximum of 2 autoscaled workers' }]);
    // ceil((6 busy + 4 queued) / 2 slots per worker) = 5, above the 3 it has.
    expect(plan.desired).toEqual({ GPU: 5 });
  });

  it('with no workers at all, asks for one worker per queued job', () => {
    const plan = planScaling(input({ queued: { GPU: [3, 60_000] } }));
    expect(plan.decisions).toEqual([{ action: 'hold', pool: 'GPU', reason: 'no permanent GPU worker to start a worker from' }]);
    expect(plan.desired).toEqual({ GPU: 3 });
  });

  it('considers queued, worker and pending pools, skipping empty queues', () => {
    const plan = planScaling(input({ workers: [worker('p1', { caps: ['GENERAL', 'GPU'] })], queued: { HIGH_MEM: [0, 60_000] }, pending: [pending('s1', 'FPGA')] }));
    expect(plan.desired).toEqual({ FPGA: 1, GENERAL: 1, GPU: 1 });
  });
});

describe('several capabilities and determinism', () => {
  it('a worker with several capabilities gives capacity to each of its pools', () => {
    const workers = [worker('p1', { running: 2 }), worker('both', { caps: ['GENERAL', 'GPU'], running: 1 })];
    const plan = planScaling(input({ workers, queued: { GENERAL: [1, 60_000], GPU: [1, 60_000] } }));
    expect(plan.decisions).toEqual([]);
    expect(plan.desired).toEqual({ GENERAL: 2, GPU: 1 });
  });

  it('a permanent worker with several capabilities can start a worker for any of them', () => {
    const plan = planScaling(input({ workers: [worker('both', { caps: ['GENERAL', 'GPU'], running: 2 })], queued: { GPU: [1, 60_000] } }));
    expect(plan.decisions).toEqual([{ action: 'spawn', pool: 'GPU', via: 'both', slots: 2, reason: '1 GPU job waited 60.0 s with no free slot' }]);
  });

  it('gives the same plan for any worker order, with pools sorted', () => {
    const workers = [
      worker('p1', { caps: ['GPU'], running: 2 }),
      worker('p2', { running: 2 }),
      scaled('a1', { caps: ['HIGH_MEM'], idleSince: NOW - 600_000 }),
      scaled('a0', { caps: ['HIGH_MEM'], idleSince: NOW - 600_000 }),
    ];
    const first = planScaling(input({ workers, queued: { GPU: [1, 60_000], GENERAL: [1, 60_000] } }));
    const second = planScaling(input({ workers: [...workers].reverse(), queued: { GENERAL: [1, 60_000], GPU: [1, 60_000] } }));
    expect(second).toEqual(first);
    expect(first.decisions.map((d) => [d.action, d.pool])).toEqual([
      ['spawn', 'GENERAL'],
      ['spawn', 'GPU'],
      ['stop', 'HIGH_MEM'],
      ['stop', 'HIGH_MEM'],
    ]);
    expect(first.decisions.filter((d) => d.action === 'stop').map((d) => d.workerId)).toEqual(['a0', 'a1']);
  });

  it('names an autoscaled worker by its first capability', () => {
    expect(poolOf(scaled('a1', { caps: ['GPU'] }))).toBe('GPU');
  });
});
