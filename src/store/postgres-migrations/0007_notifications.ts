/** As SQLite's 0013: a run's own notification URLs, and one row per delivery, removed with its run. */
export const sql = `
ALTER TABLE runs ADD COLUMN notify TEXT;

CREATE TABLE notification_deliveries (
  seq         BIGSERIAL PRIMARY KEY,
  id          TEXT COLLATE "C" NOT NULL UNIQUE,
  run_id      TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  event       TEXT    NOT NULL,
  url         TEXT    NOT NULL,
  body        TEXT    NOT NULL,
  state       TEXT    NOT NULL,
  tries       INTEGER NOT NULL,
  last_status INTEGER,
  last_error  TEXT,
  created_at  BIGINT  NOT NULL,
  updated_at  BIGINT  NOT NULL,
  next_at     BIGINT
);
CREATE INDEX notification_deliveries_by_run ON notification_deliveries (run_id, seq);
CREATE INDEX notification_deliveries_pending ON notification_deliveries (state, seq);
`;
