/**
 * A worker's disk stays bounded: run folders (attempt folders with their outputs and unpacked
 * archives, and the run's shared folder) and cached scripts and archives untouched for longer
 * than the retention are removed. What an attempt on this worker uses is never touched: `isBusy`
 * is asked again right before each removal, and the folder is first renamed into a trash folder
 * (instant, so a job starting meanwhile finds either the whole folder or none), then deleted
 * without blocking the worker. When jobs run as another user, what is theirs is deleted as that
 * user: a link a job left behind (or swaps in while the worker deletes) can then only reach what
 * the job could delete itself, never what the worker (root) could.
 */
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, renameSync } from 'node:fs';
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobOwner } from './job-files.js';

export type PruneArea = 'runs' | 'cache';

export interface PruneOptions {
  /** Remove what is older than this (milliseconds since its last change). */
  olderThanMs: number;
  now: number;
  /** Whether an attempt on this worker uses the run folder or cache entry of that name. */
  isBusy: (area: PruneArea, name: string) => boolean;
  /** The user jobs run as; absent or null: the worker's own. */
  owner?: JobOwner;
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

/** Runs `rm -rf` on `dir` as the job's user; its failures (the folder itself is not theirs to remove) are the caller's to judge. */
function removeAs(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('rm', ['-rf', '--', dir], { uid: owner.uid, gid: owner.gid, stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}

/**
 * Deletes what was moved to the trash. A run folder of jobs run as another user is given to that
 * user and emptied as them; the worker then removes it only if it is empty (what a job added
 * meanwhile waits for the next sweep).
 */
async function emptyTrash(trashRoot: string, owner: JobOwner): Promise<void> {
  if (owner === null) return rm(trashRoot, { recursive: true, force: true });
  for (const stamp of await readdir(trashRoot).catch(() => [] as string[])) {
    const folder = join(trashRoot, stamp);
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const path = join(folder, name);
      if (name.startsWith('runs-')) {
        chownSync(path, owner.uid, owner.gid);
        await removeAs(path, owner);
        await rmdir(path).catch(() => undefined);
      } else {
        // Cached scripts are the worker's alone: no job can change them.
        await rm(path, { recursive: true, force: true });
      }
    }
    await rmdir(folder).catch(() => undefined);
  }
  await rmdir(trashRoot).catch(() => undefined);
}

export async function pruneWorkDir(workDir: string, options: PruneOptions): Promise<PruneResult> {
  const trash = join(workDir, '.trash', String(options.now));
  mkdirSync(trash, { recursive: true });
  try {
    return { runs: await pruneArea(workDir, 'runs', trash, options), cached: await pruneArea(workDir, 'cache', trash, options) };
  } finally {
    await emptyTrash(join(workDir, '.trash'), options.owner ?? null);
  }
}
