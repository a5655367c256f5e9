/**
 * The data bus: keys and artifacts. kv keeps rowids (not WITHOUT ROWID) because values reach 1 MiB,
 * far beyond what a clustered index row should hold.
 */
export const sql = `
-- type is 'string' (value holds it) or 'set' (members in kv_members, value NULL).
-- version comes from kv_revision, one counter for all keys.
CREATE TABLE kv (
  key        TEXT    NOT NULL PRIMARY KEY,
  type       TEXT    NOT NULL,
  value      TEXT,
  version    INTEGER NOT NULL,
  expires_at INTEGER,
  updated_at INTEGER NOT NULL
);

-- Start-up re-arms a timer per expiring key.
CREATE INDEX kv_by_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE kv_members (
  key    TEXT NOT NULL,
  member TEXT NOT NULL,
  PRIMARY KEY (key, member)
) WITHOUT ROWID;

CREATE TABLE kv_revision (
  id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  revision INTEGER NOT NULL
);
INSERT INTO kv_revision (id, revision) VALUES (1, 0);

-- Files on the master: content lives in artifacts/<aa>/<sha256>; several keys may share it.
CREATE TABLE artifacts (
  key        TEXT    NOT NULL PRIMARY KEY,
  sha256     TEXT    NOT NULL,
  size       INTEGER NOT NULL,
  run_id     TEXT,
  job_id     TEXT,
  attempt    INTEGER,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Is this content still referenced (before deleting its file)?
CREATE INDEX artifacts_by_sha256 ON artifacts (sha256);
CREATE INDEX artifacts_by_run ON artifacts (run_id, key) WHERE run_id IS NOT NULL;
`;
