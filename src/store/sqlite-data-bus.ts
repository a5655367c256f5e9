/**
 * The data bus (its keys and artifact metadata) in SQLite (tables of migration 0003). A kvApply
 * batch is one IMMEDIATE transaction: each op reads the key, decides and writes inside it, so
 * read-modify-write ops (incr, cas, sadd) need no lock of their own and many ops share one fsync.
 */
import type Database from 'better-sqlite3';
import type { ArtifactInfo, KvKeyInfo, KvOp, KvOutcome } from '../core/data.js';
import { DATA_LIMITS } from '../core/data.js';
import type { DataBusStore, KvStored } from './data-bus-store.js';
import { ARTIFACT_COLUMNS, type ArtifactRow, conflict, END, type KvRow, live, planKvOp, rowToArtifact, rowToInfo } from './data-bus-rows.js';



/** key, type, value, version, expires_at, updated_at */
type KvWriteParams = [string, string, string | null, number, number | null, number];
type ArtifactParams = [string, string, number, string | null, string | null, number | null, number];




const artifactParams = (a: ArtifactInfo): ArtifactParams => [a.key, a.sha256, a.size, a.runId, a.jobId, a.attempt, a.createdAt];




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
    const plan = planKvOp(op, row, expired, this.now);
    switch (plan.step) {
      case 'write':
        return this.write(op.key, plan.value, plan.expiresAt, row, plan.count);
      case 'remove':
        return this.removed(op.key, plan.count);
      case 'addMembers':
        return this.addMembers(op.key, plan.members, row);
      case 'removeMembers':
        return this.removeMembers(op.key, plan.members, plan.row);
      case 'answer':
        return plan.outcome;
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
