/**
 * `client.limits`: the cluster's flow limits on keys (concurrency, rate, fairness weight), set
 * live, kept by the master across restarts, and what each key holds and keeps waiting.
 */
import type { ClusterLimit } from '../core/flow-spec.js';
import type { FlowKeyView } from '../protocol/flow-methods.js';
import type { ParamsOf } from '../protocol/methods.js';
import type { Transport } from './connection.js';

/** A cluster limit as a caller writes it (`rate.per` defaults to `second`). */
export type ClusterLimitInput = ParamsOf<'limits.set'>;

export class LimitClient {
  constructor(private readonly transport: Transport) {}

  /** Every key with a cluster limit, holders or waiters. */
  async list(): Promise<FlowKeyView[]> {
    return (await this.transport.call('limits.list', {})).keys;
  }

  /** Sets the limit on `limit.key`, replacing the one it had; it applies at once. Returns every limit after the change. */
  async set(limit: ClusterLimitInput): Promise<ClusterLimit[]> {
    return (await this.transport.call('limits.set', limit)).limits;
  }

  /** Removes the limit on `key` (what jobs declare applies again); `removed` is false when there was none. */
  remove(key: string): Promise<{ removed: boolean; limits: ClusterLimit[] }> {
    return this.transport.call('limits.remove', { key });
  }
}
