/**
 * The audit log: every state-changing action, from any door, as one JSON line in
 * `<data>/audit.log` (0600): who (the authenticated principal), what, when, from where, and
 * whether it succeeded. The newest entries are also kept in memory for `audit.list`.
 *
 * Lines are appended in batches off the request's path; a write that fails (a full disk) keeps
 * its lines and tries again with the next batch, so an action is never refused for its record.
 */
import { chmodSync, closeSync, existsSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import type { AuditEntry } from '../protocol/access-methods.js';

/** Entries kept in memory (older ones are in the file). */
export const AUDIT_MEMORY = 10_000;
/** Past this size the file is renamed `audit.log.1` (replacing the previous one) and a new one begun. */
export const AUDIT_ROTATE_BYTES = 64 * 1024 * 1024;
/** How much of the file's end is read at start to find the newest entries. */
const TAIL_BYTES = 4 * 1024 * 1024;

export type AuditRecord = Omit<AuditEntry, 'seq' | 'at'>;

export class AuditLog {
  private readonly recent: AuditEntry[] = [];
  private pending: string[] = [];
  /** The append under way, if any. */
  private writing: Promise<void> | null = null;
  private scheduled = false;
  /** Bytes in the file, counted here so that no write needs a stat. */
  private size = 0;
  private seq = 0;
  private warned = false;

  constructor(
    private readonly file: string | null,
    private readonly now: () => number = Date.now,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    if (file !== null && existsSync(file)) this.loadTail(file);
  }

  record(entry: AuditRecord): void {
    const full: AuditEntry = { seq: ++this.seq, at: this.now(), ...entry };
    this.recent.push(full);
    if (this.recent.length > AUDIT_MEMORY) this.recent.splice(0, this.recent.length - AUDIT_MEMORY);
    if (this.file === null) return;
    this.pending.push(`${JSON.stringify(full)}\n`);
    this.schedule();
  }

  /** Newest first, at most `limit`, older than `before` when given. */
  list(limit: number, before?: number): AuditEntry[] {
    const older = before === undefined ? this.recent : this.recent.filter((e) => e.seq < before);
    return older.slice(-limit).reverse();
  }

  /** Resolves once the entries recorded so far were written, or a write failed (they stay pending). */
  async flushed(): Promise<void> {
    // Tried at least once, so that lines kept after a failure are written if they now can be.
    await (this.writing ?? this.flush());
    while (this.writing !== null || (this.pending.length > 0 && !this.warned)) await (this.writing ?? this.flush());
  }

  private schedule(): void {
    if (this.scheduled || this.writing !== null) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Appends what is pending in one write; a failed one keeps its lines for the next. */
  private flush(): Promise<void> {
    const file = this.file;
    if (file === null || this.writing !== null || this.pending.length === 0) return this.writing ?? Promise.resolve();
    const text = this.pending.join('');
    this.pending = [];
    this.rotate(file);
    this.writing = appendFile(file, text, { mode: 0o600 }).then(
      () => {
        this.size += Buffer.byteLength(text);
        this.warned = false;
      },
      (err: Error) => {
        this.pending.unshift(text);
        if (!this.warned) this.log(`the audit log could not be written (${err.message}); its entries are kept and written once it can be`);
        this.warned = true;
      },
    );
    void this.writing.then(() => {
      this.writing = null;
      if (this.pending.length > 0 && !this.warned) this.schedule();
    });
    return this.writing;
  }

  private rotate(file: string): void {
    if (this.size < AUDIT_ROTATE_BYTES) return;
    try {
      renameSync(file, `${file}.1`);
      chmodSync(`${file}.1`, 0o600);
      this.size = 0;
    } catch (err) {
      this.log(`the audit log could not be rotated (${(err as Error).message}); it grows on`);
    }
  }

  private loadTail(file: string): void {
    const size = statSync(file).size;
    this.size = size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    const lines = buffer.toString('utf8').split('\n');
    if (length < size) lines.shift();
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        const entry = JSON.parse(line) as AuditEntry;
        if (typeof entry.seq === 'number') this.recent.push(entry);
      } catch {
        // A line cut by a crash mid-write: the entries around it still count.
      }
    }
    this.recent.splice(0, Math.max(0, this.recent.length - AUDIT_MEMORY));
    this.seq = this.recent.at(-1)?.seq ?? 0;
  }
}

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
