/**
 * The data bus: its keys (a durable key-value store with sets) and artifacts (files kept on the
 * master): key rules, limits, and the records shared by protocol, store, master, SDK and CLI.
 */
import { z } from 'zod';
import { DATA_LIMITS, KV_KEY_CHARS_TEXT, KV_KEY_PATTERN, KV_PREFIX_PATTERN } from './data-rules.js';
import { utf8ByteLength } from './utf8.js';
import { hasNoNul, NUL_RULE } from './stored-text.js';

export { DATA_LIMITS } from './data-rules.js';

/** Bytes of artifact data per chunk on the wire (base64 in v2 frames). */
export const ARTIFACT_CHUNK_BYTES = 1024 * 1024;

/**
 * A data bus key. The alphabet is small and URL-safe so a key works unescaped in the HTTP path
 * and on a command line; a namespace is only a convention, `ns:key` (a Redis store keeps every key
 * under `user:`, as Titan's master did).
 */
export const KvKeySchema = z
  .string()
  .min(1, 'a key must not be empty')
  .max(DATA_LIMITS.maxKeyLength, `a key has at most ${DATA_LIMITS.maxKeyLength} characters`)
  .regex(KV_KEY_PATTERN, `a key may contain only ${KV_KEY_CHARS_TEXT}`);

/** A key prefix for listing: the key alphabet, or empty for every key. */
export const KvPrefixSchema = z
  .string()
  .max(DATA_LIMITS.maxKeyLength)
  .regex(KV_PREFIX_PATTERN, `a prefix may contain only ${KV_KEY_CHARS_TEXT}`);

export const KvValueSchema = z
  .string()
  .refine((v) => utf8ByteLength(v) <= DATA_LIMITS.maxValueBytes, `a value is at most ${DATA_LIMITS.maxValueBytes} bytes (1 MiB) of UTF-8`)
  .refine(hasNoNul, `a value ${NUL_RULE}`);

const CONTROL = /[\u0000-\u001f\u007f]/;

export const KvMemberSchema = z
  .string()
  .min(1, 'a set member must not be empty')
  .refine((m) => utf8ByteLength(m) <= DATA_LIMITS.maxMemberBytes, `a set member is at most ${DATA_LIMITS.maxMemberBytes} bytes`)
  .refine((m) => !CONTROL.test(m), 'a set member must not contain control characters');

export const TtlMsSchema = z.number().int().min(1, 'a TTL is at least 1 ms').max(DATA_LIMITS.maxTtlMs);

export type KvType = 'string' | 'set';

/** A key as `keys` lists it. */
export interface KvKeyInfo {
  key: string;
  type: KvType;
  version: number;
  /** Epoch ms, or null for a key that never expires. */
  expiresAt: number | null;
}

/** A string key's value with its version; version 0 and value null mean the key is absent. */
export interface KvEntry {
  value: string | null;
  version: number;
  expiresAt: number | null;
}

/**
 * One write, applied in order inside a store transaction at the batch's time. Versions come from
 * one counter across all keys, so a deleted and re-created key never repeats a version.
 */
export type KvOp =
  | { op: 'set'; key: string; value: string; ttlMs: number | null }
  | { op: 'del'; key: string }
  | { op: 'incr'; key: string; by: number }
  /** `expected` null means "absent"; `value` null deletes. */
  | { op: 'cas'; key: string; expected: string | null; value: string | null; ttlMs: number | null }
  | { op: 'sadd'; key: string; members: string[] }
  | { op: 'srem'; key: string; members: string[] }
  /** Deletes the key if it has expired by the batch's time (the TTL timer fired). */
  | { op: 'expire'; key: string };

/**
 * What one op did. `changed` says whether the key's version moved (waiters wake); `version`,
 * `value` and `expiresAt` describe the key after the op (`value` is null for a set or an absent
 * key); `count` is the op's number: members added or removed, keys deleted, 1 for a swap.
 */
export type KvOutcome =
  | { ok: true; changed: boolean; version: number; value: string | null; expiresAt: number | null; count: number }
  | { ok: false; code: 'CONFLICT'; message: string };

/** A stored integer, or null when the text is not one Redis-style (`-?digits`, safe range). */
export function parseKvInteger(text: string): number | null {
  if (!/^-?\d{1,16}$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

// ---- artifacts ----------------------------------------------------------------------------------

/** Characters of one artifact key segment: letters and digits of any script, and a few marks. */
const SEGMENT_CHARS = /^[\p{L}\p{N}\p{M} _.,+=@~()[\]!#%&'-]+$/u;

/**
 * Why `key` is not a valid artifact key, or null. Keys look like relative paths (`/` separates
 * segments) and may become file names on download, so none may climb out: no leading `/`, no
 * empty, `.` or `..` segment.
 */
export function artifactKeyProblem(key: string): string | null {
  if (key.length === 0) return 'an artifact key must not be empty';
  if (key.length > DATA_LIMITS.maxArtifactKeyLength) return `an artifact key has at most ${DATA_LIMITS.maxArtifactKeyLength} characters`;
  if (key.startsWith('/')) return `artifact key "${key}" must be relative (no leading "/")`;
  for (const segment of key.split('/')) {
    if (segment === '') return `artifact key "${key}" has an empty segment ("//" or a trailing "/")`;
    if (segment === '.' || segment === '..') return `artifact key "${key}" must not contain "." or ".." segments`;
    if (!SEGMENT_CHARS.test(segment)) return `artifact key "${key}" may contain only letters, digits, spaces, "/" and "_ . , + = @ ~ ( ) [ ] ! # % & ' -"`;
  }
  return null;
}

export const ArtifactKeySchema = z.string().superRefine((key, ctx) => {
  const problem = artifactKeyProblem(key);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export interface ArtifactInfo {
  key: string;
  sha256: string;
  size: number;
  /** The attempt that produced it, when it was published by or for a job. */
  runId: string | null;
  jobId: string | null;
  attempt: number | null;
  createdAt: number;
}

/** The artifact key of a file an attempt left in its output directory. */
export const outputArtifactKey = (runId: string, jobId: string, attempt: number, relativePath: string): string => `runs/${runId}/${jobId}/${attempt}/${relativePath}`;
