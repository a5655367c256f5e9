/**
 * The audit log and named identities in Redis (layout in redis-keys.ts): an append and each
 * identity change is one fenced script; reads are plain commands.
 */
import type { AuditBatch, StoredAuditEntry, StoredIdentity } from './access-store.js';
import { auditLimit } from './access-store.js';
import type { RedisConnection } from './redis-connection.js';
import type { WriteScript } from './redis-data-bus.js';
import { KEY } from './redis-keys.js';

const field = (kind: StoredIdentity['kind'], name: string): string => `${kind}:${name}`;
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** "<seq> <JSON>" as the append script stored it, from a draft this store wrote. */
function toEntry(member: string): StoredAuditEntry {
  const space = member.indexOf(' ');
  return { seq: Number(member.slice(0, space)), ...(JSON.parse(member.slice(space + 1)) as Omit<StoredAuditEntry, 'seq'>) };
}

export class RedisAccess {
  constructor(
    private readonly c: RedisConnection,
    private readonly write: WriteScript,
  ) {}

  async auditAppend(batch: AuditBatch): Promise<void> {
    if (batch.entries.length === 0) return;
    const json = batch.entries.map((e) => JSON.stringify({ at: e.at, who: e.who, kind: e.kind, via: e.via, from: e.from, action: e.action, target: e.target, ok: e.ok, ...(e.error !== undefined && { error: e.error }) }));
    await this.write('titanAuditAppend', [batch.id, Math.max(0, Math.floor(batch.keep)), ...json]);
  }

  async auditList(limit: number, before?: number): Promise<StoredAuditEntry[]> {
    const n = auditLimit(limit);
    if (n === null) return [];
    const members = await this.c.call(() => this.c.redis.zrevrangebyscore(KEY.audit, before === undefined ? '+inf' : `(${before}`, '-inf', 'LIMIT', 0, n));
    return members.map(toEntry);
  }

  async identityList(): Promise<StoredIdentity[]> {
    const all = await this.c.call(() => this.c.redis.hgetall(KEY.identities));
    const rows = Object.entries(all).map(([key, body]): StoredIdentity => {
      const colon = key.indexOf(':');
      return { kind: key.slice(0, colon) === 'user' ? 'user' : 'token', name: key.slice(colon + 1), body };
    });
    return rows.sort((a, b) => (a.kind === b.kind ? byteOrder(a.name, b.name) : a.kind === 'token' ? -1 : 1));
  }

  async identityAdd(identity: StoredIdentity): Promise<boolean> {
    return (await this.write('titanIdentityAdd', [field(identity.kind, identity.name), identity.body])) === 1;
  }

  async identityRemove(kind: StoredIdentity['kind'], name: string): Promise<boolean> {
    return (await this.write('titanIdentityRemove', [field(kind, name)])) === 1;
  }
}
