/**
 * The data directory holds the token, the state and every job's output, scripts and artifacts:
 * it is the master's alone whatever the umask. The master creates its folders 0700 and its files
 * 0600; older versions made what is inside under the umask, so a directory found open to others
 * is closed at start, saying so once.
 */
import { chmodSync, type Dirent, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Group and other permission bits. */
const OPEN = 0o077;

export function privateDataDir(dataDir: string, log: (line: string) => void): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = statSync(dataDir).mode & 0o777;
  if (mode !== 0o700) {
    chmodSync(dataDir, 0o700);
    log(`the data directory ${dataDir} was open to others (mode ${mode.toString(8)}); it is now 0700`);
  }
  // What this version creates is private, so an entry at the top open to others is an older
  // version's, whose every entry was made alike: only then is the whole tree walked.
  if (!readdirSync(dataDir).some((name) => isOpen(join(dataDir, name)))) return;
  const { changed, failed } = closeTree(dataDir);
  log(`${changed} files and folders in the data directory ${dataDir} were open to others (made by an older version); they are now private to this user${failed.length > 0 ? `; ${failed.length} could not be changed, e.g. ${failed[0]}` : ''}`);
}

function isOpen(path: string): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st !== undefined && (st.isFile() || st.isDirectory()) && (st.mode & OPEN) !== 0;
}

/**
 * Makes every folder below `root` 0700 and takes group and other permissions off every file (the
 * owner's stay, so a cached script keeps its execute bit). Links are not followed: what they
 * point to is not the master's.
 */
function closeTree(root: string): { changed: number; failed: string[] } {
  let changed = 0;
  const failed: string[] = [];
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      failed.push(dir);
      continue;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() && !entry.isFile()) continue;
      const path = join(dir, entry.name);
      try {
        const mode = lstatSync(path).mode & 0o7777;
        const wanted = entry.isDirectory() ? 0o700 : mode & 0o700;
        if (mode !== wanted && (mode & OPEN) !== 0) {
          chmodSync(path, wanted);
          changed++;
        }
      } catch {
        failed.push(path);
      }
      if (entry.isDirectory()) pending.push(path);
    }
  }
  return { changed, failed };
}
