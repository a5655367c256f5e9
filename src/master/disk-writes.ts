/**
 * Writing the master's own files (scripts, uploads, artifacts, drafts, logs) on a disk that may
 * fill up: writes are completed or fail, a full disk is UNAVAILABLE naming the disk, and a
 * temporary file is never left behind by a failed write. Everything is created private, whatever
 * the umask: job output, uploads and scripts are readable with the cluster's tokens only.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { TitanError } from '../core/errors.js';
import { diskFullMessage, isNoSpace } from '../store/disk-space.js';

/** The mode of every file the master creates in its data directory. */
export const PRIVATE_FILE = 0o600;
/** The mode of every folder the master creates in its data directory. */
export const PRIVATE_DIR = 0o700;

/** Creates `dir` and any missing parents, each private. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
}

/** An ENOSPC/EDQUOT met writing under `dir` as UNAVAILABLE naming the disk; any other error as it is. */
export function noSpaceError(dir: string, err: unknown): unknown {
  if (!isNoSpace(err)) return err;
  return new TitanError('UNAVAILABLE', `${diskFullMessage(dir, err.code ?? 'ENOSPC')}; free some space and try again`);
}

/**
 * Writes as much of `data` as the disk takes: a disk running full takes part of a write without
 * an error, then refuses the rest. Returns how much was written and, short of all, why not.
 */
export function writeAvailable(fd: number, data: Buffer): { written: number; error: unknown } {
  let written = 0;
  try {
    while (written < data.length) {
      const n = writeSync(fd, data, written, data.length - written);
      if (n === 0) throw Object.assign(new Error('ENOSPC: the disk took no more of the write'), { code: 'ENOSPC' });
      written += n;
    }
  } catch (error) {
    return { written, error };
  }
  return { written, error: null };
}

/** Writes all of `data` or throws. */
export function writeAll(fd: number, data: Buffer): void {
  const { error } = writeAvailable(fd, data);
  if (error !== null) throw error;
}

/** Replaces `path` whole through a temporary file beside it; on failure nothing of the write is left. */
export function replaceFile(path: string, data: string | Buffer, dir: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data, { mode: PRIVATE_FILE });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw noSpaceError(dir, err);
  }
}
