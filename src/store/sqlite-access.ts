/**
 * The audit log and named identities in SQLite (the tables of migration 0009). An append is one
 * transaction: its entries, then the trim to the newest `keep`.
 */
import type Database from 'better-sqlite3';
import { type AuditBatch, AUDIT_COLUMNS, auditLimit, type AuditRow, type StoredAuditEntry, type StoredIdentity, toAuditEntry } from './access-store.js';

function prepare(db: Database.Database) {
  return {
    batchSeen: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM audit WHERE batch_id = ? LIMIT 1'),
    insert: db.prepare<[string, number, string, string, string, string, string, string | null, number, string | null]>(
      'INSERT INTO audit (batch_id, at, who, kind, via, from_addr, action, target, ok, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    trim: db.prepare<[number]>('DELETE FROM audit WHERE seq <= (SELECT MAX(seq) FROM audit) - ?'),
    newest: db.prepare<[number], AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit ORDER BY seq DESC LIMIT ?`),
    before: db.prepare<[number, number], AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?`),
    identities: db.prepare<[], StoredIdentity>("SELECT kind, name, body FROM identities ORDER BY kind = 'user', name"),
    addIdentity: db.prepare<[string, string, string]>('INSERT INTO identities (kind, name, body) VALUES (?, ?, ?) ON CONFLICT (kind, name) DO NOTHING'),
    removeIdentity: db.prepare<[string, string]>('DELETE FROM identities WHERE kind = ? AND name = ?'),
  };
}

export class SqliteAccess {
  private readonly s: ReturnType<typeof prepare>;
  private readonly append: (batch: AuditBatch) => void;

  constructor(db: Database.Database) {
    this.s = prepare(db);
    this.append = db.transaction((batch: AuditBatch) => {
      if (this.s.batchSeen.get(batch.id) !== undefined) return;
      for (const e of batch.entries) this.s.insert.run(batch.id, e.at, e.who, e.kind, e.via, e.from, e.action, e.target, e.ok ? 1 : 0, e.error ?? null);
      this.s.trim.run(Math.max(0, Math.floor(batch.keep)));
    }).immediate;
  }

  async auditAppend(batch: AuditBatch): Promise<void> {
    if (batch.entries.length > 0) this.append(batch);
  }

  async auditList(limit: number, before?: number): Promise<StoredAuditEntry[]> {
    const n = auditLimit(limit);
    if (n === null) return [];
    return (before === undefined ? this.s.newest.all(n) : this.s.before.all(before, n)).map(toAuditEntry);
  }

  async identityList(): Promise<StoredIdentity[]> {
    return this.s.identities.all();
  }

  async identityAdd(identity: StoredIdentity): Promise<boolean> {
    return this.s.addIdentity.run(identity.kind, identity.name, identity.body).changes > 0;
  }

  async identityRemove(kind: StoredIdentity['kind'], name: string): Promise<boolean> {
    return this.s.removeIdentity.run(kind, name).changes > 0;
  }
}
