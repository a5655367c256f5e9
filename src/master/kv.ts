/**
 * The data bus's keys on the master. Writes made during one event-loop turn are applied in one store
 * transaction (group commit, as for runs) and answered only once it is durable. Waiters on a key
 * are woken after the commit that changed it: nobody polls. TTLs are keyed timers, re-armed from
 * the store at start-up; reads already treat a key past its expiry as absent.
 */
import { TitanError } from '../core/errors.js';
import type { KvEntry, KvKeyInfo, KvOp, KvOutcome } from '../core/data.js';
import type { DataBusResults, KvWaitResult } from '../protocol/data-bus-methods.js';
import type { DataBusStore } from '../store/data-bus-store.js';
import { StoreUnavailableError } from '../store/store.js';
import type { Clock } from './clock.js';
import { Timers } from './timers.js';

type Applied = Extract<KvOutcome, { ok: true }>;

interface Pending {
  op: KvOp;
  resolve: (outcome: Applied) => void;
  reject: (err: Error) => void;
}

type Waker = (state: KvWaitResult) => void;

export interface KvWait {
  result: Promise<KvWaitResult>;
  /** Forgets the waiter (its connection closed); the result then never settles. */
  cancel(): void;
}

export class KvService {
  private pending: Pending[] = [];
  private scheduled = false;
  /** The transaction in flight; the next batch starts after it. */
  private chain: Promise<void> = Promise.resolve();
  private readonly waiters = new Map<string, Set<Waker>>();
  private readonly timers: Timers;
  private closed = false;

  constructor(
    private readonly store: DataBusStore,
    private readonly clock: Clock,
    private readonly onFatal: (err: Error) => void,
  ) {
    // A failed expiry surfaces through onFatal (store failure) or is moot (master closing); while
    // the store is unavailable it is tried again a second later.
    this.timers = new Timers(clock, (key) =>
      void this.write({ op: 'expire', key }).catch((err: unknown) => {
        if (!this.closed && err instanceof StoreUnavailableError) this.timers.set(key, this.clock.now() + 1_000);
      }),
    );
  }

  /** Arms a timer for every key with an expiry; keys that expired while the master was down go at once. */
  async start(): Promise<void> {
    for (const { key, expiresAt } of await this.store.kvExpiring()) this.timers.set(key, expiresAt);
  }

  /** Stops taking writes and waits for those already taken to commit. */
  async close(): Promise<void> {
    this.closed = true;
    // A batch still waiting for its turn joins the chain on the next check phase.
    if (this.scheduled) await new Promise((resolve) => setImmediate(resolve));
    await this.chain;
  }

  // ---- reads ------------------------------------------------------------------------------------

  async get(key: string): Promise<KvEntry> {
    const stored = await this.store.kvGet(key, this.clock.now());
    if (!stored) return { value: null, version: 0, expiresAt: null };
    if (stored.type === 'set') throw wrongType(key, 'set', 'a string');
    return { value: stored.value, version: stored.version, expiresAt: stored.expiresAt };
  }

  async smembers(key: string): Promise<DataBusResults['kv.smembers']> {
    const stored = await this.store.kvGet(key, this.clock.now());
    if (!stored) return { members: [], version: 0 };
    if (stored.type === 'string') throw wrongType(key, 'string', 'a set');
    return { members: await this.store.kvMembers(key), version: stored.version };
  }

  keys(prefix: string, limit: number): Promise<{ keys: KvKeyInfo[]; truncated: boolean }> {
    return this.store.kvKeys(prefix, limit, this.clock.now());
  }

  // ---- writes -----------------------------------------------------------------------------------

  async set(key: string, value: string, ttlMs: number | null): Promise<DataBusResults['kv.set']> {
    const o = await this.write({ op: 'set', key, value, ttlMs });
    return { version: o.version, expiresAt: o.expiresAt };
  }

  async del(key: string): Promise<DataBusResults['kv.del']> {
    return { deleted: (await this.write({ op: 'del', key })).count };
  }

  async incr(key: string, by: number): Promise<DataBusResults['kv.incr']> {
    const o = await this.write({ op: 'incr', key, by });
    return { value: o.count, version: o.version };
  }

  async cas(key: string, expected: string | null, value: string | null, ttlMs: number | null): Promise<DataBusResults['kv.cas']> {
    const o = await this.write({ op: 'cas', key, expected, value, ttlMs });
    return { swapped: o.count === 1, value: o.value, version: o.version };
  }

  async sadd(key: string, members: string[]): Promise<DataBusResults['kv.sadd']> {
    const o = await this.write({ op: 'sadd', key, members });
    return { added: o.count, version: o.version };
  }

  async srem(key: string, members: string[]): Promise<DataBusResults['kv.srem']> {
    const o = await this.write({ op: 'srem', key, members });
    return { removed: o.count, version: o.version };
  }

  // ---- waiting ----------------------------------------------------------------------------------

  /**
   * Resolves at the key's next committed change (set, del, incr, cas, set ops, expiry), at once
   * when `sinceVersion` is given and the key has moved past it, or with `changed: false` after
   * `timeoutMs`. The waiter is registered before the current version is read, so a change
   * committed in between is not missed.
   */
  wait(key: string, sinceVersion: number | undefined, timeoutMs: number): KvWait {
    let settle!: (r: KvWaitResult) => void;
    let fail!: (err: Error) => void;
    const result = new Promise<KvWaitResult>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    let done = false;
    const detach = (): boolean => {
      if (done) return false;
      done = true;
      timer.cancel();
      const set = this.waiters.get(key);
      set?.delete(waker);
      if (set?.size === 0) this.waiters.delete(key);
      return true;
    };
    const finish = (r: KvWaitResult): void => {
      if (detach()) settle(r);
    };
    const waker: Waker = finish;
    const current = (): Promise<KvWaitResult> => this.store.kvGet(key, this.clock.now()).then((s) => ({ changed: false, value: s?.value ?? null, version: s?.version ?? 0 }));
    const onError = (err: Error): void => {
      if (detach()) fail(err);
    };
    const timer = this.clock.setTimer(() => void current().then(finish, onError), timeoutMs);
    addTo(this.waiters, key, waker);
    if (sinceVersion !== undefined) {
      void current().then((s) => {
        if (s.version !== sinceVersion) finish({ ...s, changed: true });
      }, onError);
    }
    return { result, cancel: detach };
  }

  // ---- the batch ----------------------------------------------------------------------------------

  private write(op: KvOp): Promise<Applied> {
    if (this.closed) return Promise.reject(new TitanError('UNAVAILABLE', 'the master is shutting down'));
    const down = this.store.unavailable?.() ?? null;
    if (down) return Promise.reject(down instanceof StoreUnavailableError ? down : new StoreUnavailableError(down.message));
    return new Promise((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const batch = this.pending;
        this.pending = [];
        this.chain = this.chain.then(() => this.apply(batch));
      });
    });
  }

  private async apply(batch: Pending[]): Promise<void> {
    let outcomes: KvOutcome[];
    try {
      outcomes = await this.store.kvApply(
        batch.map((p) => p.op),
        this.clock.now(),
      );
    } catch (err) {
      // An unavailable store (Redis went away, a full disk under SQLite) fails these writes and
      // nothing else: the callers are told to try again, and nothing in memory depends on them. A
      // write whose reply was lost with the connection may still have been applied, as with any
      // timed-out request.
      if (err instanceof StoreUnavailableError) {
        for (const p of batch) p.reject(err);
        return;
      }
      const error = err instanceof Error ? err : new Error(String(err));
      for (const p of batch) p.reject(new TitanError('UNAVAILABLE', `the data bus could not commit: ${error.message}`));
      this.onFatal(error);
      return;
    }
    const changed = new Map<string, Applied>();
    batch.forEach((p, i) => {
      const o = outcomes[i] as KvOutcome;
      if (!o.ok) return p.reject(new TitanError(o.code, o.message));
      if (o.changed) {
        changed.set(p.op.key, o);
        // Only set and cas give a key a new expiry; every op that removes one cancels it.
        if (o.expiresAt === null) this.timers.cancel(p.op.key);
        else if (p.op.op === 'set' || p.op.op === 'cas') this.timers.set(p.op.key, o.expiresAt);
      }
      p.resolve(o);
    });
    for (const [key, o] of changed) {
      for (const wake of [...(this.waiters.get(key) ?? [])]) wake({ changed: true, value: o.value, version: o.version });
    }
  }
}

const wrongType = (key: string, has: string, wanted: string): TitanError => new TitanError('CONFLICT', `key "${key}" holds a ${has}, not ${wanted}`);

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}
