/**
 * The data bus's limits and key alphabet without zod, so the dashboard checks a key by the rule
 * the master applies (data.ts builds the schemas from them).
 */
export const DATA_LIMITS = {
  maxKeyLength: 512,
  maxValueBytes: 1024 * 1024,
  /** Members are small, so a whole set (at most maxSetMembers) fits in one reply frame. */
  maxMemberBytes: 512,
  maxSetMembers: 10_000,
  maxMembersPerCall: 1_000,
  maxListLimit: 10_000,
  maxWaitMs: 3_600_000,
  maxTtlMs: 366 * 24 * 3600 * 1000,
  maxArtifactKeyLength: 1024,
} as const;

/** Key characters: a small, URL-safe alphabet, so a key works unescaped in an HTTP path and a shell. */
export const KV_KEY_PATTERN = /^[A-Za-z0-9_.:/@+=,-]+$/;
/** A key prefix for listing: the key alphabet, or empty for every key. */
export const KV_PREFIX_PATTERN = /^[A-Za-z0-9_.:/@+=,-]*$/;
export const KV_KEY_CHARS_TEXT = 'letters, digits and "_ . : / @ + = , -"';
