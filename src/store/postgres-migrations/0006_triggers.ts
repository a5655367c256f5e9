/** As SQLite's triggers migration: triggers and their deliveries, the newest 100 kept per trigger. */
export const sql = `
CREATE TABLE triggers (
  name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  run        TEXT   NOT NULL,
  auth       TEXT   NOT NULL,
  limits     TEXT   NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE trigger_deliveries (
  seq             BIGSERIAL NOT NULL PRIMARY KEY,
  trigger         TEXT COLLATE "C" NOT NULL,
  id              TEXT   NOT NULL,
  received_at     BIGINT NOT NULL,
  outcome         TEXT   NOT NULL CHECK (outcome IN ('accepted', 'refused')),
  reason          TEXT,
  idempotency_key TEXT,
  body_bytes      BIGINT NOT NULL,
  run_id          TEXT
);
CREATE INDEX trigger_deliveries_by_trigger ON trigger_deliveries (trigger, seq);
`;
