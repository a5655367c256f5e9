/**
 * v2 methods of the data bus, its keys (`kv.*`) and artifacts (`artifact.*`): parameter schemas
 * and result types, merged into `params` and `Results` of methods.ts.
 */
import { z } from 'zod';
import type { ArtifactInfo, KvEntry, KvKeyInfo } from '../core/data.js';
import { ARTIFACT_CHUNK_BYTES, ArtifactKeySchema, DATA_LIMITS, KvKeySchema, KvMemberSchema, KvPrefixSchema, KvValueSchema, TtlMsSchema } from '../core/data.js';
import { IdSchema, Sha256Schema } from '../core/model.js';

const MembersSchema = z.array(KvMemberSchema).min(1, 'give at least one member').max(DATA_LIMITS.maxMembersPerCall);
const ListLimitSchema = z.number().int().min(1).max(DATA_LIMITS.maxListLimit).default(1000);
export const UploadIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'an upload id is the 32 hex digits artifact.put.begin returned');
/** One chunk of a file, base64 (1 MiB raw at most). */
const ChunkSchema = z
  .string()
  .max(Math.ceil(ARTIFACT_CHUNK_BYTES / 3) * 4)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

export const dataBusParams = {
  'kv.get': z.strictObject({ key: KvKeySchema }),
  'kv.set': z.strictObject({ key: KvKeySchema, value: KvValueSchema, ttlMs: TtlMsSchema.optional() }),
  'kv.del': z.strictObject({ key: KvKeySchema }),
  'kv.incr': z.strictObject({ key: KvKeySchema, by: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).default(1) }),
  /** `expected: null` means "the key is absent"; `value: null` deletes it. */
  'kv.cas': z.strictObject({ key: KvKeySchema, expected: KvValueSchema.nullable(), value: KvValueSchema.nullable(), ttlMs: TtlMsSchema.optional() }),
  'kv.sadd': z.strictObject({ key: KvKeySchema, members: MembersSchema }),
  'kv.srem': z.strictObject({ key: KvKeySchema, members: MembersSchema }),
  'kv.smembers': z.strictObject({ key: KvKeySchema }),
  'kv.keys': z.strictObject({ prefix: KvPrefixSchema.default(''), limit: ListLimitSchema }),
  /** Resolves at the key's next change, or at once if its version is no longer `sinceVersion`. */
  'kv.wait': z.strictObject({ key: KvKeySchema, sinceVersion: z.number().int().nonnegative().optional(), timeoutMs: z.number().int().min(1).max(DATA_LIMITS.maxWaitMs) }),

  'artifact.put.begin': z.strictObject({
    key: ArtifactKeySchema,
    size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    runId: IdSchema.optional(),
    jobId: IdSchema.optional(),
    attempt: z.number().int().positive().optional(),
  }),
  'artifact.put.part': z.strictObject({ uploadId: UploadIdSchema, offset: z.number().int().nonnegative(), data: ChunkSchema }),
  'artifact.put.commit': z.strictObject({ uploadId: UploadIdSchema, sha256: Sha256Schema }),
  /** `sha256` pins the content: a key replaced mid-download is refused instead of mixed. */
  'artifact.get': z.strictObject({
    key: ArtifactKeySchema,
    offset: z.number().int().nonnegative().default(0),
    limit: z.number().int().min(1).max(ARTIFACT_CHUNK_BYTES).default(ARTIFACT_CHUNK_BYTES),
    sha256: Sha256Schema.optional(),
  }),
  'artifact.list': z.strictObject({ prefix: z.string().max(DATA_LIMITS.maxArtifactKeyLength).default(''), runId: IdSchema.optional(), limit: ListLimitSchema }),
  'artifact.delete': z.strictObject({ key: ArtifactKeySchema }),
} as const;

export type DataBusMethod = keyof typeof dataBusParams;

/** An upload's key, size and provenance (the attempt it comes from), as `artifact.put.begin` takes them. */
export type UploadBegin = z.infer<(typeof dataBusParams)['artifact.put.begin']>;

/** What a worker session may call besides its own methods: uploading its attempts' outputs. */
export type WorkerDataBusMethod = 'artifact.put.begin' | 'artifact.put.part' | 'artifact.put.commit';
export const WORKER_DATA_BUS_METHODS: ReadonlySet<DataBusMethod> = new Set<WorkerDataBusMethod>(['artifact.put.begin', 'artifact.put.part', 'artifact.put.commit']);
export const isWorkerDataBusMethod = (name: string): name is WorkerDataBusMethod => (WORKER_DATA_BUS_METHODS as ReadonlySet<string>).has(name);


export interface KvWaitResult {
  /** False when the timeout passed first; value and version are then the key's current state. */
  changed: boolean;
  /** The string value, or null for an absent key or a set. */
  value: string | null;
  version: number;
}

export interface DataBusResults {
  'kv.get': KvEntry;
  'kv.set': { version: number; expiresAt: number | null };
  'kv.del': { deleted: number };
  'kv.incr': { value: number; version: number };
  /** The key's state after the call: the new value when swapped, the current one when not. */
  'kv.cas': { swapped: boolean; value: string | null; version: number };
  'kv.sadd': { added: number; version: number };
  'kv.srem': { removed: number; version: number };
  'kv.smembers': { members: string[]; version: number };
  'kv.keys': { keys: KvKeyInfo[]; truncated: boolean };
  'kv.wait': KvWaitResult;
  'artifact.put.begin': { uploadId: string; chunkBytes: number };
  'artifact.put.part': { received: number };
  'artifact.put.commit': { artifact: ArtifactInfo };
  'artifact.get': { artifact: ArtifactInfo; data: string; nextOffset: number };
  'artifact.list': { artifacts: ArtifactInfo[]; truncated: boolean };
  'artifact.delete': { deleted: boolean };
}
