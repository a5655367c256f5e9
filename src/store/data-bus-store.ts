/**
 * The persistence of the data bus (its keys and artifact metadata), part of every Store. Each write
 * resolves once it is durable.
 */
import type { ArtifactInfo, KvKeyInfo, KvOp, KvOutcome } from '../core/data.js';

/** A live key with its value (null for a set). */
export interface KvStored extends KvKeyInfo {
  value: string | null;
}

export interface DataBusStore {
  /**
   * Why the store cannot take writes right now (a remote store whose connection is down, the
   * disk under an embedded store is full), or null. Stores that cannot tell leave it out.
   */
  unavailable?(): Error | null;

  /**
   * Applies the ops in order in one durable transaction, at time `now`: a key whose expiry has
   * passed counts as absent. An op that cannot apply (wrong type, not an integer) yields an error
   * outcome and writes nothing; the others still apply.
   */
  kvApply(ops: readonly KvOp[], now: number): Promise<KvOutcome[]>;
  /** The key, or null when it is absent or expired at `now`. */
  kvGet(key: string, now: number): Promise<KvStored | null>;
  /** A set's members in byte order (empty for a missing key). */
  kvMembers(key: string): Promise<string[]>;
  /** Live keys starting with `prefix`, in byte order, at most `limit`. */
  kvKeys(prefix: string, limit: number, now: number): Promise<{ keys: KvKeyInfo[]; truncated: boolean }>;
  /** Every key with an expiry, for re-arming the timers at start-up. */
  kvExpiring(): Promise<{ key: string; expiresAt: number }[]>;

  /** Inserts or replaces the artifact; returns the content hash no key references any more, if any. */
  artifactPut(info: ArtifactInfo): Promise<string | null>;
  artifactGet(key: string): Promise<ArtifactInfo | null>;
  /** By key in byte order, at most `limit`. */
  artifactList(options: { prefix: string; runId?: string; limit: number }): Promise<{ artifacts: ArtifactInfo[]; truncated: boolean }>;
  /** `orphaned` is the content hash no key references any more once this one is gone. */
  artifactDelete(key: string): Promise<{ deleted: boolean; orphaned: string | null }>;
}
