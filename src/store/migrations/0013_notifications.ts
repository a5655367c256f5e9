/**
 * Notifications out: a run keeps its own notification URLs (JSON), and each delivery of an event
 * to a URL is a row, removed with its run. `seq` orders them and bounds the table.
 */
export const sql = `
ALTER TABLE runs ADD COLUMN notify TEXT;

CREATE TABLE notification_deliveries (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT    NOT NULL UNIQUE,
  run_id      TEXT    NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  event       TEXT    NOT NULL,
  url         TEXT    NOT NULL,
  body        TEXT    NOT NULL,
  state       TEXT    NOT NULL,
  tries       INTEGER NOT NULL,
  last_status INTEGER,
  last_error  TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  next_at     INTEGER
);
CREATE INDEX notification_deliveries_by_run ON notification_deliveries (run_id, seq);
CREATE INDEX notification_deliveries_pending ON notification_deliveries (state, seq);
`;
