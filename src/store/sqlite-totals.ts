/**
 * The SQLite store's lifetime totals and the deletion of finished runs, which keeps them: what a
 * deleted run had counted is added to a sum kept in the meta table, and the totals add that sum
 * to what the remaining rows count.
 */
import type Database from 'better-sqlite3';
import { TitanError } from '../core/errors.js';
import type { TotalsRow } from './sqlite-rows.js';
import type { JobTotals } from './store.js';

/** Meta key of the totals of deleted runs (JSON of JobTotals). */
const DELETED_TOTALS = 'deleted_totals';

const NO_TOTALS: JobTotals = { submitted: 0, completed: 0, dead: 0, attempts: 0, retried: 0 };

/** Field-wise sum; fields missing from `b` (totals stored before they existed) count 0. */
function addTotals(a: JobTotals, b: Partial<JobTotals>): JobTotals {
  return { submitted: a.submitted + (b.submitted ?? 0), completed: a.completed + (b.completed ?? 0), dead: a.dead + (b.dead ?? 0), attempts: a.attempts + (b.attempts ?? 0), retried: a.retried + (b.retried ?? 0) };
}

function prepare(db: Database.Database) {
  return {
    totals: db.prepare<[], TotalsRow>(
      // One pass over jobs; no status index, which would cost a write on every transition.
      `SELECT COUNT(*) AS submitted,
         COALESCE(SUM(status = 'COMPLETED'), 0) AS completed,
         COALESCE(SUM(status = 'DEAD'), 0) AS dead,
         (SELECT COUNT(*) FROM attempts) AS attempts,
         (SELECT COUNT(*) FROM attempts WHERE attempt > 1) AS retried
       FROM jobs`,
    ),
    runTotals: db.prepare<{ run: string }, TotalsRow>(
      `SELECT COUNT(*) AS submitted, COALESCE(SUM(status = 'COMPLETED'), 0) AS completed, COALESCE(SUM(status = 'DEAD'), 0) AS dead,
         (SELECT COUNT(*) FROM attempts WHERE run_id = @run) AS attempts,
         (SELECT COUNT(*) FROM attempts WHERE run_id = @run AND attempt > 1) AS retried
       FROM jobs WHERE run_id = @run`,
    ),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    runStatus: db.prepare<[string], { status: string }>('SELECT status FROM runs WHERE run_id = ?'),
    deleteRunDecisions: db.prepare<[string]>('DELETE FROM gate_decisions WHERE run_id = ?'),
    deleteRunAttempts: db.prepare<[string]>('DELETE FROM attempts WHERE run_id = ?'),
    deleteRunSteps: db.prepare<[string]>('DELETE FROM steps WHERE run_id = ?'),
    deleteRunJobs: db.prepare<[string]>('DELETE FROM jobs WHERE run_id = ?'),
    deleteRunRow: db.prepare<[string]>('DELETE FROM runs WHERE run_id = ?'),
  };
}

export class SqliteTotals {
  private readonly s: ReturnType<typeof prepare>;
  /** Removes a finished run in one IMMEDIATE transaction; false when there is no such run. */
  readonly deleteRun: (runId: string) => boolean;

  constructor(db: Database.Database) {
    this.s = prepare(db);
    this.deleteRun = db.transaction((runId: string) => this.removeRun(runId)).immediate;
  }

  totals(): JobTotals {
    return addTotals(this.s.totals.get() ?? NO_TOTALS, this.deletedTotals());
  }

  getMeta(key: string): string | null {
    return this.s.getMeta.get(key)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.s.setMeta.run(key, value);
  }

  /** What deleted runs had counted, kept so that the totals stay lifetime counts. */
  private deletedTotals(): JobTotals {
    const raw = this.getMeta(DELETED_TOTALS);
    return addTotals(NO_TOTALS, raw ? (JSON.parse(raw) as Partial<JobTotals>) : {});
  }

  private removeRun(runId: string): boolean {
    const row = this.s.runStatus.get(runId);
    if (!row) return false;
    if (row.status === 'RUNNING') throw new TitanError('CONFLICT', `run ${runId} is still running: cancel it first`);
    this.setMeta(DELETED_TOTALS, JSON.stringify(addTotals(this.deletedTotals(), this.s.runTotals.get({ run: runId }) ?? NO_TOTALS)));
    this.s.deleteRunDecisions.run(runId);
    this.s.deleteRunAttempts.run(runId);
    this.s.deleteRunSteps.run(runId);
    this.s.deleteRunJobs.run(runId);
    this.s.deleteRunRow.run(runId);
    return true;
  }
}
