/**
 * The audit log and the named identities (tokens, dashboard users), which lived in the master's
 * files before. `batch_id` names the append an entry came with, so that a retried append is
 * applied once; AUTOINCREMENT never hands out a number twice, even after the newest rows went.
 */
export const sql = `
CREATE TABLE audit (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_id  TEXT    NOT NULL,
  at        INTEGER NOT NULL,
  who       TEXT    NOT NULL,
  kind      TEXT    NOT NULL,
  via       TEXT    NOT NULL,
  from_addr TEXT    NOT NULL,
  action    TEXT    NOT NULL,
  target    TEXT,
  ok        INTEGER NOT NULL,
  error     TEXT
);
CREATE INDEX audit_by_batch ON audit (batch_id);

CREATE TABLE identities (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (kind, name)
);
`;
