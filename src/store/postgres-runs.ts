/**
 * Runs, jobs, attempts and gate decisions in PostgreSQL: the commit of a batch (one fenced
 * transaction, applied at most once per batch id) and the queries over them. The columns are the
 * SQLite store's, so the row types and their conversions are shared (sqlite-rows.ts).
 */
import { TitanError } from '../core/errors.js';
import type { AgentRunSummary, AttemptRecord, GateDecision, JobRecord, RunRecord, RunStatus } from '../core/model.js';
import type { PostgresConnection, Sql } from './postgres-connection.js';
import {
  ATTEMPT_COLUMNS,
  attemptToParams,
  type AttemptRow,
  type DecisionRow,
  JOB_COLUMNS,
  JOB_STATE_COLUMNS,
  type JobRow,
  jobToInsertParams,
  jobToUpdateParams,
  RUN_COLUMNS,
  type RunCountRow,
  type RunRow,
  rowToAttempt,
  rowToJob,
  rowToRun,
  groupCounts,
  runToParams,
  type TotalsRow,
} from './sqlite-rows.js';
import type { JobTotals, RunListing, RunPosition, StoreBatch } from './store.js';

/** Meta key of the totals of deleted runs (JSON of JobTotals), as in SQLite. */
const DELETED_TOTALS = 'deleted_totals';
/** Applied batch ids are kept this long: a retry comes within seconds, after a lost reply. */
const KEEP_BATCH_IDS = '1 hour';
/** Pruning old batch ids rides along with one commit in this many. */
const PRUNE_EVERY = 256;

const placeholders = (n: number, from = 1): string => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');

const UPSERT_RUN = `INSERT INTO runs (${RUN_COLUMNS}) VALUES (${placeholders(11)})
  ON CONFLICT (run_id) DO UPDATE SET name = excluded.name, agent_run_id = excluded.agent_run_id,
    status = excluded.status, finished_at = excluded.finished_at, tags = excluded.tags, flow = excluded.flow, notify = excluded.notify`;
// Jobs and attempts go in one statement per kind, their fields as one array per column (a
// submission of thousands of jobs is one round trip, not thousands).

/** `unnest($from::type[], …) WITH ORDINALITY AS u (names…, ord)`: the rows of column arrays. */
function unnest(types: readonly string[], names: string, from = 1): string {
  return `unnest(${types.map((t, i) => `$${i + from}::${t}[]`).join(', ')}) WITH ORDINALITY AS u (${names}, ord)`;
}

/** Row parameters as one array per column. */
const columnsOf = (rows: readonly (readonly unknown[])[], width: number): unknown[][] => Array.from({ length: width }, (_, i) => rows.map((r) => r[i]));

/** The last record of each key, in first-seen order: applying them one by one would leave the last. */
function lastPerKey<T>(records: readonly T[], key: (r: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const r of records) byKey.set(key(r), r);
  return [...byKey.values()];
}

/** The SQL type of each column a job's insert or update sends, so the parameter arrays follow the shared column lists. */
const JOB_COLUMN_TYPES: Record<string, string> = {
  status: 'text', attempt: 'integer', not_before: 'bigint', worker_id: 'text', exit_code: 'integer', error: 'text', started_at: 'bigint', finished_at: 'bigint',
  service: 'text', retry_base: 'integer', lost: 'integer', queued_at: 'bigint', run_id: 'text', job_id: 'text', spec: 'text', created_at: 'bigint', added_by: 'text',
};
const typesOf = (columns: readonly string[]): string[] => columns.map((c) => JOB_COLUMN_TYPES[c] ?? expectType(c));
function expectType(column: string): never {
  throw new Error(`no SQL type for the job column ${column}`);
}
const JOB_TYPES = typesOf(JOB_COLUMNS.split(', '));
const INSERT_JOBS = `INSERT INTO jobs (${JOB_COLUMNS}, run_created_at)
  SELECT ${JOB_COLUMNS.split(', ').map((c) => `u.${c}`).join(', ')}, (SELECT created_at FROM runs WHERE runs.run_id = u.run_id)
  FROM ${unnest(JOB_TYPES, JOB_COLUMNS)} ORDER BY u.ord`;
const UPDATE_COLUMNS = [...JOB_STATE_COLUMNS, 'run_id', 'job_id'];
const UPDATE_JOBS = `UPDATE jobs AS j SET ${JOB_STATE_COLUMNS.map((c) => `${c} = u.${c}`).join(', ')}
  FROM ${unnest(typesOf(UPDATE_COLUMNS), UPDATE_COLUMNS.join(', '))}
  WHERE j.run_id = u.run_id AND j.job_id = u.job_id
  RETURNING j.run_id, j.job_id`;
const ATTEMPT_TYPES = ['text', 'text', 'integer', 'text', 'bigint', 'bigint', 'text', 'integer', 'text', 'bigint', 'bigint'];
const UPSERT_ATTEMPTS = `INSERT INTO attempts (${ATTEMPT_COLUMNS})
  SELECT ${ATTEMPT_COLUMNS.split(', ').map((c) => `u.${c}`).join(', ')} FROM ${unnest(ATTEMPT_TYPES, ATTEMPT_COLUMNS)} ORDER BY u.ord
  ON CONFLICT (run_id, job_id, attempt) DO UPDATE SET worker_id = excluded.worker_id, started_at = excluded.started_at,
    finished_at = excluded.finished_at, outcome = excluded.outcome, exit_code = excluded.exit_code, error = excluded.error,
    queued_at = excluded.queued_at, running_at = excluded.running_at`;
const INSERT_DECISION = 'INSERT INTO gate_decisions (run_id, job_id, approved, decided_by, comment, at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)';

const TOTALS_OF = (where: string): string =>
  `SELECT COUNT(*) AS submitted, COUNT(*) FILTER (WHERE status = 'COMPLETED') AS completed, COUNT(*) FILTER (WHERE status = 'DEAD') AS dead,
     (SELECT COUNT(*) FROM attempts ${where}) AS attempts, (SELECT COUNT(*) FROM attempts ${where}${where === '' ? ' WHERE' : ' AND'} attempt > 1) AS retried
   FROM jobs ${where}`;

const NO_TOTALS: JobTotals = { submitted: 0, completed: 0, dead: 0, attempts: 0, retried: 0 };

/** Field-wise sum; fields missing from `b` (totals stored before they existed) count 0. */
function addTotals(a: JobTotals, b: Partial<JobTotals>): JobTotals {
  return { submitted: a.submitted + (b.submitted ?? 0), completed: a.completed + (b.completed ?? 0), dead: a.dead + (b.dead ?? 0), attempts: a.attempts + (b.attempts ?? 0), retried: a.retried + (b.retried ?? 0) };
}

/** Adds context to a failed write so a rolled-back batch names the record that broke it. */
function writeError(what: string, e: unknown): Error {
  return new Error(`store commit failed at ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** A run listing's rows: the page of runs (filtered by `where`), each with its per-status job counts. */
function listRunsSql(where: string, limitParam: string): string {
  const cols = RUN_COLUMNS.split(', ').map((c) => `r.${c}`).join(', ');
  return `SELECT ${cols}, j.status AS job_status, COUNT(j.run_id) AS n
    FROM (SELECT ${RUN_COLUMNS} FROM runs ${where} ORDER BY created_at DESC, run_id DESC LIMIT ${limitParam}) AS r
    LEFT JOIN jobs AS j ON j.run_id = r.run_id
    GROUP BY ${cols}, j.status
    ORDER BY r.created_at DESC, r.run_id DESC`;
}


/** A LIMIT parameter: null (no limit) for an infinite one. */
const limitOf = (limit: number): number | null => (Number.isFinite(limit) ? Math.floor(limit) : null);

const NOT_NULL_VIOLATION = '23502';

export class PostgresRuns {
  private commits = 0;

  constructor(private readonly c: PostgresConnection) {}

  async commit(batch: StoreBatch): Promise<void> {
    if (batch.runs.length + batch.newJobs.length + batch.jobs.length + batch.attempts.length + batch.decisions.length === 0) return;
    await this.c.write(async (sql) => {
      if (batch.id !== undefined) {
        // A batch whose reply was lost may have been applied: its id says so, and it is not applied twice.
        const fresh = await sql.query('INSERT INTO applied_batches (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [batch.id]);
        if (fresh.rowCount === 0) return;
        if (++this.commits % PRUNE_EVERY === 0) await sql.query(`DELETE FROM applied_batches WHERE applied_at < now() - interval '${KEEP_BATCH_IDS}'`);
      }
      await this.apply(sql, batch);
    });
  }

  private async apply(sql: Sql, batch: StoreBatch): Promise<void> {
    for (const r of batch.runs) {
      await sql.query(UPSERT_RUN, runToParams(r)).catch((e: unknown) => Promise.reject(writeError(`run ${r.runId}`, e)));
    }
    if (batch.newJobs.length > 0) {
      const rows = batch.newJobs.map((j) => jobToInsertParams(j).slice(0, JOB_TYPES.length));
      await sql.query(INSERT_JOBS, columnsOf(rows, JOB_TYPES.length)).catch((e: unknown) => {
        // run_created_at is copied from the run by a subquery, so a missing run surfaces as NOT NULL.
        const noRun = (e as { code?: string; column?: string }).code === NOT_NULL_VIOLATION && (e as { column?: string }).column === 'run_created_at';
        const runs = [...new Set(batch.newJobs.map((j) => j.runId))].join(', ');
        return Promise.reject(writeError(`new jobs of ${runs}`, noRun ? new Error(`no such run (of ${runs})`) : e));
      });
    }
    const jobs = lastPerKey(batch.jobs, (j) => `${j.runId}\n${j.spec.id}`);
    if (jobs.length > 0) {
      const result = await sql.query<{ run_id: string; job_id: string }>(UPDATE_JOBS, columnsOf(jobs.map(jobToUpdateParams), UPDATE_COLUMNS.length)).catch((e: unknown) => Promise.reject(writeError('job updates', e)));
      // Updating a job that was never inserted would silently lose its state.
      if (result.rows.length < jobs.length) {
        const found = new Set(result.rows.map((r) => `${r.run_id}\n${r.job_id}`));
        const missing = jobs.find((j) => !found.has(`${j.runId}\n${j.spec.id}`));
        throw writeError(`job ${missing?.runId}/${missing?.spec.id}`, new Error('no such job'));
      }
    }
    const attempts = lastPerKey(batch.attempts, (a) => `${a.runId}\n${a.jobId}\n${a.attempt}`);
    if (attempts.length > 0) {
      await sql.query(UPSERT_ATTEMPTS, columnsOf(attempts.map(attemptToParams), ATTEMPT_TYPES.length)).catch((e: unknown) => Promise.reject(writeError('attempts', e)));
    }
    for (const d of batch.decisions) {
      await sql.query(INSERT_DECISION, [d.runId, d.jobId, d.approved ? 1 : 0, d.by, d.comment, d.at, d.reason]).catch((e: unknown) => Promise.reject(writeError(`decision on ${d.runId}/${d.jobId}`, e)));
    }
  }

  loadActiveRuns(): Promise<{ run: RunRecord; jobs: JobRecord[] }[]> {
    // Both reads see one snapshot.
    return this.c.snapshot(async (sql) => {
      const byRun = new Map<string, { run: RunRecord; jobs: JobRecord[] }>();
      const runs = await sql.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE status = 'RUNNING' ORDER BY created_at, run_id`);
      for (const row of runs.rows) byRun.set(row.run_id, { run: rowToRun(row), jobs: [] });
      const jobs = await sql.query<JobRow>(
        `SELECT ${JOB_COLUMNS.split(', ').map((c) => `j.${c}`).join(', ')}
         FROM runs AS r JOIN jobs AS j ON j.run_id = r.run_id WHERE r.status = 'RUNNING' ORDER BY j.seq`,
      );
      for (const row of jobs.rows) byRun.get(row.run_id)?.jobs.push(rowToJob(row));
      return [...byRun.values()];
    });
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const [row] = await this.c.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1`, [runId]);
    return row === undefined ? null : rowToRun(row);
  }

  async getRunJobs(runId: string): Promise<JobRecord[]> {
    return (await this.c.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE run_id = $1 ORDER BY seq`, [runId])).map(rowToJob);
  }

  async listRuns(options: { limit: number; status?: RunStatus; tag?: string; after?: RunPosition }): Promise<RunListing[]> {
    if (!(options.limit > 0)) return [];
    const { status, tag, after } = options;
    const params: unknown[] = [limitOf(options.limit)];
    const where: string[] = [];
    if (status !== undefined) where.push(`status = $${params.push(status)}`);
    if (tag !== undefined) where.push(`EXISTS (SELECT 1 FROM jsonb_array_elements_text(runs.tags::jsonb) AS t (tag) WHERE t.tag = $${params.push(tag)})`);
    if (after !== undefined) where.push(`(created_at, run_id) < ($${params.push(after.createdAt)}::bigint, $${params.push(after.runId)}::text)`);
    return groupCounts(await this.c.query<RunCountRow>(listRunsSql(where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`, '$1'), params));
  }

  async findRunByRequest(requestId: string): Promise<RunRecord | null> {
    const [row] = await this.c.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE request_id = $1`, [requestId]);
    return row === undefined ? null : rowToRun(row);
  }

  async listAgentRunStages(agentRunId: string): Promise<RunListing[]> {
    return groupCounts(await this.c.query<RunCountRow>(listRunsSql('WHERE agent_run_id = $1', 'ALL'), [agentRunId])).reverse();
  }

  async listAgentRuns(limit: number): Promise<AgentRunSummary[]> {
    if (!(limit > 0)) return [];
    const rows = await this.c.query<{ agent_run_id: string; runs: number; active: number; first_at: number; last_at: number }>(
      `SELECT agent_run_id, COUNT(*) AS runs, COUNT(*) FILTER (WHERE status = 'RUNNING') AS active, MIN(created_at) AS first_at, MAX(created_at) AS last_at
       FROM runs WHERE agent_run_id IS NOT NULL GROUP BY agent_run_id ORDER BY last_at DESC LIMIT $1`,
      [limitOf(limit)],
    );
    return rows.map((r) => ({ agentRunId: r.agent_run_id, runs: r.runs, active: r.active, firstAt: r.first_at, lastAt: r.last_at }));
  }

  async findJob(jobId: string, runId: string | null): Promise<JobRecord | null> {
    const [row] =
      runId === null
        ? await this.c.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE job_id = $1 ORDER BY run_created_at DESC, run_id DESC LIMIT 1`, [jobId])
        : await this.c.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE run_id = $1 AND job_id = $2`, [runId, jobId]);
    return row === undefined ? null : rowToJob(row);
  }

  async listAttempts(runId: string, jobId: string): Promise<AttemptRecord[]> {
    return (await this.c.query<AttemptRow>(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE run_id = $1 AND job_id = $2 ORDER BY attempt`, [runId, jobId])).map(rowToAttempt);
  }

  async listRunAttempts(runId: string): Promise<AttemptRecord[]> {
    return (await this.c.query<AttemptRow>(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE run_id = $1 ORDER BY job_id, attempt`, [runId])).map(rowToAttempt);
  }

  async listDecisions(limit: number): Promise<GateDecision[]> {
    if (!(limit > 0)) return [];
    const rows = await this.c.query<DecisionRow>('SELECT run_id, job_id, approved, decided_by, comment, at, reason FROM gate_decisions ORDER BY seq DESC LIMIT $1', [limitOf(limit)]);
    return rows.map((r) => ({ runId: r.run_id, jobId: r.job_id, approved: r.approved === 1, by: r.decided_by, comment: r.comment, at: r.at, reason: r.reason === 'timeout' ? 'timeout' : 'decided' }));
  }

  async totals(): Promise<JobTotals> {
    return this.c.snapshot(async (sql) => {
      const [counted] = (await sql.query<TotalsRow>(TOTALS_OF(''))).rows;
      return addTotals(counted ?? NO_TOTALS, await deletedTotals(sql));
    });
  }

  async finishedRunsBefore(cutoff: number, limit: number): Promise<string[]> {
    const rows = await this.c.query<{ run_id: string }>("SELECT run_id FROM runs WHERE status <> 'RUNNING' AND finished_at < $1 ORDER BY finished_at, run_id LIMIT $2", [cutoff, Math.max(0, Math.floor(limit))]);
    return rows.map((r) => r.run_id);
  }

  /** Removes a finished run and what hangs off it, adding its counts to the deleted runs' totals. */
  deleteRun(runId: string): Promise<boolean> {
    return this.c.write(async (sql) => {
      const [row] = (await sql.query<{ status: string }>('SELECT status FROM runs WHERE run_id = $1 FOR UPDATE', [runId])).rows;
      if (row === undefined) return false;
      if (row.status === 'RUNNING') throw new TitanError('CONFLICT', `run ${runId} is still running: cancel it first`);
      // The meta row is locked first so that two deletions add to the totals one after the other.
      await sql.query("INSERT INTO meta (key, value) VALUES ($1, '{}') ON CONFLICT (key) DO NOTHING", [DELETED_TOTALS]);
      await sql.query('SELECT value FROM meta WHERE key = $1 FOR UPDATE', [DELETED_TOTALS]);
      const [counted] = (await sql.query<TotalsRow>(TOTALS_OF('WHERE run_id = $1'), [runId])).rows;
      const total = addTotals(await deletedTotals(sql), counted ?? NO_TOTALS);
      await sql.query('UPDATE meta SET value = $2 WHERE key = $1', [DELETED_TOTALS, JSON.stringify(total)]);
      for (const table of ['gate_decisions', 'attempts', 'steps', 'jobs', 'runs']) await sql.query(`DELETE FROM ${table} WHERE run_id = $1`, [runId]);
      return true;
    });
  }
}

/** What deleted runs had counted, kept so that the totals stay lifetime counts. */
async function deletedTotals(sql: Sql): Promise<JobTotals> {
  const [row] = (await sql.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [DELETED_TOTALS])).rows;
  return addTotals(NO_TOTALS, row ? (JSON.parse(row.value) as Partial<JobTotals>) : {});
}
