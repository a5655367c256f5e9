/**
 * The data bus (its keys and artifact metadata) in SQLite (tables of migration 0003). A kvApply
 * batch is one IMMEDIATE transaction: each op reads the key, decides and writes inside it, so
 * read-modify-write ops (incr, cas, sadd) need no lock of their own and many ops share one fsync.
 */
import type Database from 'better-sqlite3';
import type { ArtifactInfo, KvKeyInfo, KvOp, KvOutcome, KvType } from '../core/data.js';
import { DATA_LIMITS, parseKvInteger } from '../core/data.js';
import type { DataBusStore, KvStored } from './data-bus-store.js';

interface KvRow {
  key: string;
  type: string;
  value: string | null;
  version: number;
  expires_at: number | null;
}

interface ArtifactRow {
  key: string;
  sha256: string;
  size: number;
  run_id: string | null;
  job_id: string | null;
  attempt: number | null;
  created_at: number;
}

/** key, type, value, version, expires_at, updated_at */
type KvWriteParams = [string, string, string | null, number, number | null, number];
type ArtifactParams = [string, string, number, string | null, string | null, number | null, number];

const ARTIFACT_COLUMNS = 'key, sha256, size, run_id, job_id, attempt, created_at';
/** Above every character of the key alphabets, so `[prefix, prefix + END)` is a prefix range. */
const END = '\u{10ffff}';

const rowToInfo = (r: KvRow): KvKeyInfo => ({ key: r.key, type: r.type as KvType, version: r.version, expiresAt: r.expires_at });

const rowToArtifact = (r: ArtifactRow): ArtifactInfo => ({
  key: r.key,
  sha256: r.sha256,
  size: r.size,
  runId: r.run_id,
  jobId: r.job_id,
  attempt: r.attempt,
  createdAt: r.created_at,
});

const artifactParams = (a: ArtifactInfo): ArtifactParams => [a.key, a.sha256, a.size, a.runId, a.jobId, a.attempt, a.createdAt];

const live = (row: KvRow | undefined, now: number): row is KvRow => row !== undefined && (row.expires_at === null || row.expires_at > now);

/** Quotes a stored value for an error message without flooding it. */
const excerpt = (text: string): string => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);

const conflict = (message: string): KvOutcome => ({ ok: false, code: 'CONFLICT', message });
const wrongType = (key: string, has: string, wanted: string): KvOutcome => conflict(`key "${key}" holds a ${has}, not ${wanted}`);

function prepare(db: Database.Database) {
  return {
    kvGet: db.prepare<[string], KvRow>('SELECT key, type, value, version, expires_at FROM kv WHERE key = ?'),
    kvWrite: db.prepare<KvWriteParams>(
      `INSERT INTO kv (key, type, value, version, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET type = excluded.type, value = excluded.value, version = excluded.version,
         expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
    ),
    kvDelete: db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
    kvTouch: db.prepare<[number, number, string]>('UPDATE kv SET version = ?, updated_at = ? WHERE key = ?'),
    kvKeys: db.prepare<[string, string, number, number], KvRow>(
      `SELECT key, type, NULL AS value, version, expires_at FROM kv
       WHERE key >= ? AND key < ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?`,
    ),
    kvExpiring: db.prepare<[], { key: string; expires_at: number }>('SELECT key, expires_at FROM kv WHERE expires_at IS NOT NULL'),
    memberAdd: db.prepare<[string, string]>('INSERT OR IGNORE INTO kv_members (key, member) VALUES (?, ?)'),
    memberRemove: db.prepare<[string, string]>('DELETE FROM kv_members WHERE key = ? AND member = ?'),
    membersClear: db.prepare<[string]>('DELETE FROM kv_members WHERE key = ?'),
    members: db.prepare<[string], { member: string }>('SELECT member FROM kv_members WHERE key = ? ORDER BY member'),
    memberCount: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM kv_members WHERE key = ?'),
    revision: db.prepare<[], { revision: number }>('SELECT revision FROM kv_revision WHERE id = 1'),
    setRevision: db.prepare<[number]>('UPDATE kv_revision SET revision = ? WHERE id = 1'),

    artifactGet: db.prepare<[string], ArtifactRow>(`SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE key = ?`),
    artifactUpsert: db.prepare<ArtifactParams>(
      `INSERT INTO artifacts (${ARTIFACT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, run_id = excluded.run_id,
         job_id = excluded.job_id, attempt = excluded.attempt, created_at = excluded.created_at`,
    ),
    artifactDelete: db.prepare<[string]>('DELETE FROM artifacts WHERE key = ?'),
    artifactReferenced: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM artifacts WHERE sha256 = ? LIMIT 1'),
    artifactList: db.prepare<[string, string, number], ArtifactRow>(
      `SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE key >= ? AND key < ? ORDER BY key LIMIT ?`,
    ),
    artifactListRun: db.prepare<[string, string, string, number], ArtifactRow>(
      `SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE run_id = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
    ),
  };
}

type Statements = ReturnType<typeof prepare>;

export class SqliteDataBusStore implements DataBusStore {
  private readonly s: Statements;
  private readonly applyTx: (ops: readonly KvOp[], now: number) => KvOutcome[];
  private readonly putArtifactTx: (info: ArtifactInfo) => string | null;
  private readonly deleteArtifactTx: (key: string) => { deleted: boolean; orphaned: string | null };

  constructor(db: Database.Database) {
    this.s = prepare(db);
    this.applyTx = db.transaction((ops: readonly KvOp[], now: number) => new KvBatch(this.s, now).applyAll(ops)).immediate;
    this.putArtifactTx = db.transaction((info: ArtifactInfo) => {
      const old = this.s.artifactGet.get(info.key);
      this.s.artifactUpsert.run(...artifactParams(info));
      return old && old.sha256 !== info.sha256 ? this.orphan(old.sha256) : null;
    }).immediate;
    this.deleteArtifactTx = db.transaction((key: string) => {
      const old = this.s.artifactGet.get(key);
      if (!old) return { deleted: false, orphaned: null };
      this.s.artifactDelete.run(key);
      return { deleted: true, orphaned: this.orphan(old.sha256) };
    }).immediate;
  }

  private orphan(sha256: string): string | null {
    return this.s.artifactReferenced.get(sha256) === undefined ? sha256 : null;
  }

  async kvApply(ops: readonly KvOp[], now: number): Promise<KvOutcome[]> {
    return ops.length === 0 ? [] : this.applyTx(ops, now);
  }

  async kvGet(key: string, now: number): Promise<KvStored | null> {
    const row = this.s.kvGet.get(key);
    return live(row, now) ? { ...rowToInfo(row), value: row.value } : null;
  }

  async kvMembers(key: string): Promise<string[]> {
    return this.s.members.all(key).map((r) => r.member);
  }

  async kvKeys(prefix: string, limit: number, now: number): Promise<{ keys: KvKeyInfo[]; truncated: boolean }> {
    const rows = this.s.kvKeys.all(prefix, prefix + END, now, limit + 1);
    return { keys: rows.slice(0, limit).map(rowToInfo), truncated: rows.length > limit };
  }

  async kvExpiring(): Promise<{ key: string; expiresAt: number }[]> {
    return this.s.kvExpiring.all().map((r) => ({ key: r.key, expiresAt: r.expires_at }));
  }

  async artifactPut(info: ArtifactInfo): Promise<string | null> {
    return this.putArtifactTx(info);
  }

  async artifactGet(key: string): Promise<ArtifactInfo | null> {
    const row = this.s.artifactGet.get(key);
    return row ? rowToArtifact(row) : null;
  }

  async artifactList(options: { prefix: string; runId?: string; limit: number }): Promise<{ artifacts: ArtifactInfo[]; truncated: boolean }> {
    const { prefix, runId, limit } = options;
    const rows = runId === undefined ? this.s.artifactList.all(prefix, prefix + END, limit + 1) : this.s.artifactListRun.all(runId, prefix, prefix + END, limit + 1);
    return { artifacts: rows.slice(0, limit).map(rowToArtifact), truncated: rows.length > limit };
  }

  async artifactDelete(key: string): Promise<{ deleted: boolean; orphaned: string | null }> {
    return this.deleteArtifactTx(key);
  }
}

/** One kvApply transaction: the ops in order, drawing versions from the shared revision counter. */
class KvBatch {
  private revision: number;
  private readonly start: number;

  constructor(
    private readonly s: Statements,
    private readonly now: number,
  ) {
    this.revision = s.revision.get()?.revision ?? 0;
    this.start = this.revision;
  }

  applyAll(ops: readonly KvOp[]): KvOutcome[] {
    const outcomes = ops.map((op) => this.apply(op));
    if (this.revision !== this.start) this.s.setRevision.run(this.revision);
    return outcomes;
  }

  private apply(op: KvOp): KvOutcome {
    const stored = this.s.kvGet.get(op.key);
    // An expired key is removed first, so every op below sees it as absent; the removal alone
    // is a change that waiters must hear about.
    const expired = stored !== undefined && !live(stored, this.now);
    if (expired) this.remove(op.key);
    const row = expired ? undefined : stored;
    const unchanged = (count: number): KvOutcome =>
      row ? { ok: true, changed: expired, version: row.version, value: row.value, expiresAt: row.expires_at, count } : { ok: true, changed: expired, version: 0, value: null, expiresAt: null, count };

    switch (op.op) {
      case 'set':
        return this.write(op.key, op.value, op.ttlMs === null ? null : this.now + op.ttlMs, row, 1);
      case 'del':
        return row ? this.removed(op.key, 1) : unchanged(0);
      case 'incr': {
        if (row?.type === 'set') return wrongType(op.key, 'set', 'an integer');
        const current = row?.value == null ? 0 : parseKvInteger(row.value);
        if (current === null) return conflict(`the value of key "${op.key}" is not an integer: ${excerpt(row?.value ?? '')}`);
        const next = current + op.by;
        if (!Number.isSafeInteger(next)) return conflict(`incrementing key "${op.key}" by ${op.by} leaves the safe integer range (±${Number.MAX_SAFE_INTEGER})`);
        // Like Redis, an increment keeps the key's expiry.
        return this.write(op.key, String(next), row?.expires_at ?? null, row, next);
      }
      case 'cas': {
        if (row?.type === 'set') return wrongType(op.key, 'set', 'a string');
        if ((row?.value ?? null) !== op.expected) return unchanged(0);
        if (op.value !== null) return this.write(op.key, op.value, op.ttlMs === null ? null : this.now + op.ttlMs, row, 1);
        return row ? this.removed(op.key, 1) : unchanged(1);
      }
      case 'sadd':
        return row?.type === 'string' ? wrongType(op.key, 'string', 'a set') : this.addMembers(op.key, op.members, row);
      case 'srem':
        if (row?.type === 'string') return wrongType(op.key, 'string', 'a set');
        return row ? this.removeMembers(op.key, op.members, row) : unchanged(0);
      case 'expire':
        return unchanged(0);
    }
  }

  private nextVersion(): number {
    return ++this.revision;
  }

  private write(key: string, value: string, expiresAt: number | null, previous: KvRow | undefined, count: number): KvOutcome {
    if (previous?.type === 'set') this.s.membersClear.run(key);
    const version = this.nextVersion();
    this.s.kvWrite.run(key, 'string', value, version, expiresAt, this.now);
    return { ok: true, changed: true, version, value, expiresAt, count };
  }

  private remove(key: string): void {
    this.s.kvDelete.run(key);
    this.s.membersClear.run(key);
  }

  private removed(key: string, count: number): KvOutcome {
    this.remove(key);
    return { ok: true, changed: true, version: 0, value: null, expiresAt: null, count };
  }

  private addMembers(key: string, members: readonly string[], row: KvRow | undefined): KvOutcome {
    const added: string[] = [];
    for (const m of members) if (this.s.memberAdd.run(key, m).changes > 0) added.push(m);
    if (added.length === 0) {
      return row ? { ok: true, changed: false, version: row.version, value: null, expiresAt: row.expires_at, count: 0 } : { ok: true, changed: false, version: 0, value: null, expiresAt: null, count: 0 };
    }
    if ((this.s.memberCount.get(key)?.n ?? 0) > DATA_LIMITS.maxSetMembers) {
      for (const m of added) this.s.memberRemove.run(key, m);
      return conflict(`set "${key}" would exceed ${DATA_LIMITS.maxSetMembers} members`);
    }
    const version = this.nextVersion();
    // A new set has no expiry; an existing one keeps its own.
    const expiresAt = row?.expires_at ?? null;
    this.s.kvWrite.run(key, 'set', null, version, expiresAt, this.now);
    return { ok: true, changed: true, version, value: null, expiresAt, count: added.length };
  }

  private removeMembers(key: string, members: readonly string[], row: KvRow): KvOutcome {
    let removed = 0;
    for (const m of members) removed += this.s.memberRemove.run(key, m).changes;
    if (removed === 0) return { ok: true, changed: false, version: row.version, value: null, expiresAt: row.expires_at, count: 0 };
    // Like Redis, a set that loses its last member no longer exists.
    if ((this.s.memberCount.get(key)?.n ?? 0) === 0) return this.removed(key, removed);
    const version = this.nextVersion();
    this.s.kvTouch.run(version, this.now, key);
    return { ok: true, changed: true, version, value: null, expiresAt: row.expires_at, count: removed };
  }
}
