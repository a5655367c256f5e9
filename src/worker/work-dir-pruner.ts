/**
 * A worker's disk stays bounded: run folders (attempt folders with their outputs and unpacked
 * archives, and the run's shared folder) and cached scripts and archives untouched for longer
 * than the retention are removed. A run with an attempt on this worker is never touched, and a
 * cache entry is touched each time it is used, so only what nothing needs any more goes.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface PruneOptions {
  /** Remove what is older than this (milliseconds since its last change). */
  olderThanMs: number;
  now: number;
  /** Runs with an attempt on this worker: kept whatever their age. */
  busyRuns: ReadonlySet<string>;
}

export interface PruneResult {
  runs: number;
  cached: number;
}

/** The newest modification time of a folder and the folders right inside it (attempt folders, out/). */
function lastChange(dir: string): number {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    try {
      newest = Math.max(newest, statSync(join(dir, entry.name)).mtimeMs);
    } catch {
      // Removed meanwhile.
    }
  }
  return newest;
}

function pruneChildren(dir: string, cutoff: number, keep: (name: string) => boolean): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (keep(name)) continue;
    const path = join(dir, name);
    try {
      if (lastChange(path) >= cutoff) continue;
      rmSync(path, { recursive: true, force: true });
      removed++;
    } catch {
      // A folder that cannot be read or removed is left for the next sweep.
    }
  }
  return removed;
}

export function pruneWorkDir(workDir: string, options: PruneOptions): PruneResult {
  const cutoff = options.now - options.olderThanMs;
  return {
    runs: pruneChildren(join(workDir, 'runs'), cutoff, (runId) => options.busyRuns.has(runId)),
    cached: pruneChildren(join(workDir, 'cache'), cutoff, () => false),
  };
}
