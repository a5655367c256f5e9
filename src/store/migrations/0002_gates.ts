/** Decisions on approval gates: who decided, when, and why (an audit trail, newest last). */
export const sql = `
CREATE TABLE gate_decisions (
  seq        INTEGER NOT NULL PRIMARY KEY,
  run_id     TEXT    NOT NULL,
  job_id     TEXT    NOT NULL,
  approved   INTEGER NOT NULL,
  decided_by TEXT    NOT NULL,
  comment    TEXT,
  at         INTEGER NOT NULL,
  reason     TEXT    NOT NULL,
  FOREIGN KEY (run_id, job_id) REFERENCES jobs (run_id, job_id)
);
CREATE INDEX gate_decisions_by_job ON gate_decisions (run_id, job_id);
`;
