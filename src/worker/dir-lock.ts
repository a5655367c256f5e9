/**
 * One process per directory: a master's data directory, a worker's work directory. Two masters on
 * one store would each trust their own memory of it, and two workers on one work directory would
 * stop each other's jobs as leftovers of a previous life. The lock is a file holding its owner's
 * pid and start time, created only where none exists; one whose process is gone (a crash, kill -9,
 * a pid since reused by another process) is taken over. The master takes it too: it lives here,
 * beside the worker's other knowledge of processes, so that a worker install needs no server code.
 */
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SetupError } from '../core/errors.js';
import { startTimeOf, stillRuns } from './process-identity.js';

/** The directory is held by another live process: the command line must choose another. */
export class DirLockedError extends SetupError {
  constructor(message: string) {
    super(message, { usage: true });
    this.name = 'DirLockedError';
  }
}

export interface DirLockOwner {
  /** Who holds the directory, in the refusal: "master", "worker". */
  role: string;
  /** The option that chooses another directory: "--data-dir", "--work-dir". */
  option: string;
}

/** Takes `dir` (which must exist) for this process; returns the release. */
export function lockDir(dir: string, owner: DirLockOwner): () => void {
  const file = join(dir, `${owner.role}.lock`);
  // Written aside and linked into place, so that a lock file is never seen without its pid.
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, `${process.pid} ${startTimeOf(process.pid) ?? '-'}\n`, { mode: 0o600 });
  try {
    for (;;) {
      try {
        linkSync(mine, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = holderOf(file);
      if (holder !== null && holder.pid !== process.pid && stillRuns(holder.pid, holder.startTime)) {
        const { pid } = holder;
        throw new DirLockedError(`${dir} is in use by another ${owner.role} (pid ${pid}); stop it first, or choose another directory with ${owner.option} (if pid ${pid} is no ${owner.role}, delete ${file})`);
      }
      // Its process is gone (or it is this one's, from a start that failed): take it over.
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(mine, { force: true });
  }
  return () => {
    if (holderOf(file)?.pid === process.pid) rmSync(file, { force: true });
  };
}

/** The pid and start time (null: unknown) in a lock file, or null for none or an unreadable one. */
function holderOf(file: string): { pid: number; startTime: number | null } | null {
  try {
    const [pidText = '', startText = '-'] = readFileSync(file, 'utf8').trim().split(' ');
    const pid = Number(pidText);
    const startTime = Number(startText);
    if (!Number.isSafeInteger(pid) || pid <= 0) return null;
    return { pid, startTime: Number.isSafeInteger(startTime) ? startTime : null };
  } catch {
    return null;
  }
}
