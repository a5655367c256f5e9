/**
 * Durable steps: one row per (run, job, step name), the outcome of its latest run; a COMPLETED
 * row is never overwritten. The result is JSON text, capped by the master (core/steps.ts).
 */
export const sql = `
CREATE TABLE steps (
  run_id      TEXT    NOT NULL,
  job_id      TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  result      TEXT,
  error       TEXT,
  attempt     INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  cached_in   INTEGER,
  PRIMARY KEY (run_id, job_id, name)
);
`;
