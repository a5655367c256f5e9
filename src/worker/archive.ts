/**
 * Unpacks a job's zip archive (Titan's project mode, `proj.zip/src/main.py`) into the attempt's
 * directory. Every name is checked before anything is decompressed: nothing lands outside the
 * destination (zip-slip), and the number of entries and the uncompressed size are bounded.
 * Files are written as plain 0644 files; no mode, owner, time or link from the zip is kept.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { unzipSync } from 'fflate';

export interface ArchiveLimits {
  /** Entries (files and directories) at most; default 10,000. */
  maxFiles?: number;
  /** Uncompressed bytes at most, all files together; default 256 MiB (it is unpacked in memory). */
  maxBytes?: number;
}

const DEFAULT_ARCHIVE_LIMITS = { maxFiles: 10_000, maxBytes: 256 * 1024 * 1024 } as const;

/** One of this module's own refusals, told apart from fflate's errors on damaged data. */
class ArchiveError extends Error {}

const show = (name: string): string => JSON.stringify(name);

/**
 * The absolute path of `entry` inside `dest`. Throws for a name that is absolute, has a `..`
 * segment, a backslash or a NUL, or would otherwise resolve outside `dest`.
 */
export function entryPath(dest: string, entry: string): string {
  if (entry.startsWith('/') || entry.includes('\\') || entry.includes('\0') || entry.split('/').includes('..')) {
    throw new ArchiveError(`archive entry ${show(entry)} is not a relative path inside the archive`);
  }
  const root = resolve(dest);
  const path = resolve(root, entry);
  if (!path.startsWith(root + sep)) throw new ArchiveError(`archive entry ${show(entry)} resolves outside the destination`);
  return path;
}

/**
 * Extracts `zip` into `dest` (created if needed) and returns the files written and their bytes.
 * Synchronous: the archive comes from the blob store, whose size is bounded.
 */
export function extractArchive(zip: Buffer | Uint8Array, dest: string, limits: ArchiveLimits = {}): { files: number; bytes: number } {
  const maxFiles = limits.maxFiles ?? DEFAULT_ARCHIVE_LIMITS.maxFiles;
  const maxBytes = limits.maxBytes ?? DEFAULT_ARCHIVE_LIMITS.maxBytes;
  const root = resolve(dest);
  /** Entry names in archive order, with their target paths. */
  const accepted: { name: string; path: string; dir: boolean }[] = [];
  let declared = 0;
  let unpacked: Record<string, Uint8Array>;
  try {
    unpacked = unzipSync(zip, {
      // Called for every entry before it is decompressed: refuse the whole archive at the first bad one.
      filter: (file) => {
        if (accepted.length >= maxFiles) throw new ArchiveError(`the archive has more than ${maxFiles} entries`);
        const dir = file.name.endsWith('/');
        // "__proto__" would become the result object's prototype instead of one of its entries.
        if (file.name === '__proto__') throw new ArchiveError(`archive entry ${show(file.name)} cannot be extracted`);
        const path = dir ? dirPath(root, file.name) : entryPath(root, file.name);
        accepted.push({ name: file.name, path, dir });
        if (dir) return false;
        declared += file.originalSize;
        if (declared > maxBytes) throw new ArchiveError(`the archive unpacks to more than ${maxBytes} bytes`);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw new Error(`the archive is not a valid zip file (${(err as Error).message})`);
  }

  // Stored entries are copied as they are, whatever size their header claimed: check what came out
  // too, before anything is written.
  let bytes = 0;
  for (const data of Object.values(unpacked)) bytes += data.length;
  if (bytes > maxBytes) throw new ArchiveError(`the archive unpacks to more than ${maxBytes} bytes`);

  let files = 0;
  const made = new Set<string>();
  const ensureDir = (dir: string): void => {
    if (made.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    made.add(dir);
  };
  ensureDir(root);
  for (const { name, path, dir } of accepted) {
    try {
      if (dir) {
        ensureDir(path);
        continue;
      }
      // A repeated name: its last copy was written under the first.
      if (!Object.hasOwn(unpacked, name)) continue;
      ensureDir(dirname(path));
      writeFileSync(path, unpacked[name] as Uint8Array, { mode: 0o644 });
      delete unpacked[name];
      files++;
    } catch (err) {
      throw new Error(`cannot extract archive entry ${show(name)}: ${(err as Error).message}`);
    }
  }
  return { files, bytes };
}

/** A directory entry's path ("a/b/"); the archive's root itself ("./") is allowed. Errors name the entry as the zip does. */
function dirPath(root: string, name: string): string {
  const trimmed = name.replace(/\/+$/, '');
  if (name.startsWith('/')) throw new ArchiveError(`archive entry ${show(name)} is not a relative path inside the archive`);
  if (trimmed === '' || trimmed === '.') return root;
  try {
    return entryPath(root, trimmed);
  } catch (err) {
    throw new ArchiveError((err as Error).message.replace(show(trimmed), show(name)));
  }
}
