/**
 * What the SQL stores share about the data bus: the rows of its tables, their conversion, and the
 * decision each key op makes from the key's row (the Redis store makes the same decisions in Lua).
 * Pure: a backend reads the row, asks `planKvOp`, and carries out the step in its own statements.
 */
import type { ArtifactInfo, KvKeyInfo, KvOp, KvOutcome, KvType } from '../core/data.js';
import { parseKvInteger } from '../core/data.js';

export interface KvRow {
  key: string;
  type: string;
  value: string | null;
  version: number;
  expires_at: number | null;
}

export interface ArtifactRow {
  key: string;
  sha256: string;
  size: number;
  run_id: string | null;
  job_id: string | null;
  attempt: number | null;
  created_at: number;
}

export const ARTIFACT_COLUMNS = 'key, sha256, size, run_id, job_id, attempt, created_at';
/** Above every character of the key alphabets, so `[prefix, prefix + END)` is a prefix range. */
export const END = '\u{10ffff}';

export const rowToInfo = (r: KvRow): KvKeyInfo => ({ key: r.key, type: r.type as KvType, version: r.version, expiresAt: r.expires_at });

export const rowToArtifact = (r: ArtifactRow): ArtifactInfo => ({ key: r.key, sha256: r.sha256, size: r.size, runId: r.run_id, jobId: r.job_id, attempt: r.attempt, createdAt: r.created_at });

export const live = (row: KvRow | undefined, now: number): row is KvRow => row !== undefined && (row.expires_at === null || row.expires_at > now);

/** Quotes a stored value for an error message without flooding it. */
const excerpt = (text: string): string => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);

export const conflict = (message: string): KvOutcome => ({ ok: false, code: 'CONFLICT', message });
const wrongType = (key: string, has: string, wanted: string): KvOutcome => conflict(`key "${key}" holds a ${has}, not ${wanted}`);

/** What a key op does to its key, given the key's live row (undefined: absent or just expired). */
export type KvStep =
  | { step: 'write'; value: string; expiresAt: number | null; count: number }
  | { step: 'remove'; count: number }
  | { step: 'addMembers'; members: readonly string[] }
  | { step: 'removeMembers'; members: readonly string[]; row: KvRow }
  | { step: 'answer'; outcome: KvOutcome };

/** `expired`: the key's row expired and was just removed, a change that waiters must hear about. */
export function planKvOp(op: KvOp, row: KvRow | undefined, expired: boolean, now: number): KvStep {
  const unchanged = (count: number): KvStep => ({
    step: 'answer',
    outcome: row ? { ok: true, changed: expired, version: row.version, value: row.value, expiresAt: row.expires_at, count } : { ok: true, changed: expired, version: 0, value: null, expiresAt: null, count },
  });
  const answer = (outcome: KvOutcome): KvStep => ({ step: 'answer', outcome });
  switch (op.op) {
    case 'set':
      return { step: 'write', value: op.value, expiresAt: op.ttlMs === null ? null : now + op.ttlMs, count: 1 };
    case 'del':
      return row ? { step: 'remove', count: 1 } : unchanged(0);
    case 'incr': {
      if (row?.type === 'set') return answer(wrongType(op.key, 'set', 'an integer'));
      const current = row?.value == null ? 0 : parseKvInteger(row.value);
      if (current === null) return answer(conflict(`the value of key "${op.key}" is not an integer: ${excerpt(row?.value ?? '')}`));
      const next = current + op.by;
      if (!Number.isSafeInteger(next)) return answer(conflict(`incrementing key "${op.key}" by ${op.by} leaves the safe integer range (±${Number.MAX_SAFE_INTEGER})`));
      // Like Redis, an increment keeps the key's expiry.
      return { step: 'write', value: String(next), expiresAt: row?.expires_at ?? null, count: next };
    }
    case 'cas': {
      if (row?.type === 'set') return answer(wrongType(op.key, 'set', 'a string'));
      if ((row?.value ?? null) !== op.expected) return unchanged(0);
      if (op.value !== null) return { step: 'write', value: op.value, expiresAt: op.ttlMs === null ? null : now + op.ttlMs, count: 1 };
      return row ? { step: 'remove', count: 1 } : unchanged(1);
    }
    case 'sadd':
      return row?.type === 'string' ? answer(wrongType(op.key, 'string', 'a set')) : { step: 'addMembers', members: op.members };
    case 'srem':
      if (row?.type === 'string') return answer(wrongType(op.key, 'string', 'a set'));
      return row ? { step: 'removeMembers', members: op.members, row } : unchanged(0);
    case 'expire':
      return unchanged(0);
  }
}
