/**
 * Concurrency and rate limits by key: whether a job may start now, and who holds each key. Pure:
 * the time is an argument. Holders are the running jobs that name a key (in `concurrency` or
 * `rateLimit`), so they are rebuilt from the runs after a restart. A rate bucket starts full (its
 * burst) when its key is first used; rate buckets are not stored, so after a restart the starts
 * recorded in the runs still in memory are replayed into them (`replayStarts`), and a restart
 * does not hand out a second burst for starts it knows of.
 *
 * A limit set for the cluster (`titan limits set`) wins over the one a job declares.
 */
import { type ClusterLimit, type Concurrency, RATE_PERIODS, type RateLimit } from './flow-spec.js';

/** What a job names: the two flow fields of its spec. */
export interface FlowNeeds {
  concurrency?: Concurrency;
  rateLimit?: RateLimit;
}

export type Blocked = { kind: 'concurrency'; key: string; held: number; limit: number } | { kind: 'rate'; key: string; until: number };

interface Bucket {
  tokens: number;
  at: number;
}

interface Rate {
  /** Tokens per millisecond. */
  perMs: number;
  capacity: number;
}

export class FlowLimiter {
  /** Job refs holding each key. */
  private readonly holders = new Map<string, Set<string>>();
  /** The keys each holding job holds. */
  private readonly holding = new Map<string, readonly string[]>();
  private readonly buckets = new Map<string, Bucket>();
  private cluster = new Map<string, ClusterLimit>();


  /** Replaces the cluster's limits; returns the keys whose limits changed. */
  setClusterLimits(limits: readonly ClusterLimit[]): string[] {
    const next = new Map(limits.map((l) => [l.key, l]));
    const changed = [...new Set([...this.cluster.keys(), ...next.keys()])].filter((k) => JSON.stringify(this.cluster.get(k)) !== JSON.stringify(next.get(k)));
    this.cluster = next;
    return changed;
  }

  clusterLimits(): ClusterLimit[] {
    return [...this.cluster.values()];
  }

  /** The weight the cluster gives a fairness group, if any. */
  weightOf(group: string): number | undefined {
    return this.cluster.get(group)?.weight;
  }

  /** The keys a job names, each once. */
  keysOf(needs: FlowNeeds): string[] {
    const c = needs.concurrency?.key;
    const r = needs.rateLimit?.key;
    if (c === undefined) return r === undefined ? [] : [r];
    return r === undefined || r === c ? [c] : [c, r];
  }

  /** The concurrency limit on a key for this job, or null when none applies. */
  concurrencyLimit(key: string, needs: FlowNeeds): number | null {
    const set = this.cluster.get(key)?.concurrency;
    if (set !== undefined) return set;
    return needs.concurrency?.key === key ? (needs.concurrency.limit ?? null) : null;
  }

  /**
   * Whether a job may start at `now`. If it may, it takes a token of each rate limit it draws
   * from and holds its keys until `release`; if not, nothing changes and the answer says why.
   */
  admit(ref: string, needs: FlowNeeds, now: number): Blocked | null {
    const keys = this.keysOf(needs);
    if (keys.length === 0) return null;
    for (const key of keys) {
      const limit = this.concurrencyLimit(key, needs);
      const held = this.held(key);
      if (limit !== null && held >= limit) return { kind: 'concurrency', key, held, limit };
    }
    for (const key of keys) {
      const rate = this.rateOf(key, needs);
      if (rate === null) continue;
      const bucket = this.refill(key, rate, now);
      if (bucket.tokens < 1) return { kind: 'rate', key, until: now + Math.ceil((1 - bucket.tokens) / rate.perMs) };
    }
    for (const key of keys) {
      const bucket = this.buckets.get(key);
      if (bucket && this.rateOf(key, needs) !== null) bucket.tokens -= 1;
      this.hold(ref, key);
    }
    this.holding.set(ref, keys);
    return null;
  }

  /** Records a job that already runs (found after a restart) as holding its keys. */
  restore(ref: string, needs: FlowNeeds): void {
    const keys = this.keysOf(needs);
    if (keys.length === 0 || this.holding.has(ref)) return;
    for (const key of keys) this.hold(ref, key);
    this.holding.set(ref, keys);
  }

  /** Takes, in time order, a token for each start made before a restart (`at` in the past). */
  replayStarts(starts: readonly { needs: FlowNeeds; at: number }[]): void {
    for (const { needs, at } of [...starts].sort((a, b) => a.at - b.at)) {
      for (const key of this.keysOf(needs)) {
        const rate = this.rateOf(key, needs);
        if (rate === null) continue;
        const bucket = this.refill(key, rate, at);
        bucket.tokens = Math.max(0, bucket.tokens - 1);
      }
    }
  }

  /** The job stopped running: the keys it held, now each one holder fewer. */
  release(ref: string): readonly string[] {
    const keys = this.holding.get(ref);
    if (!keys) return [];
    this.holding.delete(ref);
    for (const key of keys) {
      const set = this.holders.get(key);
      set?.delete(ref);
      if (set?.size === 0) this.holders.delete(key);
    }
    return keys;
  }

  held(key: string): number {
    return this.holders.get(key)?.size ?? 0;
  }

  holdersOf(key: string): string[] {
    return [...(this.holders.get(key) ?? [])];
  }

  /** Keys that have holders now. */
  heldKeys(): string[] {
    return [...this.holders.keys()];
  }

  /** Whole tokens a key's bucket holds at `now` (Infinity for a key without a rate). */
  tokens(key: string, needs: FlowNeeds, now: number): number {
    const rate = this.rateOf(key, needs);
    return rate === null ? Infinity : Math.floor(this.refill(key, rate, now).tokens);
  }

  /** When a key's bucket next gains a whole token (null for a key without a rate). */
  nextTokenAt(key: string, needs: FlowNeeds, now: number): number | null {
    const rate = this.rateOf(key, needs);
    if (rate === null) return null;
    const { tokens } = this.refill(key, rate, now);
    return now + Math.ceil((Math.floor(tokens) + 1 - tokens) / rate.perMs);
  }

  private hold(ref: string, key: string): void {
    let set = this.holders.get(key);
    if (!set) this.holders.set(key, (set = new Set()));
    set.add(ref);
  }

  private rateOf(key: string, needs: FlowNeeds): Rate | null {
    const r = this.cluster.get(key)?.rate ?? (needs.rateLimit?.key === key ? needs.rateLimit : undefined);
    if (!r) return null;
    return { perMs: r.limit / RATE_PERIODS[r.per], capacity: r.burst ?? r.limit };
  }

  private refill(key: string, rate: Rate, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = { tokens: rate.capacity, at: now }));
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(rate.capacity, bucket.tokens + elapsed * rate.perMs);
    bucket.at = Math.max(bucket.at, now);
    return bucket;
  }
}
