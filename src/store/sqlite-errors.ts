/**
 * A full disk under the SQLite store. SQLITE_FULL, or an SQLITE_IOERR_* while the disk has no room
 * (better-sqlite3 passes no errno on, so the room is measured), becomes StoreUnavailableError
 * naming the disk, and the store reports itself unavailable until there is room again: the
 * committer holds its batch and new work is refused, instead of the master stopping. A disk with
 * less than the margin free counts as full before any write fails, so that new work is refused
 * rather than accepted and then held.
 */
import { diskFullMessage, isNoSpace, MiB, probeWrite, type SpaceOf, spaceOf } from './disk-space.js';
import { StoreUnavailableError } from './store.js';

/** Below this much free space the disk counts as full; above it again, the store resumes. */
export const FULL_MARGIN_BYTES = MiB;
/** After a failure, how often the room is looked at again (the committer asks every 100 ms). */
const RECHECK_MS = 1_000;

/** The SQLite result code of an error or of one of its causes ('SQLITE_FULL', 'SQLITE_IOERR_WRITE', …), or null. */
export function sqliteCode(err: unknown): string | null {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++, e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return null;
}

export interface DiskGuardOptions {
  /** Free space of a directory (statfs by default). */
  space?: SpaceOf;
  /** Whether a small write goes through now (catches a full quota, which statfs does not show). */
  probe?: (dir: string) => Error | null;
  now?: () => number;
}

export class SqliteDiskGuard {
  private failure: StoreUnavailableError | null = null;
  private failedWith = '';
  private checkedAt = 0;
  private readonly space: SpaceOf;
  private readonly probe: (dir: string) => Error | null;
  private readonly now: () => number;

  constructor(
    /** The directory of the database file. */
    readonly dir: string,
    options: DiskGuardOptions = {},
  ) {
    this.space = options.space ?? spaceOf;
    this.probe = options.probe ?? probeWrite;
    this.now = options.now ?? Date.now;
  }

  /**
   * What a failed write should throw: StoreUnavailableError when the disk is full, after `rollback`
   * has ended whatever transaction the failure left open (so the same batch can be committed
   * again), or the error itself.
   */
  failed(err: unknown, rollback: () => void): unknown {
    const code = sqliteCode(err);
    const full = code === 'SQLITE_FULL' || (code?.startsWith('SQLITE_IOERR') === true && this.noRoom()) || isNoSpace(err);
    if (!full) return err;
    rollback();
    this.failedWith = code ?? (err as NodeJS.ErrnoException).code ?? 'ENOSPC';
    this.failure = this.error(this.failedWith, undefined, err);
    this.checkedAt = this.now();
    return this.failure;
  }

  /** A write went through (a held batch was retried): the failure is over, whatever the last look said. */
  succeeded(): void {
    this.failure = null;
  }

  /** Why writes cannot go through now, or null: after a failure, until there is room again. */
  unavailable(): StoreUnavailableError | null {
    if (this.failure === null) {
      const free = this.freeBytes();
      return free !== null && free < FULL_MARGIN_BYTES ? new StoreUnavailableError(diskFullMessage(this.dir, null, free), { readsWork: true }) : null;
    }
    const now = this.now();
    if (now - this.checkedAt < RECHECK_MS) return this.failure;
    this.checkedAt = now;
    const free = this.freeBytes();
    if (free !== null && free >= FULL_MARGIN_BYTES && this.probe(this.dir) === null) {
      this.failure = null;
      return null;
    }
    this.failure = this.error(this.failedWith, free ?? undefined, this.failure.cause);
    return this.failure;
  }

  private error(cause: string, freeBytes?: number, original?: unknown): StoreUnavailableError {
    return new StoreUnavailableError(diskFullMessage(this.dir, cause, freeBytes ?? this.freeBytes() ?? undefined), { readsWork: true, cause: original });
  }

  /** Whether the disk has no room: below the margin, or a small write is refused for space. */
  private noRoom(): boolean {
    const free = this.freeBytes();
    if (free !== null && free < FULL_MARGIN_BYTES) return true;
    return isNoSpace(this.probe(this.dir));
  }

  private freeBytes(): number | null {
    try {
      return this.space(this.dir).freeBytes;
    } catch {
      return null;
    }
  }
}
