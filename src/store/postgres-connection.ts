/**
 * The connection pool of the PostgreSQL store, and the three ways its modules use it: a plain
 * query, a read-only snapshot, and a write transaction. A write is fenced once the master has
 * taken the lease: it first reads the lease's epoch FOR SHARE, so a takeover (which updates that
 * row) and the write serialize, and a write under a superseded epoch is rolled back with
 * FencedError. A server out of reach (refused or reset connections, an administrator's shutdown,
 * SQLSTATE classes 08 and 57P) fails the call with StoreUnavailableError naming the server, and
 * `unavailable()` says so until a probe gets through again; every other SQL error is a bug and is
 * thrown as it is.
 */
import pg from 'pg';
import { FencedError } from './lease.js';
import { type PostgresTarget, redact } from './postgres-url.js';
import { StoreUnavailableError } from './store.js';

export interface PostgresStoreOptions {
  /** Where connection changes go (the master's log). Default: nowhere. */
  log?: (line: string) => void;
  /** How long a query may wait for its reply before it fails (default 10 s). */
  queryTimeoutMs?: number;
  /** How long a new connection may take (default 5 s). */
  connectTimeoutMs?: number;
}

/** What every module queries through: a pool or one client inside a transaction. */
export type Sql = Pick<pg.PoolClient, 'query'>;

const INT8_OID = 20;
/** BIGINT (epoch milliseconds, counts) as numbers: every value we store is a safe integer. */
const parseInt8 = (text: string): number => Number(text);
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** Node's codes for a connection that failed or broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ENOENT']);
/** SQLSTATEs meaning "not now": connection exceptions, shutdowns, too many connections, deadlocks. */
const TRANSIENT_STATES = /^(08...|57P0[1-4]|53300|40001|40P01)$/;
/** node-postgres's own messages for a connection that is gone or never came. */
const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Client was closed|Connection closed|connection error/i;
/** While unavailable, how often a probe checks whether the server is back. */
const PROBE_MS = 1_000;

/** Whether the error (or one it wraps) says the server is out of reach or refuses for now. */
export function isTransient(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || TRANSIENT_STATES.test(code))) return true;
    if (CONNECTION_MESSAGES.test(e.message)) return true;
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.some(isTransient)) return true;
    e = e.cause;
  }
  return false;
}

const messageOf = (err: unknown): string => {
  const e = err as { message?: unknown; code?: unknown; errors?: unknown };
  if (typeof e?.message === 'string' && e.message !== '') return e.message;
  // Node's AggregateError (every address refused) has an empty message.
  if (Array.isArray(e?.errors) && e.errors.length > 0) return messageOf(e.errors[0]);
  return typeof e?.code === 'string' ? e.code : String(err);
};

export class PostgresConnection {
  readonly pool: pg.Pool;
  private readonly log: (line: string) => void;
  private failure: StoreUnavailableError | null = null;
  private probing = false;
  private probedAt = 0;
  private closed = false;
  /** The epoch every write must still find in the lease, once fenced. */
  private fencedEpoch: number | null = null;

  constructor(
    readonly target: PostgresTarget,
    options: PostgresStoreOptions = {},
  ) {
    this.log = options.log ?? (() => undefined);
    this.pool = new pg.Pool({
      connectionString: target.url,
      max: 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      query_timeout: options.queryTimeoutMs ?? 10_000,
      keepAlive: true,
      application_name: 'titan-master',
      types: TYPES,
    });
    // An idle client whose server went away: noted, and the next call reconnects.
    this.pool.on('error', (err) => this.noteFailure(err));
  }

  /** Connects once (the first connection must succeed) so that a bad address fails at open. */
  async check(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (err) {
      if (isTransient(err)) throw new StoreUnavailableError(`cannot reach the PostgreSQL store at ${this.target.display}: ${this.describe(err)}`, { cause: err });
      throw err;
    }
  }

  fence(epoch: number): void {
    this.fencedEpoch = epoch;
  }

  /** Why calls fail right now, or null; while failing, a probe looks every second whether it is back. */
  unavailable(): StoreUnavailableError | null {
    if (this.failure !== null && !this.probing && Date.now() - this.probedAt >= PROBE_MS) {
      this.probing = true;
      this.probedAt = Date.now();
      this.pool
        .query('SELECT 1')
        .then(() => this.noteSuccess())
        .catch((err: unknown) => this.noteFailure(err))
        .finally(() => {
          this.probing = false;
        });
    }
    return this.failure;
  }

  /** One statement (or several, each on its own) on whichever pooled connection is free. */
  async query<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
    return this.call(async () => (await this.pool.query<R>(text, params)).rows);
  }

  /** Reads that must see one snapshot. */
  snapshot<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', false, fn);
  }

  /** A write transaction: all of `fn` or nothing, fenced once the lease is held. */
  write<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN', true, fn);
  }

  private transaction<T>(begin: string, fenced: boolean, fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.call(async () => {
      const client = await this.pool.connect();
      let broken: unknown;
      try {
        await client.query(begin);
        if (fenced && this.fencedEpoch !== null) await this.checkFence(client, this.fencedEpoch);
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        if (isTransient(err)) broken = err;
        else {
          try {
            await client.query('ROLLBACK');
          } catch (rollbackErr) {
            broken = rollbackErr;
          }
        }
        throw err;
      } finally {
        // A connection that failed mid-transaction is discarded, never reused.
        client.release(broken instanceof Error ? broken : broken === undefined ? undefined : true);
      }
    });
  }

  private async checkFence(client: Sql, epoch: number): Promise<void> {
    const rows = (await client.query<{ epoch: number }>('SELECT epoch FROM leader_lease WHERE id = 1 FOR SHARE')).rows;
    if (rows[0]?.epoch !== epoch) throw new FencedError(epoch);
  }

  /** Runs the call, turning a lost server into StoreUnavailableError. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(`the PostgreSQL store at ${this.target.display} is closed`);
    try {
      const result = await fn();
      this.noteSuccess();
      return result;
    } catch (err) {
      if (!isTransient(err)) throw err;
      throw this.noteFailure(err);
    }
  }

  private noteFailure(err: unknown): StoreUnavailableError {
    const unavailable = new StoreUnavailableError(`the PostgreSQL store at ${this.target.display} is unreachable (${this.describe(err)})`, { cause: err });
    if (this.failure === null && !this.closed) this.log(`lost the connection to the PostgreSQL store at ${this.target.display}; calls fail with UNAVAILABLE until it is back`);
    this.failure = unavailable;
    this.probedAt = Date.now();
    return unavailable;
  }

  private noteSuccess(): void {
    if (this.failure === null) return;
    this.failure = null;
    this.log(`reconnected to the PostgreSQL store at ${this.target.display}`);
  }

  private describe(err: unknown): string {
    return redact(messageOf(err), this.target);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
