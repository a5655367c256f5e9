/** As SQLite's 0011: durable steps, one row per (run, job, step name); a COMPLETED row is never overwritten. */
export const sql = `
CREATE TABLE steps (
  run_id      TEXT COLLATE "C" NOT NULL,
  job_id      TEXT COLLATE "C" NOT NULL,
  name        TEXT COLLATE "C" NOT NULL,
  status      TEXT    NOT NULL,
  result      TEXT,
  error       TEXT,
  attempt     INTEGER NOT NULL,
  started_at  BIGINT  NOT NULL,
  finished_at BIGINT  NOT NULL,
  cached_in   INTEGER,
  PRIMARY KEY (run_id, job_id, name)
);
`;
