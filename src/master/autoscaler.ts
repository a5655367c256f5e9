/**
 * The autoscaler system: once a tick it snapshots the pools, asks the pure planner what to do
 * and carries it out: a permanent worker starts an ephemeral `titan worker`, or an idle autoscaled
 * worker is shut down. Every decision is kept as an event with its reason; each change of a
 * pool's desired worker count is announced (the webhook follows it).
 */
import { randomBytes } from 'node:crypto';
import { type PendingSpawn, planScaling, type PoolWorker, type ScalingDecision, type ScalingPolicy } from '../core/autoscale.js';
import type { AutoscalerView, ScalingEvent } from '../protocol/methods.js';
import type { Clock } from './clock.js';

export interface AutoscaleOptions {
  policy: ScalingPolicy;
  /** How often the pools are looked at (default 1 s). */
  intervalMs?: number;
  /** A requested worker that has not registered by then is forgotten (default 60 s). */
  spawnTimeoutMs?: number;
}

/** What the autoscaler needs from the master: a snapshot and two actions. */
export interface ScalingTarget {
  workers(): (PoolWorker & { connected: boolean })[];
  queued(): ReadonlyMap<string, { count: number; oldestAt: number }>;
  /** Asks worker `via` to start an ephemeral worker; false when it cannot be reached. */
  spawn(via: string, request: { spawnId: string; capabilities: string[]; slots: number }): boolean;
  stop(workerId: string): void;
}

export interface DesiredCount {
  pool: string;
  desired: number;
  /** Workers in the pool now. */
  current: number;
  at: number;
}

const MAX_EVENTS = 100;

export class Autoscaler {
  private readonly pending: PendingSpawn[] = [];
  private readonly stopping = new Set<string>();
  private readonly idleSince = new Map<string, number>();
  private readonly events: ScalingEvent[] = [];
  private readonly lastHold = new Map<string, string>();
  private readonly desired = new Map<string, number>();
  private timer: { cancel(): void } | null = null;
  private readonly intervalMs: number;
  private readonly spawnTimeoutMs: number;

  constructor(
    private readonly options: AutoscaleOptions,
    private readonly target: ScalingTarget,
    private readonly clock: Clock,
    private readonly onDesired: (count: DesiredCount) => void,
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.spawnTimeoutMs = options.spawnTimeoutMs ?? 60_000;
  }

  start(): void {
    const tick = (): void => {
      this.tick();
      this.timer = this.clock.setTimer(tick, this.intervalMs);
    };
    this.timer = this.clock.setTimer(tick, this.intervalMs);
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** A worker registered: an ephemeral one fulfils the oldest spawn its parent was asked for. */
  registered(workerId: string, spawnedBy: string | undefined, capabilities: readonly string[]): void {
    if (spawnedBy === undefined) return;
    const i = this.pending.findIndex((p) => p.via === spawnedBy && capabilities.includes(p.pool));
    if (i < 0) return;
    const [spawn] = this.pending.splice(i, 1);
    if (spawn) this.record({ action: 'registered', pool: spawn.pool, workerId, reason: `started by ${spawnedBy} in ${((this.clock.now() - spawn.at) / 1000).toFixed(1)} s` });
  }

  view(): AutoscalerView {
    return { enabled: true, policy: this.options.policy, desired: Object.fromEntries(this.desired), pending: this.pending.length, events: [...this.events] };
  }

  tick(): void {
    const now = this.clock.now();
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i] as PendingSpawn;
      if (now - p.at < this.spawnTimeoutMs) continue;
      this.pending.splice(i, 1);
      this.record({ action: 'spawn-failed', pool: p.pool, workerId: p.via, reason: `the worker requested from ${p.via} did not register within ${this.spawnTimeoutMs / 1000} s` });
    }
    const all = this.target.workers();
    const present = new Set(all.map((w) => w.id));
    for (const id of [...this.stopping]) if (!present.has(id)) this.stopping.delete(id);
    for (const id of [...this.idleSince.keys()]) if (!present.has(id)) this.idleSince.delete(id);
    const workers = all.map((w) => {
      if (w.running > 0) this.idleSince.delete(w.id);
      else if (!this.idleSince.has(w.id)) this.idleSince.set(w.id, now);
      return { ...w, idleSince: this.idleSince.get(w.id) ?? null };
    });
    const plan = planScaling({ now, policy: this.options.policy, workers, queued: this.target.queued(), pending: this.pending, stopping: this.stopping });
    const held = new Set<string>();
    for (const d of plan.decisions) this.carryOut(d, now, held);
    for (const pool of [...this.lastHold.keys()]) if (!held.has(pool)) this.lastHold.delete(pool);
    // A pool that left the plan (no jobs, workers or spawns) now needs no worker at all.
    const desiredNow = new Map(Object.entries(plan.desired));
    for (const pool of this.desired.keys()) if (!desiredNow.has(pool)) desiredNow.set(pool, 0);
    for (const [pool, desired] of desiredNow) {
      if (this.desired.get(pool) === desired) continue;
      this.desired.set(pool, desired);
      const current = workers.filter((w) => w.connected && w.capabilities.has(pool)).length;
      this.onDesired({ pool, desired, current, at: now });
    }
  }

  private carryOut(d: ScalingDecision, now: number, held: Set<string>): void {
    switch (d.action) {
      case 'spawn': {
        const spawnId = `s${now.toString(36)}${randomBytes(3).toString('hex')}`;
        if (!this.target.spawn(d.via, { spawnId, capabilities: [d.pool], slots: d.slots })) {
          this.record({ action: 'spawn-failed', pool: d.pool, workerId: d.via, reason: `${d.via} cannot be reached` });
          return;
        }
        this.pending.push({ spawnId, pool: d.pool, via: d.via, slots: d.slots, at: now });
        this.record({ action: 'spawn', pool: d.pool, workerId: d.via, reason: d.reason });
        return;
      }
      case 'stop':
        this.stopping.add(d.workerId);
        this.target.stop(d.workerId);
        this.record({ action: 'stop', pool: d.pool, workerId: d.workerId, reason: d.reason });
        return;
      case 'hold':
        held.add(d.pool);
        // A pool that stays blocked for the same reason is reported once, not every tick.
        if (this.lastHold.get(d.pool) === d.reason) return;
        this.lastHold.set(d.pool, d.reason);
        this.record({ action: 'hold', pool: d.pool, workerId: null, reason: d.reason });
        return;
    }
  }

  private record(e: Omit<ScalingEvent, 'at'> & { workerId: string | null }): void {
    this.events.push({ at: this.clock.now(), ...e });
    if (this.events.length > MAX_EVENTS) this.events.shift();
  }
}
