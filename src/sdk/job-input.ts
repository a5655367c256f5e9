/**
 * What the SDK submits, as a caller writes it (a script by path or content, an archive entry), and
 * how it becomes the master's JobSpecs: content is hashed and only what the master lacks is uploaded.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { JobSpecInput, RunSpecInput } from '../core/model.js';
import { BLOB_CHUNK_BYTES } from '../protocol/methods.js';
import { type ArchiveSource, ArchiveLoader } from './archive-source.js';
import type { Transport } from './connection.js';
import { BadRequestError } from './errors.js';

/** A script to run: a path on local disk, or a name with its content. */
export type ScriptSource = string | { name: string; content: string | Buffer };

export interface JobInput extends Omit<JobSpecInput, 'script' | 'archive'> {
  /** What a run or service job executes: a script, or else an `archive` entry; approval gates (`kind: 'approval'`) have none. */
  script?: ScriptSource;
  /** A zip (content or path) and the entry to run from it; uploaded once by content, however many jobs share it. */
  archive?: ArchiveSource;
}

export interface RunInput extends Omit<RunSpecInput, 'jobs'> {
  jobs: JobInput[];
}

/** A job, or a builder of one (`job(...)`, `service(...)`, `approval(...)` from the SDK's builders). */
export type JobLike = JobInput | { toJob(): JobInput };

/** Hashes each job's script or archive and uploads those the master lacks. */
export async function prepareJobs(transport: Transport, input: JobLike[]): Promise<JobSpecInput[]> {
  const blobs = new Map<string, Buffer>();
  const jobs: JobSpecInput[] = [];
  const archives = new ArchiveLoader();
  for (const item of input) {
    const { archive, ...job } = 'toJob' in item ? item.toJob() : item;
    if (archive !== undefined) {
      if (job.script !== undefined) throw new BadRequestError(`job "${job.id}": give a script or an archive entry, not both`);
      const { name, content, sha256 } = await archives.load(archive);
      if (content) blobs.set(sha256, content);
      jobs.push({ ...job, script: undefined, archive: { name, sha256, entry: archive.entry } });
      continue;
    }
    if (job.script === undefined) {
      jobs.push({ ...job, script: undefined });
      continue;
    }
    const { name, content } = await loadScript(job.script);
    const sha256 = createHash('sha256').update(content).digest('hex');
    blobs.set(sha256, content);
    jobs.push({ ...job, script: { name, sha256 } });
  }
  await uploadBlobs(transport, blobs);
  return jobs;
}

/** Uploads the blobs (by sha256) the master lacks, in chunks the protocol allows. */
export async function uploadBlobs(transport: Transport, blobs: Map<string, Buffer>): Promise<void> {
  if (blobs.size === 0) return;
  // A query, so sent again after a lost connection: a submission that starts as the leader changes
  // (a failover, a rolling upgrade) goes on to the next one as the submission itself does.
  const { missing } = await transport.resend('blob.missing', { hashes: [...blobs.keys()] });
  for (const sha256 of missing) {
    const content = blobs.get(sha256) as Buffer;
    let offset = 0;
    do {
      const part = content.subarray(offset, offset + BLOB_CHUNK_BYTES);
      const final = offset + part.length >= content.length;
      await transport.call('blob.put', { sha256, offset, data: part.toString('base64'), final });
      offset += part.length;
    } while (offset < content.length);
  }
}

export async function loadScript(source: ScriptSource): Promise<{ name: string; content: Buffer }> {
  if (typeof source !== 'string') return { name: source.name, content: Buffer.from(source.content) };
  try {
    return { name: basename(source), content: await readFile(source) };
  } catch (err) {
    throw new BadRequestError(`cannot read script ${source}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}
