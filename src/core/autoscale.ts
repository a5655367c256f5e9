/**
 * Autoscaling: per capability pool, when to have a permanent worker start an extra ephemeral worker
 * on its host, and when to stop an autoscaled worker that sits idle. Pure and deterministic so the
 * master can call it every tick with a snapshot and simply carry out the plan.
 */

export interface ScalingPolicy {
  /** Queued jobs must have waited this long with no free slot in their pool before a worker is started. */
  scaleUpAfterMs: number;
  /** An autoscaled worker with nothing running for this long is stopped. */
  idleStopMs: number;
  /** Most autoscaled workers per pool at once; pools not listed use defaultMax. */
  maxPerPool: Readonly<Record<string, number>>;
  defaultMax: number;
}

export interface PoolWorker {
  id: string;
  capabilities: ReadonlySet<string>;
  slots: number;
  running: number;
  /** False while draining or disconnected. */
  accepting: boolean;
  permanent: boolean;
  /** Set on workers the autoscaler started: the permanent worker that spawned it. */
  spawnedBy: string | null;
  /** Since when nothing has run on it; null while it runs something. */
  idleSince: number | null;
}

/** A spawn asked for and not yet registered (the master drops it after a timeout). */
export interface PendingSpawn {
  spawnId: string;
  pool: string;
  via: string;
  slots: number;
  at: number;
}

export interface ScalingInput {
  now: number;
  policy: ScalingPolicy;
  workers: readonly PoolWorker[];
  /** Per pool: how many jobs are queued and when the oldest of them was queued. */
  queued: ReadonlyMap<string, { count: number; oldestAt: number }>;
  pending: readonly PendingSpawn[];
  /** Autoscaled workers already asked to stop (not stopped twice, not counted as capacity). */
  stopping: ReadonlySet<string>;
}

export type ScalingDecision =
  | { action: 'spawn'; pool: string; via: string; slots: number; reason: string }
  | { action: 'stop'; pool: string; workerId: string; reason: string }
  | { action: 'hold'; pool: string; reason: string };

export interface ScalingPlan {
  decisions: ScalingDecision[];
  /** Per pool: the number of workers the pool should have now, for external infrastructure to follow. */
  desired: Record<string, number>;
}

/** An autoscaled worker is started with exactly one capability, so its first one names its pool. */
export const poolOf = (w: PoolWorker): string => w.capabilities.values().next().value ?? '';

export const maxAutoscaled = (policy: ScalingPolicy, pool: string): number => policy.maxPerPool[pool] ?? policy.defaultMax;

const isAutoscaled = (w: PoolWorker): boolean => w.spawnedBy !== null;
const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Lower is better: fraction of slots in use, then id, so the same snapshot always picks the same parent. */
function compareLoad(a: PoolWorker, b: PoolWorker): number {
  const ra = a.running / a.slots;
  const rb = b.running / b.slots;
  return ra !== rb ? ra - rb : byId(a, b);
}

/**
 * Pools considered: every capability with queued jobs, every capability of any worker, every pool
 * of a pending spawn. A worker belongs to every pool whose capability it has; workers in `stopping`
 * give no capacity and are not stopped again, but count toward the pool maximum until they are gone.
 *
 * Scale up a pool when jobs are queued, no accepting worker of the pool has a free slot, and the
 * oldest job has waited at least `scaleUpAfterMs`. Enough workers are started that their slots,
 * plus those of pending spawns, cover the queued count, within the pool maximum (registered
 * autoscaled workers + pending spawns + new spawns). Each is started via the least loaded accepting
 * permanent worker of the pool and gets its slot count. When the need cannot be met, in full or in
 * part, one `hold` says why (at the maximum, or no permanent worker to start one from).
 *
 * Scale down: an accepting autoscaled worker that has run nothing for `idleStopMs` is stopped,
 * unless one of its capabilities has queued jobs. Permanent workers and workers started by hand
 * (`spawnedBy === null`) are never stopped.
 *
 * `desired[pool]` = workers that stay (not stopping, not stopped now) + pending + new spawns; when
 * the pool holds, at least ceil((busy slots + queued) / mean slots per worker) so that external
 * infrastructure sees what is missing.
 */
export function planScaling(input: ScalingInput): ScalingPlan {
  const { now, policy, workers, queued, pending, stopping } = input;
  const queuedIn = (pool: string): number => queued.get(pool)?.count ?? 0;

  const pools = new Set<string>();
  for (const [pool, q] of queued) if (q.count > 0) pools.add(pool);
  for (const w of workers) for (const c of w.capabilities) pools.add(c);
  for (const p of pending) pools.add(p.pool);

  // Decided once for all pools: a worker with several capabilities must not be stopped while any has queued work.
  const stops = workers
    .flatMap((w) => {
      if (!isAutoscaled(w) || w.permanent || !w.accepting || stopping.has(w.id)) return [];
      if (w.running !== 0 || w.idleSince === null || [...w.capabilities].some((c) => queuedIn(c) > 0)) return [];
      const idleMs = now - w.idleSince;
      return idleMs >= policy.idleStopMs ? [{ id: w.id, pool: poolOf(w), idleMs }] : [];
    })
    .sort(byId);
  const stopped = new Set(stops.map((s) => s.id));

  const decisions: ScalingDecision[] = [];
  const desired: Record<string, number> = {};
  for (const pool of [...pools].sort()) {
    const members = workers.filter((w) => w.capabilities.has(pool));
    const live = members.filter((w) => !stopping.has(w.id));
    const pendingHere = pending.filter((p) => p.pool === pool);
    const scaleUp = planScaleUp(pool, input, live, members, pendingHere);
    decisions.push(...scaleUp);

    const staying = live.filter((w) => !stopped.has(w.id)).length;
    let want = staying + pendingHere.length + scaleUp.filter((d) => d.action === 'spawn').length;
    if (scaleUp.some((d) => d.action === 'hold')) {
      const totalSlots = live.reduce((sum, w) => sum + w.slots, 0);
      const perWorker = totalSlots > 0 ? totalSlots / live.length : 1;
      const busy = live.reduce((sum, w) => sum + w.running, 0);
      want = Math.max(want, Math.ceil((busy + queuedIn(pool)) / perWorker));
    }
    desired[pool] = want;
  }
  for (const s of stops) decisions.push({ action: 'stop', pool: s.pool, workerId: s.id, reason: `idle for ${seconds(s.idleMs)}` });
  // Stable sort: within a pool, scale-up decisions stay ahead of stops.
  decisions.sort((a, b) => (a.pool < b.pool ? -1 : a.pool > b.pool ? 1 : 0));
  return { decisions, desired };
}

function planScaleUp(pool: string, input: ScalingInput, live: PoolWorker[], members: PoolWorker[], pendingHere: PendingSpawn[]): ScalingDecision[] {
  const q = input.queued.get(pool);
  if (q === undefined || q.count <= 0) return [];
  const waited = input.now - q.oldestAt;
  const free = live.filter((w) => w.accepting).reduce((sum, w) => sum + Math.max(0, w.slots - w.running), 0);
  if (free > 0 || waited < input.policy.scaleUpAfterMs) return [];

  const uncovered = q.count - pendingHere.reduce((sum, p) => sum + p.slots, 0);
  if (uncovered <= 0) return [];

  const max = maxAutoscaled(input.policy, pool);
  const atMax: ScalingDecision = { action: 'hold', pool, reason: `${pool} at its maximum of ${plural(max, 'autoscaled worker')}` };
  // Stopping workers still occupy the host until they are gone, hence `members`, not `live`.
  const room = max - members.filter(isAutoscaled).length - pendingHere.length;
  if (room <= 0) return [atMax];

  // A parent without slots could never give a useful worker, and would divide by zero below.
  const parents = live.filter((w) => w.permanent && w.accepting && w.slots > 0).sort(compareLoad);
  const parent = parents[0];
  if (parent === undefined) return [{ action: 'hold', pool, reason: `no permanent ${pool} worker to start a worker from` }];

  const need = Math.ceil(uncovered / parent.slots);
  const reason = `${plural(q.count, `${pool} job`)} waited ${seconds(waited)} with no free slot`;
  const spawns: ScalingDecision[] = Array.from({ length: Math.min(need, room) }, () => ({ action: 'spawn', pool, via: parent.id, slots: parent.slots, reason }));
  return need > room ? [...spawns, atMax] : spawns;
}
