/**
 * Free space of the disk under the master's files, and the one message every part of the master
 * gives when that disk is full, so that an operator reads the same sentence whichever write failed.
 */
import { closeSync, fsyncSync, openSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface DiskSpace {
  /** What this process may still write (blocks available to unprivileged users). */
  freeBytes: number;
  totalBytes: number;
}

export type SpaceOf = (dir: string) => DiskSpace;

export const MiB = 1024 * 1024;

export const spaceOf: SpaceOf = (dir) => {
  const s = statfsSync(dir);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
};

/** ENOSPC (the disk is full) or EDQUOT (the user's quota is). */
export function isNoSpace(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

/** "the disk holding <dir> is full (<cause>): <n> MiB free"; the free space is measured when not given. */
export function diskFullMessage(dir: string, cause: string | null, freeBytes?: number): string {
  let free = freeBytes;
  if (free === undefined) {
    try {
      free = spaceOf(dir).freeBytes;
    } catch {
      // said as unknown below
    }
  }
  return `the disk holding ${dir} is full${cause === null ? '' : ` (${cause})`}: ${free === undefined ? 'free space unknown' : `${mib(free)} MiB free`}`;
}

/**
 * Writes, syncs and removes a small file in `dir`: whether a write would go through now, which
 * statfs cannot tell when a quota is what is full. Returns the failure, or null.
 */
export function probeWrite(dir: string, bytes = 64 * 1024): NodeJS.ErrnoException | null {
  const path = join(dir, '.titan-space-probe');
  let fd: number | null = null;
  try {
    // Private like everything in the data directory, even for the moment it exists.
    fd = openSync(path, 'w', 0o600);
    // A nearly full disk takes part of a write without an error.
    if (writeSync(fd, Buffer.alloc(bytes)) < bytes) return Object.assign(new Error('ENOSPC: the probe was written only in part'), { code: 'ENOSPC' });
    fsyncSync(fd);
    return null;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  } finally {
    if (fd !== null) closeSync(fd);
    try {
      unlinkSync(path);
    } catch {
      // never created
    }
  }
}
