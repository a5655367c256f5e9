/**
 * The embedded default Store: one SQLite file in WAL mode. Every statement is prepared once when
 * the store opens; a commit is one transaction. The work is synchronous (better-sqlite3); the
 * methods return promises only to share the Store interface with remote backends. A write that
 * fails because the disk is full is rolled back and refused with StoreUnavailableError, and the
 * store is unavailable until there is room again (sqlite-errors.ts).
 *
 * Each concern has its module: the write path (sqlite-commit.ts), the queries of runs and jobs
 * (sqlite-runs.ts), totals and run deletion (sqlite-totals.ts), the data bus and artifacts
 * (sqlite-data-bus.ts), schedules (sqlite-schedules.ts), the audit log and identities (sqlite-access.ts), durable
 * steps (sqlite-steps.ts); this class opens the file, guards the
 * writes and serves the Store interface from them.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { AgentRunSummary, AttemptRecord, GateDecision, JobRecord, RunRecord, RunStatus } from '../core/model.js';
import type { ScheduleRecord } from '../core/schedule.js';
import { SqliteTriggerStore } from './sqlite-triggers.js';
import { ForwardingStore } from './forwarding-store.js';
import { migrate } from './migrate.js';
import { SqliteAccess } from './sqlite-access.js';
import { SqliteBatchWriter } from './sqlite-commit.js';
import { SqliteDataBusStore } from './sqlite-data-bus.js';
import { type DiskGuardOptions, SqliteDiskGuard } from './sqlite-errors.js';
import { SqliteRunQueries } from './sqlite-runs.js';
import { SqliteScheduleStore } from './sqlite-schedules.js';
import { SqliteSteps } from './sqlite-steps.js';
import { SqliteNotifications } from './sqlite-notifications.js';
import { SqliteTotals } from './sqlite-totals.js';
import { isEmptyBatch, type JobTotals, type RunListing, type RunPosition, type Store, type StoreBatch, StoreOpenError } from './store.js';

export class SqliteStore extends ForwardingStore implements Store {
  protected readonly data: SqliteDataBusStore;
  private readonly batches: SqliteBatchWriter;
  private readonly runs: SqliteRunQueries;
  private readonly lifetime: SqliteTotals;
  private readonly schedules: SqliteScheduleStore;
  protected readonly triggers: SqliteTriggerStore;
  protected readonly access: SqliteAccess;
  protected readonly steps: SqliteSteps;
  protected readonly notifications: SqliteNotifications;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    /** Null for an in-memory database, which has no disk to fill. */
    private readonly guard: SqliteDiskGuard | null,
  ) {
    super();
    this.batches = new SqliteBatchWriter(db);
    this.runs = new SqliteRunQueries(db);
    this.lifetime = new SqliteTotals(db);
    this.data = new SqliteDataBusStore(db);
    this.schedules = new SqliteScheduleStore(db);
    this.triggers = new SqliteTriggerStore(db);
    this.access = new SqliteAccess(db);
    this.steps = new SqliteSteps(db);
    this.notifications = new SqliteNotifications(db);
  }

  /** Opens (creating if needed) the database at path and brings its schema up to date. */
  static open(path: string, disk: DiskGuardOptions = {}): SqliteStore {
    const inMemory = path === ':memory:';
    const file = inMemory ? path : resolve(path);
    let db: Database.Database | undefined;
    try {
      if (!inMemory) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      db = new Database(file);
      // First, so that the WAL switch and migrations wait for another process's lock.
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      // FULL: a commit is fsynced before it resolves, so an acknowledged batch survives power loss.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db);
      return new SqliteStore(db, file, inMemory ? null : new SqliteDiskGuard(dirname(file), disk));
    } catch (e) {
      if (db?.open) db.close();
      throw new StoreOpenError(`cannot open store database ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  async commit(batch: StoreBatch): Promise<void> {
    if (isEmptyBatch(batch)) return;
    // A batch refused for a full disk was rolled back whole, so committing it again applies it once.
    this.write(() => this.batches.commit(batch));
  }

  /** Why writes cannot go through now (the disk is full), or null. */
  unavailable(): Error | null {
    return this.guard?.unavailable() ?? null;
  }

  /** Runs a write, turning a full disk into StoreUnavailableError with its transaction ended. */
  private write<T>(fn: () => T): T {
    let result: T;
    try {
      result = fn();
    } catch (err) {
      throw this.guard ? this.guard.failed(err, () => this.rollback()) : err;
    }
    this.guard?.succeeded();
    return result;
  }

  /** The data bus's and the schedules' writes, guarded as every other write. */
  protected override async dataWrite<T>(fn: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      throw this.guard ? this.guard.failed(err, () => this.rollback()) : err;
    }
    this.guard?.succeeded();
    return result;
  }

  /** better-sqlite3 rolls a failed transaction back itself; this covers a rollback that failed too. */
  private rollback(): void {
    if (!this.db.inTransaction) return;
    try {
      this.db.exec('ROLLBACK');
    } catch {
      // SQLite ended it already
    }
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

  listAgentRunStages(agentRunId: string): Promise<RunListing[]> {
    return this.runs.listAgentRunStages(agentRunId);
  }

  listAgentRuns(limit: number): Promise<AgentRunSummary[]> {
    return this.runs.listAgentRuns(limit);
  }

  findJob(jobId: string, runId: string | null): Promise<JobRecord | null> {
    return this.runs.findJob(jobId, runId);
  }

  listDecisions(limit: number): Promise<GateDecision[]> {
    return this.runs.listDecisions(limit);
  }

  listAttempts(runId: string, jobId: string): Promise<AttemptRecord[]> {
    return this.runs.listAttempts(runId, jobId);
  }

  listRunAttempts(runId: string): Promise<AttemptRecord[]> {
    return this.runs.listRunAttempts(runId);
  }

  findRunByRequest(requestId: string): Promise<RunRecord | null> {
    return this.runs.findRunByRequest(requestId);
  }

  finishedRunsBefore(cutoff: number, limit: number): Promise<string[]> {
    return this.runs.finishedRunsBefore(cutoff, limit);
  }

  async totals(): Promise<JobTotals> {
    return this.lifetime.totals();
  }

  async deleteRun(runId: string): Promise<boolean> {
    return this.write(() => this.lifetime.deleteRun(runId));
  }

  async getMeta(key: string): Promise<string | null> {
    return this.lifetime.getMeta(key);
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.write(() => this.lifetime.setMeta(key, value));
  }

  // ---- schedules (sqlite-schedules.ts) ----

  putSchedule(record: ScheduleRecord): Promise<void> {
    return this.dataWrite(() => this.schedules.putSchedule(record));
  }

  getSchedule(name: string): Promise<ScheduleRecord | null> {
    return this.schedules.getSchedule(name);
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.schedules.listSchedules();
  }

  deleteSchedule(name: string): Promise<boolean> {
    return this.dataWrite(() => this.schedules.deleteSchedule(name));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
