/**
 * The data bus (its keys and artifact metadata) in Redis. A key `k` lives where Titan kept it, at
 * `user:k` (a plain string, or a Redis set for a set key), so tools that read Titan's keys keep
 * working; its version and expiry sit beside it in `titan:kv:meta`. A kvApply batch is one Lua
 * script: each op reads, decides and writes inside it, exactly as the SQLite store's transaction
 * does. Expiry follows the stored `expiresAt` checked at `now` (Redis TTLs are not used: the
 * master's clock, not the server's, decides), and the master's expiry timers remove due keys.
 */
import type { ArtifactInfo, KvKeyInfo, KvOp, KvOutcome, KvType } from '../core/data.js';
import { DATA_LIMITS } from '../core/data.js';
import type { DataBusStore, KvStored } from './data-bus-store.js';
import type { RedisConnection } from './redis-connection.js';
import { KEY } from './redis-keys.js';
import type { RedisScriptName } from './redis-scripts.js';

/** Runs a write script as the store does: fenced once the store is. */
export type WriteScript = (name: RedisScriptName, args: (string | number)[]) => Promise<unknown>;

/** Quotes a stored value for an error message without flooding it (as the SQLite store does). */
const excerpt = (text: string): string => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);

const nullable = (v: string | null): string => (v === null ? 'N' : `V${v}`);
const unnullable = (v: string): string | null => (v === 'N' ? null : v.slice(1));
const optionalNumber = (v: string): number | null => (v === '' ? null : Number(v));

/** Byte order (UTF-8), as SQLite's BINARY collation and Redis's lexicographic ranges sort. */
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function encodeOps(ops: readonly KvOp[]): string[] {
  const args: string[] = [String(ops.length)];
  for (const op of ops) {
    args.push(op.op, op.key);
    switch (op.op) {
      case 'set':
        args.push(op.value, op.ttlMs === null ? '' : String(op.ttlMs));
        break;
      case 'incr':
        args.push(String(op.by));
        break;
      case 'cas':
        args.push(nullable(op.expected), nullable(op.value), op.ttlMs === null ? '' : String(op.ttlMs));
        break;
      case 'sadd':
      case 'srem':
        args.push(String(op.members.length), ...op.members);
        break;
      case 'del':
      case 'expire':
        break;
    }
  }
  return args;
}

function decodeOutcome(op: KvOp, reply: readonly string[]): KvOutcome {
  const [flag = '', a = '', b = '', c = '', d = '', e = ''] = reply;
  if (flag === '1') return { ok: true, changed: a === '1', version: Number(b), value: unnullable(c), expiresAt: optionalNumber(d), count: Number(e) };
  const conflict = (message: string): KvOutcome => ({ ok: false, code: 'CONFLICT', message });
  switch (a) {
    case 'type':
      return conflict(`key "${op.key}" holds a ${b}, not ${c}`);
    case 'notint':
      return conflict(`the value of key "${op.key}" is not an integer: ${excerpt(b)}`);
    case 'range':
      return conflict(`incrementing key "${op.key}" by ${op.op === 'incr' ? op.by : 0} leaves the safe integer range (±${Number.MAX_SAFE_INTEGER})`);
    case 'toobig':
      return conflict(`set "${op.key}" would exceed ${DATA_LIMITS.maxSetMembers} members`);
    default:
      return conflict(`key "${op.key}": the Redis store could not apply the op (${a})`);
  }
}

export class RedisDataBusStore implements DataBusStore {
  constructor(
    private readonly c: RedisConnection,
    private readonly write: WriteScript,
  ) {}

  unavailable(): Error | null {
    return this.c.unavailable();
  }

  async kvApply(ops: readonly KvOp[], now: number): Promise<KvOutcome[]> {
    if (ops.length === 0) return [];
    const replies = (await this.write('titanKvApply', [String(now), String(DATA_LIMITS.maxSetMembers), ...encodeOps(ops)])) as string[][];
    return ops.map((op, i) => decodeOutcome(op, replies[i] ?? []));
  }

  async kvGet(key: string, now: number): Promise<KvStored | null> {
    const reply = (await this.c.script('titanKvGet', [key, String(now)])) as [string, string, string, string] | null;
    if (reply === null) return null;
    const [type, value, version, expiresAt] = reply;
    return { key, type: type as KvType, version: Number(version), expiresAt: optionalNumber(expiresAt), value: unnullable(value) };
  }

  async kvMembers(key: string): Promise<string[]> {
    const members = (await this.c.script('titanKvMembers', [key])) as string[];
    return members.sort(byteOrder);
  }

  async kvKeys(prefix: string, limit: number, now: number): Promise<{ keys: KvKeyInfo[]; truncated: boolean }> {
    if (!(limit > 0)) return { keys: [], truncated: false };
    const flat = (await this.c.script('titanKvKeys', [prefix, String(limit + 1), String(now)])) as string[];
    const keys: KvKeyInfo[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) {
      keys.push({ key: flat[i] as string, type: flat[i + 1] as KvType, version: Number(flat[i + 2]), expiresAt: optionalNumber(flat[i + 3] as string) });
    }
    return { keys: keys.slice(0, limit), truncated: keys.length > limit };
  }

  async kvExpiring(): Promise<{ key: string; expiresAt: number }[]> {
    const flat = await this.c.call(() => this.c.redis.zrange(KEY.kvExpiring, '0', '-1', 'WITHSCORES'));
    const out: { key: string; expiresAt: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ key: flat[i] as string, expiresAt: Number(flat[i + 1]) });
    return out;
  }

  async artifactPut(info: ArtifactInfo): Promise<string | null> {
    const orphan = (await this.write('titanArtifactPut', [info.key, info.sha256, info.runId ?? '', JSON.stringify(artifactRecord(info))])) as string | null;
    return orphan ?? null;
  }

  async artifactGet(key: string): Promise<ArtifactInfo | null> {
    const json = await this.c.call(() => this.c.redis.hget(KEY.artifacts, key));
    // Written by this store from an ArtifactInfo.
    return json === null ? null : (JSON.parse(json) as ArtifactInfo);
  }

  async artifactList(options: { prefix: string; runId?: string; limit: number }): Promise<{ artifacts: ArtifactInfo[]; truncated: boolean }> {
    const { prefix, runId, limit } = options;
    if (!(limit > 0)) return { artifacts: [], truncated: false };
    const rows = (await this.c.script('titanArtifactList', [prefix, runId ?? '', String(limit + 1)])) as string[];
    const artifacts = rows.map((json) => JSON.parse(json) as ArtifactInfo);
    return { artifacts: artifacts.slice(0, limit), truncated: artifacts.length > limit };
  }

  async artifactDelete(key: string): Promise<{ deleted: boolean; orphaned: string | null }> {
    const [deleted = '0', orphaned = ''] = (await this.write('titanArtifactDelete', [key])) as string[];
    return { deleted: deleted === '1', orphaned: orphaned === '' ? null : orphaned };
  }
}

/** The fields of an ArtifactInfo in a fixed order, whatever else the object carries. */
const artifactRecord = (a: ArtifactInfo): ArtifactInfo => ({ key: a.key, sha256: a.sha256, size: a.size, runId: a.runId, jobId: a.jobId, attempt: a.attempt, createdAt: a.createdAt });
