/**
 * Flow control (the master's side of core/flow-limiter.ts): asks the limiter before a job that
 * names a key starts, parks the job on the key that holds it back, and wakes a key's waiters when
 * the key may have room again (a holder stopped, a token is due, a limit changed). The cluster's
 * limits are kept in the store, so a restart or a failover keeps them; holders are the running
 * jobs, found again from the runs.
 */
import type { JobRecord } from '../../core/model.js';
import { jobRef, parseJobRef } from '../../core/model.js';
import { FlowLimiter, type Blocked, type FlowNeeds } from '../../core/flow-limiter.js';
import { type ClusterLimit, ClusterLimitSchema } from '../../core/flow-spec.js';
import type { FlowKeyView } from '../../protocol/flow-methods.js';
import { z } from 'zod';
import { TitanError } from '../../core/errors.js';
import { utcTime } from '../../core/time-text.js';
import { Timers } from '../timers.js';
import type { MasterResources } from './resources.js';

/** The store's meta key that holds the cluster's limits (a JSON array of ClusterLimit). */
const LIMITS_META = 'flow.limits';


const StoredLimits = z.array(ClusterLimitSchema);

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

const needsOf = (job: JobRecord): FlowNeeds | null => (job.spec.concurrency || job.spec.rateLimit ? job.spec : null);

export class FlowControl {
  readonly limiter: FlowLimiter;
  private readonly tokenTimers: Timers;
  /** Keys whose waiters may now start. */
  private readonly dirty = new Set<string>();
  /** Jobs put back in line from a key's waiters, by that key, until they start or park again. */
  private readonly wokenFrom = new Map<string, string>();
  /** Why each parked job waits. */
  private readonly blocked = new Map<string, Blocked>();

  constructor(private readonly r: MasterResources) {
    this.limiter = new FlowLimiter();
    this.tokenTimers = new Timers(r.clock, (key) => this.recheck(key));
  }

  /** Loads the cluster's limits (before any job is dispatched). */
  async loadLimits(): Promise<void> {
    const stored = await this.r.store.getMeta(LIMITS_META);
    if (stored !== null) {
      const parsed = StoredLimits.safeParse(safeJson(stored));
      if (parsed.success) this.limiter.setClusterLimits(parsed.data);
      else this.r.log(`the cluster's flow limits in the store are not readable (${parsed.error.issues[0]?.message ?? 'not JSON'}); none apply until they are set again`);
    }
  }

  /**
   * After a start, before any job is dispatched: the running jobs of the runs found hold their
   * keys again, and their jobs' latest starts are replayed into the rate buckets.
   */
  restore(): void {
    const starts: { needs: FlowNeeds; at: number }[] = [];
    for (const state of this.r.runs.values()) {
      for (const job of state.jobs.values()) {
        const needs = needsOf(job);
        if (!needs) continue;
        if (job.status === 'RUNNING') this.limiter.restore(jobRef(job.runId, job.spec.id), needs);
        if (job.startedAt !== null && needs.rateLimit) starts.push({ needs, at: job.startedAt });
      }
    }
    this.limiter.replayStarts(starts);
  }

  /** Sets a cluster limit (replacing the key's); stored before it applies. */
  setLimit(limit: ClusterLimit): Promise<ClusterLimit[]> {
    const others = this.limiter.clusterLimits().filter((l) => l.key !== limit.key);
    return this.storeLimits([...others, limit].sort((a, b) => (a.key < b.key ? -1 : 1)));
  }

  /** Removes the cluster's limit on a key, if it had one. */
  async removeLimit(key: string): Promise<{ removed: boolean; limits: ClusterLimit[] }> {
    const before = this.limiter.clusterLimits();
    const next = before.filter((l) => l.key !== key);
    if (next.length === before.length) return { removed: false, limits: before };
    return { removed: true, limits: await this.storeLimits(next) };
  }

  private async storeLimits(next: ClusterLimit[]): Promise<ClusterLimit[]> {
    this.r.committer.checkAvailable('the limit was not set');
    await this.r.store.setMeta(LIMITS_META, JSON.stringify(next)).catch((err: unknown) => {
      throw err instanceof TitanError ? err : new TitanError('UNAVAILABLE', `the limit was not set: ${(err as Error).message}`);
    });
    for (const key of this.limiter.setClusterLimits(next)) this.recheck(key);
    return next;
  }

  /** Every key that has a cluster limit, holders or waiters. */
  keys(): FlowKeyView[] {
    const now = this.r.clock.now();
    const names = new Set([...this.limiter.clusterLimits().map((l) => l.key), ...this.limiter.heldKeys(), ...this.r.queue.parkedKeys()]);
    return [...names].sort().flatMap((key) => {
      const waiting = this.r.queue.parkedOn(key);
      const holders = this.limiter.holdersOf(key);
      const limit = this.limiter.clusterLimits().find((l) => l.key === key) ?? null;
      if (!limit && holders.length === 0 && waiting.length === 0) return [];
      const rated = waiting.map((ref) => this.blocked.get(ref)).find((b) => b?.kind === 'rate');
      return [{ key, limit, holders, waiters: waiting.length, nextTokenAt: rated?.kind === 'rate' ? Math.max(now, rated.until) : null }];
    });
  }

  /**
   * Whether the best job of a lane may start now (dispatch found it a worker). If not, it is
   * parked on the key that holds it back, and false is returned.
   */
  admit(lane: string, job: JobRecord, now: number): boolean {
    const needs = needsOf(job);
    if (!needs) return true;
    const ref = jobRef(job.runId, job.spec.id);
    const from = this.wokenFrom.get(ref);
    this.wokenFrom.delete(ref);
    const blocked = this.limiter.admit(ref, needs, now);
    if (!blocked) {
      this.blocked.delete(ref);
      return true;
    }
    this.r.queue.parkHead(lane, blocked.key);
    this.blocked.set(ref, blocked);
    if (blocked.kind === 'rate') this.tokenTimers.set(blocked.key, blocked.until);
    // It was given room on another key and did not take it: someone else may.
    if (from !== undefined && from !== blocked.key) this.recheck(from);
    return false;
  }

  /** Start of a dispatch pass: puts back in line as many waiters of each key as may start. */
  wakeWaiters(now: number): void {
    if (this.dirty.size === 0) return;
    const keys = [...this.dirty];
    this.dirty.clear();
    for (const key of keys) {
      const first = this.r.queue.firstParked(key);
      if (first === undefined) continue;
      const needs = this.needsOfRef(first);
      if (!needs) continue;
      const limit = this.limiter.concurrencyLimit(key, needs);
      const free = limit === null ? Infinity : limit - this.limiter.held(key);
      const tokens = this.limiter.tokens(key, needs, now);
      const room = Math.min(free, tokens);
      if (room > 0) for (const ref of this.r.queue.wake(key, room)) this.wokenFrom.set(ref, key);
      // Waiters left for want of a token: no holder stopping tells when the next is due, the clock does.
      const due = tokens < free && this.r.queue.firstParked(key) !== undefined ? this.limiter.nextTokenAt(key, needs, now) : null;
      if (due !== null) this.tokenTimers.set(key, due);
    }
  }

  /** A job's record changed: a job that stopped running gives its keys up; one no longer queued waits for nothing. */
  jobChanged(job: JobRecord): void {
    if (!needsOf(job)) return;
    const ref = jobRef(job.runId, job.spec.id);
    if (job.status !== 'RUNNING') for (const key of this.limiter.release(ref)) this.recheck(key);
    if (job.status !== 'QUEUED') {
      this.blocked.delete(ref);
      const from = this.wokenFrom.get(ref);
      this.wokenFrom.delete(ref);
      if (from !== undefined) this.recheck(from);
    }
  }

  /** Why a queued job waits for a key, or null when no key holds it back. */
  reasonOf(job: JobRecord): string | null {
    const b = this.blocked.get(jobRef(job.runId, job.spec.id));
    if (!b || job.status !== 'QUEUED') return null;
    if (b.kind === 'concurrency') return `key ${b.key} is at its limit (${this.limiter.held(b.key)}/${b.limit} running)`;
    return `rate limit ${b.key}: next start at ${utcTime(b.until, this.r.clock.now())}`;
  }

  private recheck(key: string): void {
    this.dirty.add(key);
    this.r.bus.emit('ready', undefined);
  }

  private needsOfRef(ref: string): FlowNeeds | null {
    const { runId, jobId } = parseJobRef(ref);
    const job = runId === null ? undefined : this.r.runs.job(runId, jobId);
    return job ? needsOf(job) : null;
  }
}
