/**
 * The persistence of who may act and what they did, part of every Store: the audit log and the
 * named identities (tokens and dashboard users). Kept in the store rather than in a master's files,
 * so that every master sharing a store records into one audit log and knows every identity the
 * leader before it created. Each write resolves once it is durable and is fenced like a commit.
 */

/** One audit entry as a master records it; the store numbers it. */
export interface AuditDraft {
  at: number;
  who: string;
  kind: string;
  via: string;
  from: string;
  action: string;
  target: string | null;
  ok: boolean;
  error?: string;
}

/** An audit entry as stored: `seq` is the store's, unique and rising across every master. */
export interface StoredAuditEntry extends AuditDraft {
  seq: number;
}

export interface AuditBatch {
  /** Names the batch: appending it again (a retry after a lost reply) adds nothing. */
  id: string;
  /** In the order they are numbered. */
  entries: AuditDraft[];
  /** How many of the newest entries the store keeps once this batch is in (older ones are deleted). */
  keep: number;
}

/**
 * A named token or dashboard user. `body` is the server's own JSON (roles, hashes, who created it
 * and when), stored as it is and checked when it is read back; secrets are never in it.
 */
export interface StoredIdentity {
  kind: 'token' | 'user';
  name: string;
  body: string;
}

export interface AccessStore {
  /** Appends the entries in one durable transaction, numbering them, and trims the log to `keep`. */
  auditAppend(batch: AuditBatch): Promise<void>;
  /** Newest first, at most `limit`, only entries numbered below `before` when given. */
  auditList(limit: number, before?: number): Promise<StoredAuditEntry[]>;
  /** Every identity, tokens then users, each by name in byte order. */
  identityList(): Promise<StoredIdentity[]>;
  /** Adds the identity; false (and nothing written) when one of that kind and name exists. */
  identityAdd(identity: StoredIdentity): Promise<boolean>;
  /** Removes it; false when there was none. */
  identityRemove(kind: StoredIdentity['kind'], name: string): Promise<boolean>;
}

/** The audit columns of the SQL stores, in the order of their rows below. */
export const AUDIT_COLUMNS = 'seq, at, who, kind, via, from_addr, action, target, ok, error';

export interface AuditRow {
  seq: number;
  at: number;
  who: string;
  kind: string;
  via: string;
  from_addr: string;
  action: string;
  target: string | null;
  ok: number | boolean;
  error: string | null;
}

export const toAuditEntry = (r: AuditRow): StoredAuditEntry => ({
  seq: r.seq,
  at: r.at,
  who: r.who,
  kind: r.kind,
  via: r.via,
  from: r.from_addr,
  action: r.action,
  target: r.target,
  ok: r.ok === true || r.ok === 1,
  ...(r.error !== null && { error: r.error }),
});

/** The LIMIT of an audit listing (SQLite and Lua take integers), or null when nothing is asked for. */
export const auditLimit = (limit: number): number | null => (limit > 0 ? Math.min(Math.floor(limit), 1_000_000) : null);
