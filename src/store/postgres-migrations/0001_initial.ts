/**
 * The PostgreSQL schema, equivalent to SQLite migrations 0001–0008 (runs, jobs, attempts, gate
 * decisions, meta, the data bus, artifacts, schedules), plus what a shared store needs: the ids of
 * applied batches (a retried commit applies once) and the leader lease. Times are epoch
 * milliseconds (BIGINT), as in SQLite; JSON is kept as TEXT, stored and read back verbatim. Keys
 * that are listed in order use the "C" collation, so that order is byte order whatever the
 * database's locale.
 */
export const sql = `
CREATE TABLE runs (
  run_id       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  name         TEXT   NOT NULL,
  agent_run_id TEXT COLLATE "C",
  status       TEXT   NOT NULL,
  created_at   BIGINT NOT NULL,
  finished_at  BIGINT,
  tags         TEXT,
  request_id   TEXT,
  started_by   TEXT
);
CREATE INDEX runs_by_created_at ON runs (created_at DESC, run_id DESC);
CREATE INDEX runs_by_status ON runs (status, created_at DESC, run_id DESC);
CREATE INDEX runs_by_agent ON runs (agent_run_id, created_at) WHERE agent_run_id IS NOT NULL;
CREATE INDEX runs_finished ON runs (finished_at, run_id) WHERE status <> 'RUNNING';
CREATE UNIQUE INDEX runs_request ON runs (request_id) WHERE request_id IS NOT NULL;

-- seq keeps submission order; run_created_at copies the run's immutable created_at so that
-- "the latest run that has this job" is one index seek.
CREATE TABLE jobs (
  seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id         TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id),
  job_id         TEXT COLLATE "C" NOT NULL,
  run_created_at BIGINT  NOT NULL,
  spec           TEXT    NOT NULL,
  status         TEXT    NOT NULL,
  attempt        INTEGER NOT NULL,
  not_before     BIGINT,
  worker_id      TEXT,
  exit_code      INTEGER,
  error          TEXT,
  created_at     BIGINT  NOT NULL,
  started_at     BIGINT,
  finished_at    BIGINT,
  service        TEXT,
  retry_base     INTEGER NOT NULL DEFAULT 0,
  lost           INTEGER NOT NULL DEFAULT 0,
  UNIQUE (run_id, job_id)
);
CREATE INDEX jobs_by_job_id ON jobs (job_id, run_created_at DESC, run_id DESC);

CREATE TABLE attempts (
  run_id      TEXT COLLATE "C" NOT NULL,
  job_id      TEXT COLLATE "C" NOT NULL,
  attempt     INTEGER NOT NULL,
  worker_id   TEXT    NOT NULL,
  started_at  BIGINT  NOT NULL,
  finished_at BIGINT,
  outcome     TEXT,
  exit_code   INTEGER,
  error       TEXT,
  PRIMARY KEY (run_id, job_id, attempt),
  FOREIGN KEY (run_id, job_id) REFERENCES jobs (run_id, job_id)
);

CREATE TABLE gate_decisions (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id     TEXT COLLATE "C" NOT NULL,
  job_id     TEXT COLLATE "C" NOT NULL,
  approved   INTEGER NOT NULL,
  decided_by TEXT    NOT NULL,
  comment    TEXT,
  at         BIGINT  NOT NULL,
  reason     TEXT    NOT NULL,
  FOREIGN KEY (run_id, job_id) REFERENCES jobs (run_id, job_id)
);
CREATE INDEX gate_decisions_by_job ON gate_decisions (run_id, job_id);

CREATE TABLE meta (
  key   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
);

-- type is 'string' (value holds it) or 'set' (members in kv_members, value NULL); version comes
-- from kv_revision, one counter for all keys, whose row lock also serializes kvApply batches.
CREATE TABLE kv (
  key        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  type       TEXT   NOT NULL,
  value      TEXT,
  version    BIGINT NOT NULL,
  expires_at BIGINT,
  updated_at BIGINT NOT NULL
);
CREATE INDEX kv_by_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE kv_members (
  key    TEXT COLLATE "C" NOT NULL,
  member TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (key, member)
);

CREATE TABLE kv_revision (
  id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  revision BIGINT  NOT NULL
);
INSERT INTO kv_revision (id, revision) VALUES (1, 0);

-- Files on the master: content lives in artifacts/<aa>/<sha256> there; several keys may share it.
CREATE TABLE artifacts (
  key        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  sha256     TEXT   NOT NULL,
  size       BIGINT NOT NULL,
  run_id     TEXT,
  job_id     TEXT,
  attempt    INTEGER,
  created_at BIGINT NOT NULL
);
CREATE INDEX artifacts_by_sha256 ON artifacts (sha256);
CREATE INDEX artifacts_by_run ON artifacts (run_id, key) WHERE run_id IS NOT NULL;

CREATE TABLE schedules (
  name        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  spec        TEXT    NOT NULL,
  run         TEXT    NOT NULL,
  paused      BOOLEAN NOT NULL,
  next_at     BIGINT,
  last_at     BIGINT,
  last_run_id TEXT,
  created_at  BIGINT  NOT NULL,
  updated_at  BIGINT  NOT NULL
);

-- Batches committed with an id, so that one retried after a lost reply applies once; pruned.
CREATE TABLE applied_batches (
  id         TEXT        NOT NULL PRIMARY KEY,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX applied_batches_by_time ON applied_batches (applied_at);

-- The leadership of the masters sharing this database: one row, its expiry by the server's clock.
CREATE TABLE leader_lease (
  id          INTEGER     NOT NULL PRIMARY KEY CHECK (id = 1),
  holder_id   TEXT        NOT NULL,
  holder_tcp  TEXT        NOT NULL,
  holder_http TEXT        NOT NULL,
  epoch       BIGINT      NOT NULL,
  expires_at  TIMESTAMPTZ NOT NULL
);
`;
