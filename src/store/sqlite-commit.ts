/**
 * The SQLite store's write path: a batch of records applied in one IMMEDIATE transaction (the
 * write lock taken up front rather than upgraded midway), all of it or, on the first failure,
 * none of it.
 */
import type Database from 'better-sqlite3';
import {
  ATTEMPT_COLUMNS,
  type AttemptParams,
  attemptToParams,
  type DecisionParams,
  JOB_COLUMNS,
  JOB_STATE_COLUMNS,
  type JobInsertParams,
  jobToInsertParams,
  jobToUpdateParams,
  type JobUpdateParams,
  RUN_COLUMNS,
  type RunParams,
  runToParams,
} from './sqlite-rows.js';
import type { StoreBatch } from './store.js';

function prepare(db: Database.Database) {
  return {
    // created_at is immutable: jobs.run_created_at holds a copy of it.
    upsertRun: db.prepare<RunParams>(
      `INSERT INTO runs (${RUN_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET
         name = excluded.name, agent_run_id = excluded.agent_run_id,
         status = excluded.status, finished_at = excluded.finished_at, tags = excluded.tags, flow = excluded.flow, notify = excluded.notify`,
    ),
    insertJob: db.prepare<JobInsertParams>(
      `INSERT INTO jobs (${JOB_COLUMNS}, run_created_at)
       VALUES (${JOB_COLUMNS.split(', ').map(() => '?').join(', ')}, (SELECT created_at FROM runs WHERE run_id = ?))`,
    ),
    updateJob: db.prepare<JobUpdateParams>(
      `UPDATE jobs SET ${JOB_STATE_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE run_id = ? AND job_id = ?`,
    ),
    upsertAttempt: db.prepare<AttemptParams>(
      `INSERT INTO attempts (${ATTEMPT_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, job_id, attempt) DO UPDATE SET
         worker_id = excluded.worker_id, started_at = excluded.started_at, finished_at = excluded.finished_at,
         outcome = excluded.outcome, exit_code = excluded.exit_code, error = excluded.error,
         queued_at = excluded.queued_at, running_at = excluded.running_at`,
    ),
    insertDecision: db.prepare<DecisionParams>(
      `INSERT INTO gate_decisions (run_id, job_id, approved, decided_by, comment, at, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
  };
}

/** Adds context to a failed write so a rolled-back batch names the record that broke it. */
function writeError(what: string, e: unknown): Error {
  return new Error(`store commit failed at ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

export class SqliteBatchWriter {
  private readonly s: ReturnType<typeof prepare>;
  /** Applies the whole batch in one transaction, or throws with nothing of it written. */
  readonly commit: (batch: StoreBatch) => void;

  constructor(db: Database.Database) {
    this.s = prepare(db);
    this.commit = db.transaction((batch: StoreBatch) => this.apply(batch)).immediate;
  }

  private apply(batch: StoreBatch): void {
    const s = this.s;
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
}
