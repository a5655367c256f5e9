/**
 * Schedules: a pipeline (`run`, a RunSpec as JSON) submitted at the fire times of `spec` (a
 * ScheduleSpec as JSON: cron, timezone, overlap and missed policies). A rowid table, because a
 * run's JSON can be large (a DAG of thousands of jobs).
 */
export const sql = `
CREATE TABLE schedules (
  name        TEXT    NOT NULL PRIMARY KEY,
  spec        TEXT    NOT NULL,
  run         TEXT    NOT NULL,
  paused      INTEGER NOT NULL CHECK (paused IN (0, 1)),
  -- The next fire time (epoch ms); NULL while paused or when the expression has no more.
  next_at     INTEGER,
  last_at     INTEGER,
  last_run_id TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
`;
