/**
 * A worker's disk stays bounded: run folders (attempt folders with their outputs and unpacked
 * archives, and the run's shared folder) and cached scripts and archives untouched for longer
 * than the retention are removed. What an attempt on this worker uses is never touched: `isBusy`
 * is asked again right before each removal, and the folder is first renamed into a trash folder
 * (instant, so a job starting meanwhile finds either the whole folder or none), then deleted
 * without blocking the worker.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export type PruneArea = 'runs' | 'cache';

export interface PruneOptions {
  /** Remove what is older than this (milliseconds since its last change). */
  olderThanMs: number;
  now: number;
  /** Whether an attempt on this worker uses the run folder or cache entry of that name. */
  isBusy: (area: PruneArea, name: string) => boolean;
}

export interface PruneResult {
  runs: number;
  cached: number;
}

/** The newest modification time of a folder and the folders right inside it (attempt folders, out/). */
async function lastChange(dir: string): Promise<number> {
  let newest = (await stat(dir)).mtimeMs;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    newest = Math.max(newest, (await stat(join(dir, entry.name)).catch(() => ({ mtimeMs: 0 }))).mtimeMs);
  }
  return newest;
}

async function pruneArea(workDir: string, area: PruneArea, trash: string, options: PruneOptions): Promise<number> {
  const dir = join(workDir, area);
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (options.isBusy(area, name)) continue;
    const path = join(dir, name);
    try {
      if ((await lastChange(path)) >= options.now - options.olderThanMs) continue;
      // Asked again: an attempt may have started using it while the times were read.
      if (options.isBusy(area, name)) continue;
      renameSync(path, join(trash, `${area}-${name}`));
      removed++;
    } catch {
      // A folder that cannot be read or moved is left for the next sweep.
    }
  }
  return removed;
}

export async function pruneWorkDir(workDir: string, options: PruneOptions): Promise<PruneResult> {
  const trash = join(workDir, '.trash', String(options.now));
  mkdirSync(trash, { recursive: true });
  try {
    return { runs: await pruneArea(workDir, 'runs', trash, options), cached: await pruneArea(workDir, 'cache', trash, options) };
  } finally {
    await rm(join(workDir, '.trash'), { recursive: true, force: true });
  }
}
