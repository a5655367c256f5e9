/**
 * The data bus and artifact metadata in PostgreSQL, with the SQLite store's semantics. A kvApply
 * batch is one fenced transaction that first locks the revision counter's row: batches apply one
 * after the other, so each op can read, decide and write without a lock of its own. Artifact
 * writes take a transaction-scoped advisory lock, so that "is this content still referenced?"
 * is answered with no other artifact write in between.
 */
import type { ArtifactInfo, KvKeyInfo, KvOp, KvOutcome } from '../core/data.js';
import { DATA_LIMITS } from '../core/data.js';
import type { DataBusStore, KvStored } from './data-bus-store.js';
import { ARTIFACT_COLUMNS, type ArtifactRow, conflict, END, type KvRow, live, planKvOp, rowToArtifact, rowToInfo } from './data-bus-rows.js';
import type { PostgresConnection, Sql } from './postgres-connection.js';



/** The advisory lock key of artifact writes. */
const ARTIFACT_LOCK = 7_461_620_191;






const SELECT_KV = 'SELECT key, type, value, version, expires_at FROM kv WHERE key = $1';

export class PostgresDataBusStore implements DataBusStore {
  constructor(private readonly c: PostgresConnection) {}

  async kvApply(ops: readonly KvOp[], now: number): Promise<KvOutcome[]> {
    if (ops.length === 0) return [];
    return this.c.write(async (sql) => {
      const [row] = (await sql.query<{ revision: number }>('SELECT revision FROM kv_revision WHERE id = 1 FOR UPDATE')).rows;
      const batch = new KvBatch(sql, now, row?.revision ?? 0);
      const outcomes: KvOutcome[] = [];
      for (const op of ops) outcomes.push(await batch.apply(op));
      await batch.finish();
      return outcomes;
    });
  }

  async kvGet(key: string, now: number): Promise<KvStored | null> {
    const [row] = await this.c.query<KvRow>(SELECT_KV, [key]);
    return live(row, now) ? { ...rowToInfo(row), value: row.value } : null;
  }

  async kvMembers(key: string): Promise<string[]> {
    return (await this.c.query<{ member: string }>('SELECT member FROM kv_members WHERE key = $1 ORDER BY member', [key])).map((r) => r.member);
  }

  async kvKeys(prefix: string, limit: number, now: number): Promise<{ keys: KvKeyInfo[]; truncated: boolean }> {
    const rows = await this.c.query<KvRow>(
      `SELECT key, type, NULL AS value, version, expires_at FROM kv
       WHERE key >= $1 AND key < $2 AND (expires_at IS NULL OR expires_at > $3) ORDER BY key LIMIT $4`,
      [prefix, prefix + END, now, limit + 1],
    );
    return { keys: rows.slice(0, limit).map(rowToInfo), truncated: rows.length > limit };
  }

  async kvExpiring(): Promise<{ key: string; expiresAt: number }[]> {
    return (await this.c.query<{ key: string; expires_at: number }>('SELECT key, expires_at FROM kv WHERE expires_at IS NOT NULL')).map((r) => ({ key: r.key, expiresAt: r.expires_at }));
  }

  artifactPut(info: ArtifactInfo): Promise<string | null> {
    return this.c.write(async (sql) => {
      await sql.query('SELECT pg_advisory_xact_lock($1)', [ARTIFACT_LOCK]);
      const [old] = (await sql.query<{ sha256: string }>('SELECT sha256 FROM artifacts WHERE key = $1', [info.key])).rows;
      await sql.query(
        `INSERT INTO artifacts (${ARTIFACT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (key) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, run_id = excluded.run_id,
           job_id = excluded.job_id, attempt = excluded.attempt, created_at = excluded.created_at`,
        [info.key, info.sha256, info.size, info.runId, info.jobId, info.attempt, info.createdAt],
      );
      return old && old.sha256 !== info.sha256 ? orphan(sql, old.sha256) : null;
    });
  }

  async artifactGet(key: string): Promise<ArtifactInfo | null> {
    const [row] = await this.c.query<ArtifactRow>(`SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE key = $1`, [key]);
    return row ? rowToArtifact(row) : null;
  }

  async artifactList(options: { prefix: string; runId?: string; limit: number }): Promise<{ artifacts: ArtifactInfo[]; truncated: boolean }> {
    const { prefix, runId, limit } = options;
    const rows =
      runId === undefined
        ? await this.c.query<ArtifactRow>(`SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3`, [prefix, prefix + END, limit + 1])
        : await this.c.query<ArtifactRow>(`SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE run_id = $1 AND key >= $2 AND key < $3 ORDER BY key LIMIT $4`, [runId, prefix, prefix + END, limit + 1]);
    return { artifacts: rows.slice(0, limit).map(rowToArtifact), truncated: rows.length > limit };
  }

  artifactDelete(key: string): Promise<{ deleted: boolean; orphaned: string | null }> {
    return this.c.write(async (sql) => {
      await sql.query('SELECT pg_advisory_xact_lock($1)', [ARTIFACT_LOCK]);
      const [old] = (await sql.query<{ sha256: string }>('DELETE FROM artifacts WHERE key = $1 RETURNING sha256', [key])).rows;
      return old ? { deleted: true, orphaned: await orphan(sql, old.sha256) } : { deleted: false, orphaned: null };
    });
  }
}

/** The content hash when no key references it any more, else null. */
async function orphan(sql: Sql, sha256: string): Promise<string | null> {
  return (await sql.query('SELECT 1 FROM artifacts WHERE sha256 = $1 LIMIT 1', [sha256])).rowCount === 0 ? sha256 : null;
}

/** One kvApply transaction: the ops in order, drawing versions from the shared revision counter. */
class KvBatch {
  private revision: number;
  private readonly start: number;

  constructor(
    private readonly sql: Sql,
    private readonly now: number,
    revision: number,
  ) {
    this.revision = revision;
    this.start = revision;
  }

  async finish(): Promise<void> {
    if (this.revision !== this.start) await this.sql.query('UPDATE kv_revision SET revision = $1 WHERE id = 1', [this.revision]);
  }

  async apply(op: KvOp): Promise<KvOutcome> {
    const [stored] = (await this.sql.query<KvRow>(SELECT_KV, [op.key])).rows;
    // An expired key is removed first, so every op below sees it as absent; the removal alone
    // is a change that waiters must hear about.
    const expired = stored !== undefined && !live(stored, this.now);
    if (expired) await this.remove(op.key);
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

  private async upsert(key: string, type: string, value: string | null, version: number, expiresAt: number | null): Promise<void> {
    await this.sql.query(
      `INSERT INTO kv (key, type, value, version, expires_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (key) DO UPDATE SET type = excluded.type, value = excluded.value, version = excluded.version,
         expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
      [key, type, value, version, expiresAt, this.now],
    );
  }

  private async write(key: string, value: string, expiresAt: number | null, previous: KvRow | undefined, count: number): Promise<KvOutcome> {
    if (previous?.type === 'set') await this.sql.query('DELETE FROM kv_members WHERE key = $1', [key]);
    const version = ++this.revision;
    await this.upsert(key, 'string', value, version, expiresAt);
    return { ok: true, changed: true, version, value, expiresAt, count };
  }

  private async remove(key: string): Promise<void> {
    await this.sql.query('DELETE FROM kv WHERE key = $1', [key]);
    await this.sql.query('DELETE FROM kv_members WHERE key = $1', [key]);
  }

  private async removed(key: string, count: number): Promise<KvOutcome> {
    await this.remove(key);
    return { ok: true, changed: true, version: 0, value: null, expiresAt: null, count };
  }

  private async memberCount(key: string): Promise<number> {
    return (await this.sql.query<{ n: number }>('SELECT COUNT(*) AS n FROM kv_members WHERE key = $1', [key])).rows[0]?.n ?? 0;
  }

  private async addMembers(key: string, members: readonly string[], row: KvRow | undefined): Promise<KvOutcome> {
    const added = (await this.sql.query<{ member: string }>('INSERT INTO kv_members (key, member) SELECT $1, m FROM unnest($2::text[]) AS m ON CONFLICT DO NOTHING RETURNING member', [key, [...new Set(members)]])).rows.map((r) => r.member);
    if (added.length === 0) {
      return row ? { ok: true, changed: false, version: row.version, value: null, expiresAt: row.expires_at, count: 0 } : { ok: true, changed: false, version: 0, value: null, expiresAt: null, count: 0 };
    }
    if ((await this.memberCount(key)) > DATA_LIMITS.maxSetMembers) {
      await this.sql.query('DELETE FROM kv_members WHERE key = $1 AND member = ANY($2::text[])', [key, added]);
      return conflict(`set "${key}" would exceed ${DATA_LIMITS.maxSetMembers} members`);
    }
    const version = ++this.revision;
    // A new set has no expiry; an existing one keeps its own.
    const expiresAt = row?.expires_at ?? null;
    await this.upsert(key, 'set', null, version, expiresAt);
    return { ok: true, changed: true, version, value: null, expiresAt, count: added.length };
  }

  private async removeMembers(key: string, members: readonly string[], row: KvRow): Promise<KvOutcome> {
    const removed = (await this.sql.query('DELETE FROM kv_members WHERE key = $1 AND member = ANY($2::text[])', [key, [...new Set(members)]])).rowCount ?? 0;
    if (removed === 0) return { ok: true, changed: false, version: row.version, value: null, expiresAt: row.expires_at, count: 0 };
    // Like Redis, a set that loses its last member no longer exists.
    if ((await this.memberCount(key)) === 0) return this.removed(key, removed);
    const version = ++this.revision;
    await this.sql.query('UPDATE kv SET version = $1, updated_at = $2 WHERE key = $3', [version, this.now, key]);
    return { ok: true, changed: true, version, value: null, expiresAt: row.expires_at, count: removed };
  }
}
