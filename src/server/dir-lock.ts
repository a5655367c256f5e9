/**
 * One process per directory: a master's data directory, a worker's work directory. Two masters on
 * one store would each trust their own memory of it, and two workers on one work directory would
 * stop each other's jobs as leftovers of a previous life. The lock is a file holding its owner's
 * pid, created only where none exists; one whose process is gone (a crash, kill -9) is taken over.
 */
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SetupError } from '../core/errors.js';

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
  writeFileSync(mine, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (;;) {
      try {
        linkSync(mine, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const pid = holderOf(file);
      if (pid !== null && pid !== process.pid && isAlive(pid)) {
        throw new DirLockedError(`${dir} is in use by another ${owner.role} (pid ${pid}); stop it first, or choose another directory with ${owner.option} (if pid ${pid} is no ${owner.role}, delete ${file})`);
      }
      // Its process is gone (or it is this one's, from a start that failed): take it over.
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(mine, { force: true });
  }
  return () => {
    if (holderOf(file) === process.pid) rmSync(file, { force: true });
  };
}

function holderOf(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Whether `pid` runs (EPERM: it runs as another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
