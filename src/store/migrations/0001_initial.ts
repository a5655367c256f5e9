/**
 * The initial schema. Statuses are plain TEXT without CHECK constraints: SQLite cannot alter a
 * CHECK, so adding a status would force a table rebuild; the master validates statuses.
 */
export const sql = `
CREATE TABLE runs (
  run_id       TEXT    NOT NULL PRIMARY KEY,
  name         TEXT    NOT NULL,
  agent_run_id TEXT,
  status       TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  finished_at  INTEGER
) WITHOUT ROWID;

-- listRuns: newest first, with and without a status filter; loadActiveRuns: status = 'RUNNING'.
CREATE INDEX runs_by_created_at ON runs (created_at DESC, run_id DESC);
CREATE INDEX runs_by_status ON runs (status, created_at DESC, run_id DESC);

-- seq keeps submission order stable (a plain rowid may be renumbered by VACUUM);
-- (run_id, job_id) is the key. run_created_at is a copy of the run's immutable created_at so
-- that "the latest run that has this job" is one index seek instead of a join and sort.
CREATE TABLE jobs (
  seq            INTEGER PRIMARY KEY,
  run_id         TEXT    NOT NULL REFERENCES runs (run_id),
  job_id         TEXT    NOT NULL,
  run_created_at INTEGER NOT NULL,
  spec           TEXT    NOT NULL,
  status         TEXT    NOT NULL,
  attempt        INTEGER NOT NULL,
  not_before     INTEGER,
  worker_id      TEXT,
  exit_code      INTEGER,
  error          TEXT,
  created_at     INTEGER NOT NULL,
  started_at     INTEGER,
  finished_at    INTEGER,
  UNIQUE (run_id, job_id)
);

CREATE INDEX jobs_by_job_id ON jobs (job_id, run_created_at DESC, run_id DESC);

CREATE TABLE attempts (
  run_id      TEXT    NOT NULL,
  job_id      TEXT    NOT NULL,
  attempt     INTEGER NOT NULL,
  worker_id   TEXT    NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  outcome     TEXT,
  exit_code   INTEGER,
  error       TEXT,
  PRIMARY KEY (run_id, job_id, attempt),
  FOREIGN KEY (run_id, job_id) REFERENCES jobs (run_id, job_id)
) WITHOUT ROWID;

CREATE TABLE meta (
  key   TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;
