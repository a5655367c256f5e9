/** `client.store` (Titan's name): the data bus's keys: strings, sets and waiting for a change (docs/protocol.md). */
import type { KvEntry, KvKeyInfo } from '../core/data.js';
import type { KvWaitResult } from '../protocol/data-bus-methods.js';
import type { Transport } from './connection.js';

export class StoreClient {
  constructor(private readonly transport: Transport) {}

  /** A string key's value, or null when it is absent. */
  async get(key: string): Promise<string | null> {
    return (await this.transport.call('kv.get', { key })).value;
  }

  /** The value with its version (0 when absent), to wait for the change after it. */
  getVersioned(key: string): Promise<KvEntry> {
    return this.transport.call('kv.get', { key });
  }

  /** Sets a string value, optionally expiring after `ttlMs`; resolves with its new version once durable. */
  async set(key: string, value: string, options: { ttlMs?: number } = {}): Promise<number> {
    return (await this.transport.call('kv.set', { key, value, ...options })).version;
  }

  /** True when the key existed. */
  async del(key: string): Promise<boolean> {
    return (await this.transport.call('kv.del', { key })).deleted === 1;
  }

  /** Adds `by` to an integer value (absent counts as 0) and returns the result. */
  async incr(key: string, by = 1): Promise<number> {
    return (await this.transport.call('kv.incr', { key, by })).value;
  }

  /** Sets `value` (null deletes) only if the key holds `expected` (null: is absent); true when it did. */
  async cas(key: string, expected: string | null, value: string | null, options: { ttlMs?: number } = {}): Promise<boolean> {
    return (await this.transport.call('kv.cas', { key, expected, value, ...options })).swapped;
  }

  /** Returns how many of the members were not in the set yet. */
  async sadd(key: string, ...members: string[]): Promise<number> {
    return (await this.transport.call('kv.sadd', { key, members })).added;
  }

  /** Returns how many of the members were in the set. */
  async srem(key: string, ...members: string[]): Promise<number> {
    return (await this.transport.call('kv.srem', { key, members })).removed;
  }

  async smembers(key: string): Promise<string[]> {
    return (await this.transport.call('kv.smembers', { key })).members;
  }

  async keys(prefix = '', options: { limit?: number } = {}): Promise<KvKeyInfo[]> {
    return (await this.transport.call('kv.keys', { prefix, ...options })).keys;
  }

  /**
   * Resolves at the key's next change, or at once if its version is no longer `sinceVersion`;
   * `changed: false` when `timeoutMs` (default 60 s) passed first. The master wakes the waiter.
   */
  wait(key: string, options: { sinceVersion?: number; timeoutMs?: number } = {}): Promise<KvWaitResult> {
    return this.transport.call('kv.wait', { key, timeoutMs: options.timeoutMs ?? 60_000, ...(options.sinceVersion !== undefined && { sinceVersion: options.sinceVersion }) });
  }
}
