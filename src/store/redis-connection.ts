/**
 * One ioredis connection for the Redis store, set up so that a lost server fails calls promptly
 * instead of queueing them: no offline queue, nothing resent after a reconnect, a timeout on every
 * command. ioredis reconnects by itself; meanwhile every call fails with StoreUnavailableError
 * naming the server, and `unavailable()` says why. The scripts are loaded by SHA and re-sent in
 * full when the server has forgotten them (after its restart).
 */
import { Redis } from 'ioredis';
import { StoreUnavailableError } from './store.js';
import type { RedisTarget } from './redis-url.js';

export interface RedisStoreOptions {
  /** Where warnings and connection changes go (the master's log). Default: nowhere. */
  log?: (line: string) => void;
  /** How long a command may wait for its reply before it fails (default 10 s). */
  commandTimeoutMs?: number;
  /** How long the first connection may take (default 5 s). */
  connectTimeoutMs?: number;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Server replies that mean "not now" rather than "never": the call may be retried as it is. */
const TRANSIENT_REPLY = /^(LOADING|MISCONF|OOM|READONLY|BUSY|MASTERDOWN|NOREPLICAS|TRYAGAIN|CLUSTERDOWN)\b/;
/** Client-side failures of the connection itself. */
const CONNECTION_FAILURE = /Connection is closed|Stream isn't writeable|Command timed out|Command aborted|max retries|ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND|socket/i;

export class RedisConnection {
  readonly redis: Redis;
  private readonly log: (line: string) => void;
  private lastError: string | null = null;
  private wasReady = false;
  private lost = false;
  private closed = false;

  private constructor(
    readonly target: RedisTarget,
    options: RedisStoreOptions,
    scripts: Record<string, string>,
  ) {
    this.log = options.log ?? (() => undefined);
    this.redis = new Redis({
      host: target.host,
      port: target.port,
      db: target.db,
      ...(target.username !== undefined && { username: target.username }),
      ...(target.password !== undefined && { password: target.password }),
      ...(target.tls && { tls: { servername: target.host } }),
      // RESP2: what every Redis-compatible server speaks (KeyDB, Valkey, older Redis).
      protocol: 2,
      lazyConnect: true,
      // Fail calls at once while disconnected; never replay a command whose fate is unknown.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 10_000,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      // Reconnect forever, at most every 2 s.
      retryStrategy: (times: number) => Math.min(100 * times, 2_000),
      connectionName: 'titan-master',
    });
    for (const [name, lua] of Object.entries(scripts)) this.redis.defineCommand(name, { numberOfKeys: 0, lua });
    this.redis.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    this.redis.on('close', () => {
      if (this.closed || !this.wasReady || this.lost) return;
      this.lost = true;
      this.log(`lost the connection to the Redis store at ${target.display}; calls fail with UNAVAILABLE until it is back`);
    });
    this.redis.on('ready', () => {
      this.wasReady = true;
      this.lastError = null;
      if (!this.lost) return;
      this.lost = false;
      this.log(`reconnected to the Redis store at ${target.display}`);
    });
  }

  /** Connects (the first connection must succeed) and returns the ready connection. */
  static async open(target: RedisTarget, options: RedisStoreOptions, scripts: Record<string, string>): Promise<RedisConnection> {
    const c = new RedisConnection(target, options, scripts);
    try {
      await c.redis.connect();
    } catch (err) {
      c.redis.disconnect();
      throw new StoreUnavailableError(`cannot reach the Redis store at ${target.display}: ${describe(err, c.lastError)}`, { cause: err });
    }
    return c;
  }

  /** Why calls fail right now, or null while connected. */
  unavailable(): StoreUnavailableError | null {
    if (this.redis.status === 'ready') return null;
    return new StoreUnavailableError(`the Redis store at ${this.target.display} is unreachable (${this.lastError ?? this.redis.status})`);
  }

  /** Runs a script defined at construction. */
  script(name: string, args: (string | number)[]): Promise<unknown> {
    const fn = (this.redis as unknown as Record<string, ScriptFn>)[name];
    if (fn === undefined) throw new Error(`no Redis script ${name}`);
    return this.call(() => fn.apply(this.redis, args));
  }

  /** Runs one or more commands, turning connection failures into StoreUnavailableError. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(`the Redis store at ${this.target.display} is closed`);
    try {
      return await fn();
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** A connection problem or a transient refusal becomes StoreUnavailableError; anything else stays as it is. */
  translate(err: unknown): Error {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof StoreUnavailableError) return err;
    if (TRANSIENT_REPLY.test(message)) return new StoreUnavailableError(`the Redis store at ${this.target.display} refuses writes for now: ${message}`, { cause: err });
    if (this.redis.status !== 'ready' || CONNECTION_FAILURE.test(message)) {
      return new StoreUnavailableError(`the Redis store at ${this.target.display} is unreachable (${describe(err, this.lastError)})`, { cause: err });
    }
    return err instanceof Error ? err : new Error(message);
  }

  /**
   * What the server promises about durability, as warnings: a committed batch survives a Redis
   * restart only with `appendonly yes`, and a crash of its host only with `appendfsync always`
   * (SQLite's guarantee); an eviction policy could drop Titan's state under memory pressure.
   */
  async durabilityWarnings(): Promise<string[]> {
    const config = async (name: string): Promise<string | null> => {
      const reply = (await this.call(() => this.redis.config('GET', name))) as unknown;
      return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : null;
    };
    const where = `the Redis store at ${this.target.display}`;
    let appendonly: string | null;
    let appendfsync: string | null;
    let policy: string | null;
    let maxmemory: string | null;
    try {
      [appendonly, appendfsync, policy, maxmemory] = [await config('appendonly'), await config('appendfsync'), await config('maxmemory-policy'), await config('maxmemory')];
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      // CONFIG is often renamed or disabled on managed servers.
      return [`cannot read the configuration of ${where} (${(err as Error).message}); make sure it runs with appendonly yes and appendfsync always, or acknowledged work can be lost when it restarts`];
    }
    const warnings: string[] = [];
    if (appendonly !== null && appendonly !== 'yes') {
      warnings.push(`${where} runs with appendonly ${appendonly}: everything acknowledged since its last snapshot is lost if it restarts; set appendonly yes and appendfsync always for the durability of the embedded store`);
    } else if (appendfsync !== null && appendfsync !== 'always') {
      warnings.push(`${where} runs with appendfsync ${appendfsync}: ${appendfsync === 'everysec' ? 'up to a second of' : 'the'} acknowledged work not yet synced is lost if its host crashes; set appendfsync always for the durability of the embedded store`);
    }
    if (policy !== null && policy !== 'noeviction' && maxmemory !== null && maxmemory !== '0') {
      warnings.push(`${where} has maxmemory ${maxmemory} with maxmemory-policy ${policy}: it may evict Titan's state; use maxmemory-policy noeviction`);
    }
    return warnings;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.redis.status === 'ready') {
      try {
        await Promise.race([this.redis.quit(), new Promise((r) => setTimeout(r, 1_000).unref())]);
      } catch {
        // the server went away first
      }
    }
    this.redis.disconnect();
  }
}

function describe(err: unknown, last: string | null): string {
  const message = err instanceof Error ? err.message : String(err);
  // ioredis says "Connection is closed" or "Stream isn't writeable…" while disconnected; the
  // socket's own error says why.
  if (last !== null && /Connection is closed|Stream isn't writeable/.test(message)) return last;
  return last !== null && !message.includes(last) ? `${last}; ${message}` : message;
}
