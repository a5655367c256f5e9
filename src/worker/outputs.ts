/**
 * Job outputs: the files an attempt leaves in `$TITAN_OUTPUT_DIR` become the artifacts
 * `runs/<runId>/<jobId>/<attempt>/<relative path>`. Collection walks the directory without
 * following symbolic links (a job must not publish what lies outside its directory) and stops at
 * a bounded number of files and bytes; what it leaves out is reported, never silently dropped.
 * The worker may read more than the job (it is root when jobs run as another user), and the job
 * may still change its folder while the worker reads it: each file is opened without following a
 * link and published only if what was opened belongs to the job's user.
 */
import { constants, type Dirent } from 'node:fs';
import { type FileHandle, lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactKeyProblem, outputArtifactKey } from '../core/data.js';
import { uploadArtifact } from '../protocol/artifact-transfer.js';
import type { AttemptId } from '../protocol/methods.js';
import type { Peer } from '../protocol/peer.js';
import type { JobOwner } from './job-files.js';

export const MAX_OUTPUT_FILES = 1000;
export const MAX_OUTPUT_BYTES = 4 * 1024 * 1024 * 1024;
/** Output files named in an attempt's log as not published, at most. */
const MAX_OUTPUT_NOTES = 20;

export interface OutputFile {
  path: string;
  /** Relative to the output directory, with "/" separators. */
  relative: string;
  key: string;
  size: number;
}

/** `keyOf` maps a relative path to its artifact key; files whose key would be invalid are skipped. */
export async function collectOutputs(dir: string, keyOf: (relative: string) => string): Promise<{ files: OutputFile[]; skipped: string[] }> {
  const files: OutputFile[] = [];
  const skipped: string[] = [];
  let bytes = 0;
  const walk = async (folder: string, prefix: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (err) {
      // No output directory (the attempt never started) means no outputs.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const relative = prefix + entry.name;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        await walk(path, `${relative}/`);
        continue;
      }
      if (!entry.isFile()) {
        skipped.push(`${relative}: not a regular file${entry.isSymbolicLink() ? ' (symbolic links are not followed)' : ''}`);
        continue;
      }
      const key = keyOf(relative);
      const problem = artifactKeyProblem(key);
      if (problem) {
        skipped.push(`${relative}: ${problem}`);
        continue;
      }
      const { size } = await lstat(path);
      if (files.length >= MAX_OUTPUT_FILES) {
        skipped.push(`${relative}: more than ${MAX_OUTPUT_FILES} output files`);
      } else if (bytes + size > MAX_OUTPUT_BYTES) {
        skipped.push(`${relative}: the outputs would exceed ${MAX_OUTPUT_BYTES} bytes`);
      } else {
        files.push({ path, relative, key, size });
        bytes += size;
      }
    }
  };
  await walk(dir, '');
  return { files, skipped };
}

/**
 * Opens an output file for reading, refusing a link (swapped in after the walk) and, when jobs run
 * as another user (`owner`), a file that is not theirs (reached through a linked folder or a hard link).
 */
export async function openOutput(path: string, owner: JobOwner): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new Error('not a regular file (symbolic links are not followed)');
    throw err;
  }
  const stat = await handle.stat();
  if (stat.isFile() && (owner === null || stat.uid === owner.uid)) return handle;
  await handle.close();
  throw new Error(stat.isFile() ? `not the job's own file (owned by uid ${stat.uid})` : 'not a regular file');
}

/**
 * Uploads the attempt's output files as artifacts over the worker's connection (`session`: the
 * current one or the next; null once the worker stops). A file cut off by a lost connection is
 * sent again on the next one; one the master refuses, or that is not the job's own (`owner`: the
 * user jobs run as), is named in the attempt's log (`note`), as is what was published.
 */
export async function publishOutputs(id: AttemptId, dir: string, owner: JobOwner, session: () => Promise<Peer | null>, note: (line: string) => void): Promise<void> {
  const { runId, jobId, attempt: n } = id;
  const notes: string[] = [];
  let found: Awaited<ReturnType<typeof collectOutputs>>;
  try {
    // A job that put a link (or another user's folder) in place of its output folder publishes nothing.
    const own = await lstat(dir).catch(() => null);
    if (own !== null && (!own.isDirectory() || (owner !== null && own.uid !== owner.uid))) throw new Error("it is not the job's own folder");
    found = await collectOutputs(dir, (relative) => outputArtifactKey(runId, jobId, n, relative));
  } catch (err) {
    note(`[titan: cannot read the output directory ${dir}: ${(err as Error).message}]\n`);
    return;
  }
  let published = 0;
  let bytes = 0;
  for (const file of found.files) {
    for (;;) {
      const peer = await session();
      if (!peer) return;
      try {
        const handle = await openOutput(file.path, owner);
        await uploadArtifact((method, params) => peer.request(method, params), file.key, { path: file.path, handle }, { runId, jobId, attempt: n });
        published++;
        bytes += file.size;
      } catch (err) {
        if (peer.closed) continue;
        notes.push(`${file.relative}: ${(err as Error).message}`);
      }
      break;
    }
  }
  for (const reason of [...found.skipped, ...notes].slice(0, MAX_OUTPUT_NOTES)) note(`[titan: output file not published: ${reason}]\n`);
  const unlisted = found.skipped.length + notes.length - MAX_OUTPUT_NOTES;
  if (unlisted > 0) note(`[titan: ${unlisted} more output files not published]\n`);
  if (published > 0) note(`[titan: published ${published} output file${published === 1 ? '' : 's'} (${bytes} bytes) as artifacts under ${outputArtifactKey(runId, jobId, n, '')}]\n`);
}
