/**
 * Durable steps in PostgreSQL (the table of migration 0005). A record is one fenced transaction:
 * the upsert, which leaves a COMPLETED row as it is, then the read of what is stored.
 */
import { type StepRecord, stepOrder } from '../core/steps.js';
import type { PostgresConnection } from './postgres-connection.js';
import { STEP_COLUMNS, stepParams, type StepRow, type StepStore, toStep } from './step-store.js';

const SELECT_ONE = `SELECT ${STEP_COLUMNS} FROM steps WHERE run_id = $1 AND job_id = $2 AND name = $3`;

export class PostgresSteps implements StepStore {
  constructor(private readonly c: PostgresConnection) {}

  stepRecord(step: StepRecord): Promise<StepRecord> {
    return this.c.write(async (sql) => {
      await sql.query(
        `INSERT INTO steps (${STEP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (run_id, job_id, name) DO UPDATE SET status = excluded.status, result = excluded.result, error = excluded.error,
           attempt = excluded.attempt, started_at = excluded.started_at, finished_at = excluded.finished_at, cached_in = excluded.cached_in
         WHERE steps.status <> 'COMPLETED'`,
        stepParams(step),
      );
      const [row] = (await sql.query<StepRow>(SELECT_ONE, [step.runId, step.jobId, step.name])).rows;
      return row ? toStep(row) : step;
    });
  }

  async stepGet(runId: string, jobId: string, name: string): Promise<StepRecord | null> {
    const [row] = await this.c.query<StepRow>(SELECT_ONE, [runId, jobId, name]);
    return row ? toStep(row) : null;
  }

  async stepCached(runId: string, jobId: string, name: string, attempt: number): Promise<void> {
    await this.c.write((sql) =>
      sql.query("UPDATE steps SET cached_in = $4 WHERE run_id = $1 AND job_id = $2 AND name = $3 AND status = 'COMPLETED' AND COALESCE(cached_in, 0) < $4", [runId, jobId, name, attempt]),
    );
  }

  async listSteps(runId: string, jobId: string): Promise<StepRecord[]> {
    return (await this.c.query<StepRow>(`SELECT ${STEP_COLUMNS} FROM steps WHERE run_id = $1 AND job_id = $2`, [runId, jobId])).map(toStep).sort(stepOrder);
  }
}
