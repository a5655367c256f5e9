/**
 * The embedded default Store: one SQLite file in WAL mode. Every statement is prepared once in
 * the constructor; a commit is one transaction. The work is synchronous (better-sqlite3); the
 * methods return promises only to share the Store interface with remote backends. A write that
 * fails because the disk is full is rolled back and refused with StoreUnavailableError, and the
 * store is unavailable until there is room again (sqlite-errors.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { AgentRunSummary, AttemptRecord, GateDecision, JobRecord, JobStatus, RunRecord, RunStatus } from '../core/model.js';
import type { ArtifactInfo, KvKeyInfo, KvOp, KvOutcome } from '../core/data.js';
import type { ScheduleRecord } from '../core/schedule.js';
import type { KvStored } from './data-bus-store.js';
import { TitanError } from '../core/errors.js';
import { migrate } from './migrate.js';
import { SqliteDataBusStore } from './sqlite-data-bus.js';
import { type DiskGuardOptions, SqliteDiskGuard } from './sqlite-errors.js';
import {
  ATTEMPT_COLUMNS,
  type AttemptParams,
  attemptToParams,
  type AttemptRow,
  type DecisionParams,
  type DecisionRow,
  JOB_COLUMNS,
  type JobInsertParams,
  type JobRow,
  jobToInsertParams,
  jobToUpdateParams,
  type JobUpdateParams,
  RUN_COLUMNS,
  type RunCountRow,
  type RunParams,
  type RunRow,
  rowToAttempt,
  rowToJob,
  rowToRun,
  runToParams,
  type TotalsRow,
} from './sqlite-rows.js';
import { SqliteScheduleStore } from './sqlite-schedules.js';
import { type JobTotals, type RunListing, type RunPosition, type Store, type StoreBatch, StoreOpenError } from './store.js';

/** Meta key of the totals of deleted runs (JSON of JobTotals). */
const DELETED_TOTALS = 'deleted_totals';

/** Adds context to a failed write so a rolled-back batch names the record that broke it. */
function writeError(what: string, e: unknown): Error {
  return new Error(`store commit failed at ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

// ---- statements ----

function prepareStatements(db: Database.Database) {
  return {
    // created_at is immutable: jobs.run_created_at holds a copy of it.
    upsertRun: db.prepare<RunParams>(
      `INSERT INTO runs (${RUN_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET
         name = excluded.name, agent_run_id = excluded.agent_run_id,
         status = excluded.status, finished_at = excluded.finished_at, tags = excluded.tags`,
    ),
    insertJob: db.prepare<JobInsertParams>(
      `INSERT INTO jobs (${JOB_COLUMNS}, run_created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
               (SELECT created_at FROM runs WHERE run_id = ?))`,
    ),
    updateJob: db.prepare<JobUpdateParams>(
      `UPDATE jobs SET status = ?, attempt = ?, not_before = ?, worker_id = ?,
         exit_code = ?, error = ?, started_at = ?, finished_at = ?, service = ?, retry_base = ?, lost = ?
       WHERE run_id = ? AND job_id = ?`,
    ),
    upsertAttempt: db.prepare<AttemptParams>(
      `INSERT INTO attempts (${ATTEMPT_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, job_id, attempt) DO UPDATE SET
         worker_id = excluded.worker_id, started_at = excluded.started_at, finished_at = excluded.finished_at,
         outcome = excluded.outcome, exit_code = excluded.exit_code, error = excluded.error`,
    ),
    insertDecision: db.prepare<DecisionParams>(
      `INSERT INTO gate_decisions (run_id, job_id, approved, decided_by, comment, at, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    listDecisions: db.prepare<[number], DecisionRow>(
      `SELECT run_id, job_id, approved, decided_by, comment, at, reason FROM gate_decisions ORDER BY seq DESC LIMIT ?`,
    ),
    getRun: db.prepare<[string], RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = ?`),
    getRunJobs: db.prepare<[string], JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE run_id = ? ORDER BY seq`),
    activeRuns: db.prepare<[], RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE status = 'RUNNING' ORDER BY created_at, run_id`,
    ),
    activeJobs: db.prepare<[], JobRow>(
      `SELECT ${JOB_COLUMNS.split(', ').map((c) => `j.${c}`).join(', ')}
       FROM runs AS r JOIN jobs AS j ON j.run_id = r.run_id
       WHERE r.status = 'RUNNING' ORDER BY j.seq`,
    ),
    // One query for the page of runs and their per-status job counts.
    listAgentRunStages: db.prepare<{ limit: number; agent: string }, RunCountRow>(listRunsSql('WHERE agent_run_id = @agent')),
    listAgentRuns: db.prepare<[number], AgentRunRow>(
      `SELECT agent_run_id, COUNT(*) AS runs, SUM(status = 'RUNNING') AS active, MIN(created_at) AS first_at, MAX(created_at) AS last_at
       FROM runs WHERE agent_run_id IS NOT NULL GROUP BY agent_run_id ORDER BY last_at DESC LIMIT ?`,
    ),
    findJobInRun: db.prepare<[string, string], JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE run_id = ? AND job_id = ?`),
    findLatestJob: db.prepare<[string], JobRow>(
      `SELECT ${JOB_COLUMNS} FROM jobs WHERE job_id = ? ORDER BY run_created_at DESC, run_id DESC LIMIT 1`,
    ),
    listAttempts: db.prepare<[string, string], AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE run_id = ? AND job_id = ? ORDER BY attempt`,
    ),
    totals: db.prepare<[], TotalsRow>(
      // One pass over jobs; no status index, which would cost a write on every transition.
      `SELECT COUNT(*) AS submitted,
         COALESCE(SUM(status = 'COMPLETED'), 0) AS completed,
         COALESCE(SUM(status = 'DEAD'), 0) AS dead,
         (SELECT COUNT(*) FROM attempts) AS attempts,
         (SELECT COUNT(*) FROM attempts WHERE attempt > 1) AS retried
       FROM jobs`,
    ),
    findRunByRequest: db.prepare<[string], RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE request_id = ?`),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    finishedRunsBefore: db.prepare<[number, number], { run_id: string }>(
      "SELECT run_id FROM runs WHERE status <> 'RUNNING' AND finished_at < ? ORDER BY finished_at, run_id LIMIT ?",
    ),
    runStatus: db.prepare<[string], { status: string }>('SELECT status FROM runs WHERE run_id = ?'),
    runTotals: db.prepare<{ run: string }, TotalsRow>(
      `SELECT COUNT(*) AS submitted, COALESCE(SUM(status = 'COMPLETED'), 0) AS completed, COALESCE(SUM(status = 'DEAD'), 0) AS dead,
         (SELECT COUNT(*) FROM attempts WHERE run_id = @run) AS attempts,
         (SELECT COUNT(*) FROM attempts WHERE run_id = @run AND attempt > 1) AS retried
       FROM jobs WHERE run_id = @run`,
    ),
    deleteRunDecisions: db.prepare<[string]>('DELETE FROM gate_decisions WHERE run_id = ?'),
    deleteRunAttempts: db.prepare<[string]>('DELETE FROM attempts WHERE run_id = ?'),
    deleteRunJobs: db.prepare<[string]>('DELETE FROM jobs WHERE run_id = ?'),
    deleteRunRow: db.prepare<[string]>('DELETE FROM runs WHERE run_id = ?'),
  };
}

const NO_TOTALS: JobTotals = { submitted: 0, completed: 0, dead: 0, attempts: 0, retried: 0 };

/** Field-wise sum; fields missing from `b` (totals stored before they existed) count 0. */
function addTotals(a: JobTotals, b: Partial<JobTotals>): JobTotals {
  return { submitted: a.submitted + (b.submitted ?? 0), completed: a.completed + (b.completed ?? 0), dead: a.dead + (b.dead ?? 0), attempts: a.attempts + (b.attempts ?? 0), retried: a.retried + (b.retried ?? 0) };
}

/** Folds rows of (run, job status, count) into one listing per run, keeping their order. */
function groupCounts(rows: readonly RunCountRow[]): RunListing[] {
  const listings: RunListing[] = [];
  let current: RunListing | undefined;
  for (const row of rows) {
    if (current?.run.runId !== row.run_id) {
      current = { run: rowToRun(row), counts: {}, total: 0 };
      listings.push(current);
    }
    if (row.job_status !== null) {
      current.counts[row.job_status as JobStatus] = row.n;
      current.total += row.n;
    }
  }
  return listings;
}

interface AgentRunRow {
  agent_run_id: string;
  runs: number;
  active: number;
  first_at: number;
  last_at: number;
}

/** The filters of a run listing, each a condition on `runs` with its named parameters. */
const RUN_FILTERS = {
  status: 'status = @status',
  tag: 'EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE json_each.value = @tag)',
  after: '(created_at, run_id) < (@afterAt, @afterId)',
} as const;
type RunFilter = keyof typeof RUN_FILTERS;
type RunListParams = { limit: number; status?: string; tag?: string; afterAt?: number; afterId?: string };

function listRunsSql(where: string): string {
  return `SELECT r.run_id, r.name, r.agent_run_id, r.status, r.created_at, r.finished_at, r.tags, r.request_id, r.started_by,
            j.status AS job_status, COUNT(j.run_id) AS n
          FROM (SELECT ${RUN_COLUMNS} FROM runs ${where} ORDER BY created_at DESC, run_id DESC LIMIT @limit) AS r
          LEFT JOIN jobs AS j ON j.run_id = r.run_id
          GROUP BY r.run_id, j.status
          ORDER BY r.created_at DESC, r.run_id DESC`;
}

type Statements = ReturnType<typeof prepareStatements>;

export class SqliteStore implements Store {
  private readonly stmt: Statements;
  private readonly commitTx: (batch: StoreBatch) => void;
  private readonly loadActiveTx: () => { run: RunRecord; jobs: JobRecord[] }[];
  private readonly deleteRunTx: (runId: string) => boolean;
  private readonly data: SqliteDataBusStore;
  private readonly schedules: SqliteScheduleStore;
  /** A listing statement per combination of filters, prepared on first use. */
  private readonly listings = new Map<string, Database.Statement<RunListParams, RunCountRow>>();

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    /** Null for an in-memory database, which has no disk to fill. */
    private readonly guard: SqliteDiskGuard | null,
  ) {
    this.stmt = prepareStatements(db);
    // IMMEDIATE: take the write lock up front rather than upgrading mid-transaction.
    this.commitTx = db.transaction((batch: StoreBatch) => this.applyBatch(batch)).immediate;
    // Both reads in one transaction so they see the same snapshot.
    this.loadActiveTx = db.transaction(() => this.readActiveRuns());
    this.deleteRunTx = db.transaction((runId: string) => this.removeRun(runId)).immediate;
    this.data = new SqliteDataBusStore(db);
    this.schedules = new SqliteScheduleStore(db);
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

  private applyBatch(batch: StoreBatch): void {
    const s = this.stmt;
    for (const r of batch.runs) {
      try {
        s.upsertRun.run(...runToParams(r));
      } catch (e) {
        throw writeError(`run ${r.runId}`, e);
      }
    }
    for (const j of batch.newJobs) {
      try {
        s.insertJob.run(...jobToInsertParams(j));
      } catch (e) {
        // run_created_at is copied from the run by a subquery, so a missing run surfaces as NOT NULL.
        const noRun = e instanceof Error && e.message.includes('jobs.run_created_at');
        throw writeError(`new job ${j.runId}/${j.spec.id}`, noRun ? new Error(`no such run ${j.runId}`) : e);
      }
    }
    for (const j of batch.jobs) {
      let changes: number;
      try {
        changes = s.updateJob.run(...jobToUpdateParams(j)).changes;
      } catch (e) {
        throw writeError(`job ${j.runId}/${j.spec.id}`, e);
      }
      // Updating a job that was never inserted would silently lose its state.
      if (changes === 0) throw writeError(`job ${j.runId}/${j.spec.id}`, new Error('no such job'));
    }
    for (const a of batch.attempts) {
      try {
        s.upsertAttempt.run(...attemptToParams(a));
      } catch (e) {
        throw writeError(`attempt ${a.runId}/${a.jobId}#${a.attempt}`, e);
      }
    }
    for (const d of batch.decisions) {
      try {
        s.insertDecision.run(d.runId, d.jobId, d.approved ? 1 : 0, d.by, d.comment, d.at, d.reason);
      } catch (e) {
        throw writeError(`decision on ${d.runId}/${d.jobId}`, e);
      }
    }
  }

  async commit(batch: StoreBatch): Promise<void> {
    // An empty batch would still cost an fsync.
    if (batch.runs.length + batch.newJobs.length + batch.jobs.length + batch.attempts.length + batch.decisions.length === 0) return;
    // A batch refused for a full disk was rolled back whole, so committing it again applies it once.
    this.write(() => this.commitTx(batch));
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

  private async writeAsync<T>(fn: () => Promise<T>): Promise<T> {
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

  private readActiveRuns(): { run: RunRecord; jobs: JobRecord[] }[] {
    const byRun = new Map<string, { run: RunRecord; jobs: JobRecord[] }>();
    for (const row of this.stmt.activeRuns.all()) byRun.set(row.run_id, { run: rowToRun(row), jobs: [] });
    for (const row of this.stmt.activeJobs.all()) byRun.get(row.run_id)?.jobs.push(rowToJob(row));
    return [...byRun.values()];
  }

  async loadActiveRuns(): Promise<{ run: RunRecord; jobs: JobRecord[] }[]> {
    return this.loadActiveTx();
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const row = this.stmt.getRun.get(runId);
    return row === undefined ? null : rowToRun(row);
  }

  async getRunJobs(runId: string): Promise<JobRecord[]> {
    return this.stmt.getRunJobs.all(runId).map(rowToJob);
  }

  async listRuns(options: { limit: number; status?: RunStatus; tag?: string; after?: RunPosition }): Promise<RunListing[]> {
    if (!(options.limit > 0)) return [];
    // SQLite rejects a non-integer LIMIT; -1 means no limit.
    const limit = Number.isFinite(options.limit) ? Math.floor(options.limit) : -1;
    const { status, tag, after } = options;
    const filters = (['status', 'tag', 'after'] as const).filter((f) => options[f] !== undefined);
    const params: RunListParams = { limit, ...(status !== undefined && { status }), ...(tag !== undefined && { tag }), ...(after !== undefined && { afterAt: after.createdAt, afterId: after.runId }) };
    return groupCounts(this.listing(filters).all(params));
  }

  private listing(filters: readonly RunFilter[]): Database.Statement<RunListParams, RunCountRow> {
    const key = filters.join(',');
    let stmt = this.listings.get(key);
    if (!stmt) {
      stmt = this.db.prepare<RunListParams, RunCountRow>(listRunsSql(filters.length === 0 ? '' : `WHERE ${filters.map((f) => RUN_FILTERS[f]).join(' AND ')}`));
      this.listings.set(key, stmt);
    }
    return stmt;
  }

  async listAgentRunStages(agentRunId: string): Promise<RunListing[]> {
    return groupCounts(this.stmt.listAgentRunStages.all({ limit: -1, agent: agentRunId })).reverse();
  }

  async listAgentRuns(limit: number): Promise<AgentRunSummary[]> {
    return this.stmt.listAgentRuns.all(limit).map((r) => ({ agentRunId: r.agent_run_id, runs: r.runs, active: r.active, firstAt: r.first_at, lastAt: r.last_at }));
  }


  async findJob(jobId: string, runId: string | null): Promise<JobRecord | null> {
    const row = runId === null ? this.stmt.findLatestJob.get(jobId) : this.stmt.findJobInRun.get(runId, jobId);
    return row === undefined ? null : rowToJob(row);
  }

  async listDecisions(limit: number): Promise<GateDecision[]> {
    return this.stmt.listDecisions.all(limit).map((r) => ({
      runId: r.run_id,
      jobId: r.job_id,
      approved: r.approved === 1,
      by: r.decided_by,
      comment: r.comment,
      at: r.at,
      reason: r.reason === 'timeout' ? 'timeout' : 'decided',
    }));
  }

  async listAttempts(runId: string, jobId: string): Promise<AttemptRecord[]> {
    return this.stmt.listAttempts.all(runId, jobId).map(rowToAttempt);
  }

  async totals(): Promise<JobTotals> {
    return addTotals(this.stmt.totals.get() ?? NO_TOTALS, this.deletedTotals());
  }

  async findRunByRequest(requestId: string): Promise<RunRecord | null> {
    const row = this.stmt.findRunByRequest.get(requestId);
    return row === undefined ? null : rowToRun(row);
  }

  async finishedRunsBefore(cutoff: number, limit: number): Promise<string[]> {
    return this.stmt.finishedRunsBefore.all(cutoff, limit).map((r) => r.run_id);
  }

  async deleteRun(runId: string): Promise<boolean> {
    return this.write(() => this.deleteRunTx(runId));
  }

  /** What deleted runs had counted, kept so that the totals stay lifetime counts. */
  private deletedTotals(): JobTotals {
    const raw = this.stmt.getMeta.get(DELETED_TOTALS)?.value;
    return addTotals(NO_TOTALS, raw ? (JSON.parse(raw) as Partial<JobTotals>) : {});
  }

  private removeRun(runId: string): boolean {
    const row = this.stmt.runStatus.get(runId);
    if (!row) return false;
    if (row.status === 'RUNNING') throw new TitanError('CONFLICT', `run ${runId} is still running: cancel it first`);
    this.stmt.setMeta.run(DELETED_TOTALS, JSON.stringify(addTotals(this.deletedTotals(), this.stmt.runTotals.get({ run: runId }) ?? NO_TOTALS)));
    this.stmt.deleteRunDecisions.run(runId);
    this.stmt.deleteRunAttempts.run(runId);
    this.stmt.deleteRunJobs.run(runId);
    this.stmt.deleteRunRow.run(runId);
    return true;
  }

  async getMeta(key: string): Promise<string | null> {
    return this.stmt.getMeta.get(key)?.value ?? null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.write(() => this.stmt.setMeta.run(key, value));
  }

  // ---- data bus: keys and artifacts (sqlite-data-bus.ts) ----

  kvApply(ops: readonly KvOp[], now: number): Promise<KvOutcome[]> {
    return this.writeAsync(() => this.data.kvApply(ops, now));
  }

  kvGet(key: string, now: number): Promise<KvStored | null> {
    return this.data.kvGet(key, now);
  }

  kvMembers(key: string): Promise<string[]> {
    return this.data.kvMembers(key);
  }

  kvKeys(prefix: string, limit: number, now: number): Promise<{ keys: KvKeyInfo[]; truncated: boolean }> {
    return this.data.kvKeys(prefix, limit, now);
  }

  kvExpiring(): Promise<{ key: string; expiresAt: number }[]> {
    return this.data.kvExpiring();
  }

  artifactPut(info: ArtifactInfo): Promise<string | null> {
    return this.writeAsync(() => this.data.artifactPut(info));
  }

  artifactGet(key: string): Promise<ArtifactInfo | null> {
    return this.data.artifactGet(key);
  }

  artifactList(options: { prefix: string; runId?: string; limit: number }): Promise<{ artifacts: ArtifactInfo[]; truncated: boolean }> {
    return this.data.artifactList(options);
  }

  artifactDelete(key: string): Promise<{ deleted: boolean; orphaned: string | null }> {
    return this.writeAsync(() => this.data.artifactDelete(key));
  }

  // ---- schedules (sqlite-schedules.ts) ----

  putSchedule(record: ScheduleRecord): Promise<void> {
    return this.writeAsync(() => this.schedules.putSchedule(record));
  }

  getSchedule(name: string): Promise<ScheduleRecord | null> {
    return this.schedules.getSchedule(name);
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.schedules.listSchedules();
  }

  deleteSchedule(name: string): Promise<boolean> {
    return this.writeAsync(() => this.schedules.deleteSchedule(name));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
