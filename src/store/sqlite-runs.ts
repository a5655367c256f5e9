/**
 * The SQLite store's queries of runs, jobs, attempts and gate decisions. Each statement is
 * prepared once; a listing's statement is prepared per combination of filters, on first use.
 */
import type Database from 'better-sqlite3';
import type { AgentRunSummary, AttemptRecord, GateDecision, JobRecord, RunRecord, RunStatus } from '../core/model.js';
import { ATTEMPT_COLUMNS, type AttemptRow, type DecisionRow, JOB_COLUMNS, type JobRow, RUN_COLUMNS, type RunCountRow, type RunRow, groupCounts, rowToAttempt, rowToJob, rowToRun } from './sqlite-rows.js';
import { listingLimit, type RunListing, type RunPosition } from './store.js';

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

/** One query for the page of runs and their per-status job counts. */
function listRunsSql(where: string): string {
  return `SELECT r.run_id, r.name, r.agent_run_id, r.status, r.created_at, r.finished_at, r.tags, r.request_id, r.started_by, r.flow, r.notify,
            j.status AS job_status, COUNT(j.run_id) AS n
          FROM (SELECT ${RUN_COLUMNS} FROM runs ${where} ORDER BY created_at DESC, run_id DESC LIMIT @limit) AS r
          LEFT JOIN jobs AS j ON j.run_id = r.run_id
          GROUP BY r.run_id, j.status
          ORDER BY r.created_at DESC, r.run_id DESC`;
}


function prepare(db: Database.Database) {
  return {
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
    listRunAttempts: db.prepare<[string], AttemptRow>(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE run_id = ? ORDER BY job_id, attempt`),
    listDecisions: db.prepare<[number], DecisionRow>(
      `SELECT run_id, job_id, approved, decided_by, comment, at, reason FROM gate_decisions ORDER BY seq DESC LIMIT ?`,
    ),
    findRunByRequest: db.prepare<[string], RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE request_id = ?`),
    finishedRunsBefore: db.prepare<[number, number], { run_id: string }>(
      "SELECT run_id FROM runs WHERE status <> 'RUNNING' AND finished_at < ? ORDER BY finished_at, run_id LIMIT ?",
    ),
  };
}

export class SqliteRunQueries {
  private readonly s: ReturnType<typeof prepare>;
  /** Both reads in one transaction so they see the same snapshot. */
  private readonly loadActiveTx: () => { run: RunRecord; jobs: JobRecord[] }[];
  /** A listing statement per combination of filters, prepared on first use. */
  private readonly listings = new Map<string, Database.Statement<RunListParams, RunCountRow>>();

  constructor(private readonly db: Database.Database) {
    this.s = prepare(db);
    this.loadActiveTx = db.transaction(() => this.readActiveRuns());
  }

  private readActiveRuns(): { run: RunRecord; jobs: JobRecord[] }[] {
    const byRun = new Map<string, { run: RunRecord; jobs: JobRecord[] }>();
    for (const row of this.s.activeRuns.all()) byRun.set(row.run_id, { run: rowToRun(row), jobs: [] });
    for (const row of this.s.activeJobs.all()) byRun.get(row.run_id)?.jobs.push(rowToJob(row));
    return [...byRun.values()];
  }

  async loadActiveRuns(): Promise<{ run: RunRecord; jobs: JobRecord[] }[]> {
    return this.loadActiveTx();
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const row = this.s.getRun.get(runId);
    return row === undefined ? null : rowToRun(row);
  }

  async getRunJobs(runId: string): Promise<JobRecord[]> {
    return this.s.getRunJobs.all(runId).map(rowToJob);
  }

  async listRuns(options: { limit: number; status?: RunStatus; tag?: string; after?: RunPosition }): Promise<RunListing[]> {
    const limit = listingLimit(options.limit);
    if (limit === null) return [];
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
    return groupCounts(this.s.listAgentRunStages.all({ limit: -1, agent: agentRunId })).reverse();
  }

  async listAgentRuns(limit: number): Promise<AgentRunSummary[]> {
    return this.s.listAgentRuns.all(limit).map((r) => ({ agentRunId: r.agent_run_id, runs: r.runs, active: r.active, firstAt: r.first_at, lastAt: r.last_at }));
  }

  async findJob(jobId: string, runId: string | null): Promise<JobRecord | null> {
    const row = runId === null ? this.s.findLatestJob.get(jobId) : this.s.findJobInRun.get(runId, jobId);
    return row === undefined ? null : rowToJob(row);
  }

  async listDecisions(limit: number): Promise<GateDecision[]> {
    return this.s.listDecisions.all(limit).map((r) => ({
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
    return this.s.listAttempts.all(runId, jobId).map(rowToAttempt);
  }

  async listRunAttempts(runId: string): Promise<AttemptRecord[]> {
    return this.s.listRunAttempts.all(runId).map(rowToAttempt);
  }

  async findRunByRequest(requestId: string): Promise<RunRecord | null> {
    const row = this.s.findRunByRequest.get(requestId);
    return row === undefined ? null : rowToRun(row);
  }

  async finishedRunsBefore(cutoff: number, limit: number): Promise<string[]> {
    return this.s.finishedRunsBefore.all(cutoff, limit).map((r) => r.run_id);
  }
}
