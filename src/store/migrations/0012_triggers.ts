/**
 * Triggers: a pipeline (`run`, a RunSpec as JSON) that a request to /hooks/NAME starts, how the
 * request proves its sender (`auth` as JSON: a secret's name, or a bearer token's hash) and its
 * limits (JSON). Their deliveries, newest by `seq`, are trimmed to the newest 100 per trigger in
 * the write that adds one.
 */
export const sql = `
CREATE TABLE triggers (
  name       TEXT    NOT NULL PRIMARY KEY,
  run        TEXT    NOT NULL,
  auth       TEXT    NOT NULL,
  limits     TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE trigger_deliveries (
  seq             INTEGER NOT NULL PRIMARY KEY,
  trigger         TEXT    NOT NULL,
  id              TEXT    NOT NULL,
  received_at     INTEGER NOT NULL,
  outcome         TEXT    NOT NULL CHECK (outcome IN ('accepted', 'refused')),
  reason          TEXT,
  idempotency_key TEXT,
  body_bytes      INTEGER NOT NULL,
  run_id          TEXT
);
CREATE INDEX trigger_deliveries_by_trigger ON trigger_deliveries (trigger, seq);
`;
