/**
 * The audit log and named identities in PostgreSQL (the tables of migration 0002). Every write is
 * one fenced transaction; an append inserts its entries in order, then trims the log to the newest
 * `keep`. Only the leader appends, so the numbers (an identity column) rise in the order entries
 * were recorded.
 */
import { type AuditBatch, AUDIT_COLUMNS, auditLimit, type AuditRow, type StoredAuditEntry, type StoredIdentity, toAuditEntry } from './access-store.js';
import type { PostgresConnection } from './postgres-connection.js';

export class PostgresAccess {
  constructor(private readonly c: PostgresConnection) {}

  async auditAppend(batch: AuditBatch): Promise<void> {
    if (batch.entries.length === 0) return;
    const e = batch.entries;
    await this.c.write(async (sql) => {
      if ((await sql.query('SELECT 1 FROM audit WHERE batch_id = $1 LIMIT 1', [batch.id])).rows.length > 0) return;
      // Column arrays, unnested in order: one statement whatever the batch's size.
      await sql.query(
        `INSERT INTO audit (batch_id, at, who, kind, via, from_addr, action, target, ok, error)
         SELECT $1, at, who, kind, via, from_addr, action, target, ok, error
         FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[])
           WITH ORDINALITY AS t (at, who, kind, via, from_addr, action, target, ok, error, n)
         ORDER BY n`,
        [batch.id, e.map((x) => x.at), e.map((x) => x.who), e.map((x) => x.kind), e.map((x) => x.via), e.map((x) => x.from), e.map((x) => x.action), e.map((x) => x.target), e.map((x) => x.ok), e.map((x) => x.error ?? null)],
      );
      await sql.query('DELETE FROM audit WHERE seq <= (SELECT MAX(seq) FROM audit) - $1', [Math.max(0, Math.floor(batch.keep))]);
    });
  }

  async auditList(limit: number, before?: number): Promise<StoredAuditEntry[]> {
    const n = auditLimit(limit);
    if (n === null) return [];
    const rows =
      before === undefined
        ? await this.c.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit ORDER BY seq DESC LIMIT $1`, [n])
        : await this.c.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, [before, n]);
    return rows.map(toAuditEntry);
  }

  async identityList(): Promise<StoredIdentity[]> {
    return this.c.query<StoredIdentity>("SELECT kind, name, body FROM identities ORDER BY kind = 'user', name");
  }

  async identityAdd(identity: StoredIdentity): Promise<boolean> {
    return this.c.write(async (sql) => ((await sql.query('INSERT INTO identities (kind, name, body) VALUES ($1, $2, $3) ON CONFLICT (kind, name) DO NOTHING', [identity.kind, identity.name, identity.body])).rowCount ?? 0) > 0);
  }

  async identityRemove(kind: StoredIdentity['kind'], name: string): Promise<boolean> {
    return this.c.write(async (sql) => ((await sql.query('DELETE FROM identities WHERE kind = $1 AND name = $2', [kind, name])).rowCount ?? 0) > 0);
  }
}
