/**
 * Leadership of a cluster whose masters share one store (PostgreSQL or Redis): a lease held in
 * the store, renewed by its holder, with a fencing epoch that rises at each change of holder.
 * After `fence(epoch)`, the store applies a write only while `epoch` is still the lease's, and
 * does so atomically with the write itself, so a leader that was cut off and replaced can never
 * write after its successor began. The store's clock decides expiry, never a master's.
 */
import { TitanError } from '../core/errors.js';

/** How the other masters, workers and clients reach a master. */
export interface MasterAddress {
  /** Unique per master process (a random id), so a restarted master is a new holder. */
  id: string;
  /** `host:port` of its TCP port, as workers and clients should dial it. */
  tcp: string;
  /** Base URL of its HTTP port (dashboard and API), e.g. `http://10.0.0.5:5000`. */
  http: string;
}

export interface LeaseState {
  holder: MasterAddress;
  epoch: number;
  /** Milliseconds until it expires unless renewed, by the store's clock. */
  expiresInMs: number;
}

export type AcquireResult = { acquired: true; epoch: number } | { acquired: false; current: LeaseState | null };

export interface LeaderLease {
  /**
   * Takes the lease when nobody holds it or its holder let it expire; a new epoch (greater than
   * every earlier one) comes with it. When another master holds it, says who.
   */
  acquire(me: MasterAddress, ttlMs: number): Promise<AcquireResult>;
  /** Extends the lease if `me` still holds it at `epoch`; false when it was lost. */
  renew(me: MasterAddress, epoch: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up at once (a clean stop), so a standby need not wait for it to expire. */
  release(me: MasterAddress, epoch: number): Promise<void>;
  /** Who leads now, or null when the lease is free or expired. */
  current(): Promise<LeaseState | null>;
  /**
   * From now on every write of this store is applied only while the lease's epoch is `epoch`;
   * a write after that fails with FencedError and changes nothing.
   */
  fence(epoch: number): void;
  /**
   * Records that `me` is up for the next `ttlMs` (by the store's clock) and returns the other
   * masters whose records have not expired. Standbys call it while they try for the lease and the
   * leader while it renews: a leader cut off from the store steps aside only when it knows of
   * another master that can take over.
   */
  heartbeat(me: MasterAddress, ttlMs: number): Promise<MasterAddress[]>;
}

/** A store that can hold a cluster's leadership (SQLite cannot: one master owns its file). */
export interface LeasedStore {
  readonly lease: LeaderLease;
}

export const hasLease = (store: object): store is LeasedStore => 'lease' in store && (store as Partial<LeasedStore>).lease !== undefined;

/** A write refused because another master leads now: this one must stop acting as leader. */
export class FencedError extends TitanError {
  constructor(readonly epoch: number) {
    super('NOT_LEADER', `this master lost the leadership (epoch ${epoch} was superseded): another master leads now`);
    this.name = 'FencedError';
  }
}
