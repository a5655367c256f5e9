/**
 * Durable steps in SQLite (the table of migration 0011). A record is one IMMEDIATE transaction:
 * the upsert, which leaves a COMPLETED row as it is, then the read of what is stored.
 */
import type Database from 'better-sqlite3';
import { type StepRecord, stepOrder } from '../core/steps.js';
import { STEP_COLUMNS, stepParams, type StepRow, type StepStore, toStep } from './step-store.js';

function prepare(db: Database.Database) {
  return {
    upsert: db.prepare<ReturnType<typeof stepParams>>(
      `INSERT INTO steps (${STEP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, job_id, name) DO UPDATE SET status = excluded.status, result = excluded.result, error = excluded.error,
         attempt = excluded.attempt, started_at = excluded.started_at, finished_at = excluded.finished_at, cached_in = excluded.cached_in
       WHERE steps.status <> 'COMPLETED'`,
    ),
    get: db.prepare<[string, string, string], StepRow>(`SELECT ${STEP_COLUMNS} FROM steps WHERE run_id = ? AND job_id = ? AND name = ?`),
    cached: db.prepare<[number, string, string, string, number]>(
      "UPDATE steps SET cached_in = ? WHERE run_id = ? AND job_id = ? AND name = ? AND status = 'COMPLETED' AND COALESCE(cached_in, 0) < ?",
    ),
    list: db.prepare<[string, string], StepRow>(`SELECT ${STEP_COLUMNS} FROM steps WHERE run_id = ? AND job_id = ?`),
  };
}

export class SqliteSteps implements StepStore {
  private readonly s: ReturnType<typeof prepare>;
  private readonly recordTx: (step: StepRecord) => StepRecord;

  constructor(db: Database.Database) {
    this.s = prepare(db);
    this.recordTx = db.transaction((step: StepRecord) => {
      this.s.upsert.run(...stepParams(step));
      const row = this.s.get.get(step.runId, step.jobId, step.name);
      return row ? toStep(row) : step;
    }).immediate;
  }

  async stepRecord(step: StepRecord): Promise<StepRecord> {
    return this.recordTx(step);
  }

  async stepGet(runId: string, jobId: string, name: string): Promise<StepRecord | null> {
    const row = this.s.get.get(runId, jobId, name);
    return row ? toStep(row) : null;
  }

  async stepCached(runId: string, jobId: string, name: string, attempt: number): Promise<void> {
    this.s.cached.run(attempt, runId, jobId, name, attempt);
  }

  async listSteps(runId: string, jobId: string): Promise<StepRecord[]> {
    return this.s.list.all(runId, jobId).map(toStep).sort(stepOrder);
  }
}
