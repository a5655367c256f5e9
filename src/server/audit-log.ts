/**
 * The audit log: every state-changing action, from any door: who (the authenticated principal),
 * what, when, from where, and whether it succeeded. Entries live in the store (access-store.ts),
 * so every master sharing a store records into one log and a new leader lists its predecessor's.
 *
 * Recording never waits nor fails: entries are appended in batches off the request's path. A
 * batch that fails (the store out of reach, a full disk) is kept and sent again, under the same
 * id so that the store applies it once, before anything newer; it is tried again when the next
 * entry is recorded, when the log is listed, and at shutdown.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditEntry } from '../protocol/access-methods.js';
import type { AccessStore, AuditBatch, AuditDraft, StoredAuditEntry } from '../store/access-store.js';

/** How many of the newest entries the store keeps. */
export const AUDIT_KEEP = 100_000;
/** At most this many entries per append, so that a backlog after an outage goes in bounded steps. */
const BATCH_MAX = 500;

export type AuditRecord = Omit<AuditEntry, 'seq' | 'at'>;

/** An entry as listed; one read back from the store (shared with other masters) or a file is checked like any input. */
export const AuditEntrySchema = z.object({
  seq: z.number(),
  at: z.number(),
  who: z.string(),
  kind: z.enum(['cluster', 'read', 'token', 'user', 'job', 'v1']),
  via: z.enum(['tcp', 'http', 'v1']),
  from: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  ok: z.boolean(),
  error: z.string().optional(),
});

export class AuditLog {
  private pending: AuditDraft[] = [];
  /** The batch being written, or the one that failed, sent again (same id) before anything newer. */
  private batch: AuditBatch | null = null;
  private writing: Promise<void> | null = null;
  private scheduled = false;
  private failing = false;
  /** Entries recorded, and entries the store has, by this log: what `flushed()` waits for. */
  private recorded = 0;
  private written = 0;
  /** Names this master's batches: unique across masters and restarts. */
  private readonly prefix = randomBytes(8).toString('hex');
  private batches = 0;

  constructor(
    private readonly store: AccessStore,
    private readonly now: () => number = Date.now,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  record(entry: AuditRecord): void {
    this.pending.push({ at: this.now(), ...entry });
    this.recorded++;
    this.schedule();
  }

  /** Newest first, at most `limit`, older than `before` when given; what was recorded here before the call is in it once written. */
  async list(limit: number, before?: number): Promise<AuditEntry[]> {
    await this.flushed();
    return (await this.store.auditList(limit, before)).map(checked);
  }

  /** Resolves once the entries recorded so far are in the store, or a write failed (they stay pending). */
  async flushed(): Promise<void> {
    const target = this.recorded;
    if (this.writing !== null) await this.writing;
    // At least one try, so that entries kept after a failure are written if they now can be.
    while (this.written < target) {
      await this.flush();
      if (this.failing) return;
    }
  }

  private schedule(): void {
    if (this.scheduled || this.writing !== null) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Writes the kept batch, else the next one from what is pending; a failure keeps it for the next try. */
  private flush(): Promise<void> {
    if (this.writing !== null) return this.writing;
    if (this.batch === null && this.pending.length > 0) this.batch = { id: `${this.prefix}-${++this.batches}`, entries: this.pending.splice(0, BATCH_MAX), keep: AUDIT_KEEP };
    const batch = this.batch;
    if (batch === null) return Promise.resolve();
    this.writing = this.store
      .auditAppend(batch)
      .then(
        () => {
          this.batch = null;
          this.written += batch.entries.length;
          this.failing = false;
        },
        (err: Error) => {
          if (!this.failing) this.log(`the audit log could not be written (${err.message}); its entries are kept and written once it can be`);
          this.failing = true;
        },
      )
      .finally(() => {
        this.writing = null;
        if (!this.failing && this.pending.length > 0) this.schedule();
      });
    return this.writing;
  }
}

const checked = (e: StoredAuditEntry): AuditEntry => {
  const parsed = AuditEntrySchema.safeParse(e);
  if (!parsed.success) throw new Error(`audit entry ${e.seq} in the store is not one this master can read: ${parsed.error.issues[0]?.message ?? 'malformed'}`);
  return parsed.data;
};

/** What an action's parameters (or, for a submission, its result) name, for the record. */
export function targetOf(params: unknown): string | null {
  if (params === null || typeof params !== 'object') return null;
  const p = params as Record<string, unknown>;
  for (const field of ['ref', 'runId', 'agentRunId', 'key', 'id', 'name']) {
    const value = p[field];
    if (typeof value === 'string') return value.slice(0, 300);
  }
  return null;
}
