/**
 * A Store on a PostgreSQL server, shared by the masters of a cluster: `titan master --store
 * postgres://user:password@host:5432/titan`. The semantics are the SQLite store's, checked by the
 * same conformance suite; it also holds the cluster's leader lease (postgres-lease.ts).
 *
 * - The schema is brought up to date at open, in one transaction under an advisory lock
 *   (postgres-migrate.ts); a schema newer than this build refuses to open.
 * - A commit is one transaction: all of the batch or none of it, durable when it resolves (as the
 *   server's synchronous_commit promises). A batch with an id is applied at most once.
 * - Once fenced, every write first checks the lease's epoch in the same transaction
 *   (postgres-connection.ts): a deposed leader's write is refused with FencedError.
 * - While the server cannot be reached, calls fail with StoreUnavailableError.
 * - Artifact files and job logs stay on the master's disk; only artifact metadata is here.
 */
import type { AgentRunSummary, AttemptRecord, GateDecision, JobRecord, RunRecord, RunStatus } from '../core/model.js';
import type { ScheduleRecord } from '../core/schedule.js';
import { PostgresTriggers } from './postgres-triggers.js';
import { ForwardingStore } from './forwarding-store.js';
import type { LeasedStore } from './lease.js';
import { PostgresAccess } from './postgres-access.js';
import { PostgresConnection, type PostgresStoreOptions } from './postgres-connection.js';
import { PostgresDataBusStore } from './postgres-data-bus.js';
import { PostgresLease } from './postgres-lease.js';
import { migratePostgres } from './postgres-migrate.js';
import { PostgresRuns } from './postgres-runs.js';
import { PostgresSchedules } from './postgres-schedules.js';
import { PostgresSteps } from './postgres-steps.js';
import { PostgresNotifications } from './postgres-notifications.js';
import { parsePostgresUrl, redact } from './postgres-url.js';
import { type JobTotals, type RunListing, type RunPosition, type Store, type StoreBatch, StoreOpenError, StoreUnavailableError } from './store.js';

export type { PostgresStoreOptions } from './postgres-connection.js';

export class PostgresStore extends ForwardingStore implements Store, LeasedStore {
  readonly lease: PostgresLease;
  private readonly runs: PostgresRuns;
  protected readonly data: PostgresDataBusStore;
  private readonly schedules: PostgresSchedules;
  protected readonly triggers: PostgresTriggers;
  protected readonly access: PostgresAccess;
  protected readonly steps: PostgresSteps;
  protected readonly notifications: PostgresNotifications;

  private constructor(private readonly c: PostgresConnection) {
    super();
    this.lease = new PostgresLease(c);
    this.runs = new PostgresRuns(c);
    this.data = new PostgresDataBusStore(c);
    this.schedules = new PostgresSchedules(c);
    this.triggers = new PostgresTriggers(c);
    this.access = new PostgresAccess(c);
    this.steps = new PostgresSteps(c);
    this.notifications = new PostgresNotifications(c);
  }

  /**
   * Connects to the server at `url` and brings the schema up to date. Fails with
   * StoreUnavailableError when the server cannot be reached (a master does not start on a store
   * it cannot read), StoreOpenError when it can but the database cannot be used.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const target = parsePostgresUrl(url);
    const c = new PostgresConnection(target, options);
    try {
      await c.check();
      await c.write((sql) => migratePostgres(sql));
      return new PostgresStore(c);
    } catch (err) {
      await c.close().catch(() => undefined);
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreOpenError(`cannot open the PostgreSQL store at ${target.display}: ${redact((err as Error).message, target)}`, { cause: err });
    }
  }

  /** Where the store is, without its password (for logs). */
  get display(): string {
    return this.c.target.display;
  }

  unavailable(): Error | null {
    return this.c.unavailable();
  }

  commit(batch: StoreBatch): Promise<void> {
    return this.runs.commit(batch);
  }

  loadActiveRuns(): Promise<{ run: RunRecord; jobs: JobRecord[] }[]> {
    return this.runs.loadActiveRuns();
  }

  getRun(runId: string): Promise<RunRecord | null> {
    return this.runs.getRun(runId);
  }

  getRunJobs(runId: string): Promise<JobRecord[]> {
    return this.runs.getRunJobs(runId);
  }

  listRuns(options: { limit: number; status?: RunStatus; tag?: string; after?: RunPosition }): Promise<RunListing[]> {
    return this.runs.listRuns(options);
  }

  findRunByRequest(requestId: string): Promise<RunRecord | null> {
    return this.runs.findRunByRequest(requestId);
  }

  listAgentRunStages(agentRunId: string): Promise<RunListing[]> {
    return this.runs.listAgentRunStages(agentRunId);
  }

  listAgentRuns(limit: number): Promise<AgentRunSummary[]> {
    return this.runs.listAgentRuns(limit);
  }

  findJob(jobId: string, runId: string | null): Promise<JobRecord | null> {
    return this.runs.findJob(jobId, runId);
  }

  listAttempts(runId: string, jobId: string): Promise<AttemptRecord[]> {
    return this.runs.listAttempts(runId, jobId);
  }

  listRunAttempts(runId: string): Promise<AttemptRecord[]> {
    return this.runs.listRunAttempts(runId);
  }

  listDecisions(limit: number): Promise<GateDecision[]> {
    return this.runs.listDecisions(limit);
  }

  totals(): Promise<JobTotals> {
    return this.runs.totals();
  }

  finishedRunsBefore(cutoff: number, limit: number): Promise<string[]> {
    return this.runs.finishedRunsBefore(cutoff, limit);
  }

  deleteRun(runId: string): Promise<boolean> {
    return this.runs.deleteRun(runId);
  }

  // ---- meta: one row per key ----

  async getMeta(key: string): Promise<string | null> {
    const [row] = await this.c.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
    return row?.value ?? null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.c.write((sql) => sql.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]));
  }

  // ---- schedules (postgres-schedules.ts) ----

  putSchedule(record: ScheduleRecord): Promise<void> {
    return this.schedules.putSchedule(record);
  }

  getSchedule(name: string): Promise<ScheduleRecord | null> {
    return this.schedules.getSchedule(name);
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.schedules.listSchedules();
  }

  deleteSchedule(name: string): Promise<boolean> {
    return this.schedules.deleteSchedule(name);
  }

  async close(): Promise<void> {
    await this.c.close();
  }
}
