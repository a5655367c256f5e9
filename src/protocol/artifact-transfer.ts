/**
 * Moving artifacts over a v2 connection, shared by the SDK and the worker. An upload streams a
 * file or a buffer in chunks with a few in flight, hashing as it reads, and names the sha256 at
 * commit, where the master verifies it; a download pins the content's hash after the first chunk
 * and verifies the whole at the end. Neither holds more than a few chunks in memory.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import type { ArtifactInfo } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import type { DataBusMethod } from './data-bus-methods.js';
import type { ParamsOf, Results } from './methods.js';

/** Sends one request on a v2 connection. */
export type DataBusCall = <M extends DataBusMethod>(method: M, params: ParamsOf<M>) => Promise<Results[M]>;

/** A local file's path, or the content itself. */
export type ArtifactSource = string | Uint8Array;

/** A file its uploader opened and checked itself (the worker, before it publishes a job's output); closed by the upload. */
export interface OpenedFile {
  path: string;
  handle: FileHandle;
}

export interface Provenance {
  runId?: string;
  jobId?: string;
  attempt?: number;
}

/** Chunks in flight during an upload: enough to hide a round trip, few enough to bound memory. */
const UPLOAD_WINDOW = 4;

interface Reader {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

async function readerFor(source: ArtifactSource | OpenedFile): Promise<Reader> {
  if (source instanceof Uint8Array) {
    const content = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    return { size: content.length, read: async (offset, length) => content.subarray(offset, offset + length), close: async () => {} };
  }
  let file: FileHandle;
  if (typeof source !== 'string') {
    file = source.handle;
  } else {
    try {
      file = await open(source, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new TitanError('BAD_REQUEST', `cannot read ${source}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  const stats = await file.stat();
  const name = typeof source === 'string' ? source : source.path;
  if (!stats.isFile()) {
    await file.close();
    throw new TitanError('BAD_REQUEST', `cannot read ${name}: not a regular file`);
  }
  const size = stats.size;
  return {
    size,
    async read(offset, length) {
      const buf = Buffer.allocUnsafe(Math.min(length, size - offset));
      const { bytesRead } = await file.read(buf, 0, buf.length, offset);
      return buf.subarray(0, bytesRead);
    },
    close: () => file.close(),
  };
}

export async function uploadArtifact(call: DataBusCall, key: string, source: ArtifactSource | OpenedFile, provenance: Provenance = {}): Promise<ArtifactInfo> {
  const reader = await readerFor(source);
  try {
    const { uploadId, chunkBytes } = await call('artifact.put.begin', { key, size: reader.size, ...provenance });
    const hash = createHash('sha256');
    const inFlight: Promise<unknown>[] = [];
    for (let offset = 0; offset < reader.size; ) {
      const chunk = await reader.read(offset, chunkBytes);
      if (chunk.length === 0) throw new TitanError('BAD_REQUEST', `${typeof source === 'string' ? source : 'path' in source ? source.path : 'the content'} shrank while it was being uploaded`);
      hash.update(chunk);
      const sent = call('artifact.put.part', { uploadId, offset, data: chunk.toString('base64') });
      // Marked handled now: if an earlier part fails, this one's rejection is not left unobserved.
      sent.catch(() => {});
      inFlight.push(sent);
      offset += chunk.length;
      if (inFlight.length >= UPLOAD_WINDOW) await inFlight.shift();
    }
    await Promise.all(inFlight);
    return (await call('artifact.put.commit', { uploadId, sha256: hash.digest('hex') })).artifact;
  } finally {
    await reader.close();
  }
}

/** Streams an artifact's content to `sink` in order; resolves with its description once the hash checked out. */
export async function downloadArtifact(call: DataBusCall, key: string, sink: (chunk: Buffer) => Promise<void> | void): Promise<ArtifactInfo> {
  const hash = createHash('sha256');
  let pinned: string | undefined;
  for (let offset = 0; ; ) {
    const reply: Results['artifact.get'] = await call('artifact.get', pinned === undefined ? { key, offset } : { key, offset, sha256: pinned });
    const { artifact } = reply;
    pinned = artifact.sha256;
    const data = Buffer.from(reply.data, 'base64');
    if (data.length === 0 && offset < artifact.size) throw new TitanError('INTERNAL', `the master sent no data for "${key}" at offset ${offset}`);
    hash.update(data);
    await sink(data);
    offset = reply.nextOffset;
    if (offset < artifact.size) continue;
    const actual = hash.digest('hex');
    if (actual !== artifact.sha256) throw new TitanError('INTERNAL', `download of "${key}" does not match its sha256: expected ${artifact.sha256}, got ${actual}`);
    return artifact;
  }
}
