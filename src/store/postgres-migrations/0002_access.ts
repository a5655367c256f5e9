/**
 * The audit log and the named identities (tokens, dashboard users), shared by every master of
 * the cluster: equivalent to SQLite's migration 0009. `batch_id` names the append an entry came
 * with, so that a retried append is applied once.
 */
export const sql = `
CREATE TABLE audit (
  seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  batch_id  TEXT    NOT NULL,
  at        BIGINT  NOT NULL,
  who       TEXT    NOT NULL,
  kind      TEXT    NOT NULL,
  via       TEXT    NOT NULL,
  from_addr TEXT    NOT NULL,
  action    TEXT    NOT NULL,
  target    TEXT,
  ok        BOOLEAN NOT NULL,
  error     TEXT
);
CREATE INDEX audit_by_batch ON audit (batch_id);

CREATE TABLE identities (
  kind TEXT NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (kind, name)
);
`;
