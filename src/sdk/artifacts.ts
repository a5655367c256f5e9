/** `client.artifact`: files kept on the master by key, and the helpers that touch local files or the job's environment. */
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import type { ArtifactInfo } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import { type ArtifactSource, type DataBusCall, downloadArtifact, type Provenance, uploadArtifact } from '../protocol/artifact-transfer.js';
import type { Transport } from './connection.js';

export class ArtifactClient {
  private readonly call: DataBusCall;

  constructor(private readonly transport: Transport) {
    this.call = (method, params) => this.transport.call(method, params);
  }

  /** Uploads a local file (by path) or content under `key`; inside a job it is recorded as the attempt's. */
  publish(key: string, source: ArtifactSource): Promise<ArtifactInfo> {
    return uploadArtifact(this.call, key, source, provenanceFromEnv());
  }

  /** The whole content, checked against its sha256. */
  async get(key: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    await this.read(key, (chunk) => void parts.push(chunk));
    return Buffer.concat(parts);
  }

  /** Streams the content to `destPath`, which appears only once the sha256 matched. */
  fetch(key: string, destPath: string): Promise<ArtifactInfo> {
    return fetchToFile(this.call, key, destPath);
  }

  /** Streams the content chunk by chunk, in order; rejects at the end if the sha256 does not match. */
  read(key: string, onChunk: (chunk: Buffer) => Promise<void> | void): Promise<ArtifactInfo> {
    return downloadArtifact(this.call, key, onChunk);
  }

  async list(options: { prefix?: string; runId?: string; limit?: number } = {}): Promise<ArtifactInfo[]> {
    return (await this.transport.call('artifact.list', options)).artifacts;
  }

  /** True when the key existed. */
  async delete(key: string): Promise<boolean> {
    return (await this.transport.call('artifact.delete', { key })).deleted;
  }
}

/**
 * Inside a job (TITAN_RUN_ID, TITAN_JOB_ID and TITAN_ATTEMPT set by the worker), what it publishes
 * is recorded as coming from that attempt, so `titan artifacts list --run` finds it.
 */
export function provenanceFromEnv(env: NodeJS.ProcessEnv = process.env): Provenance {
  const attempt = Number(env.TITAN_ATTEMPT);
  if (!env.TITAN_RUN_ID || !env.TITAN_JOB_ID || !Number.isInteger(attempt) || attempt < 1) return {};
  return { runId: env.TITAN_RUN_ID, jobId: env.TITAN_JOB_ID, attempt };
}

/** Streams an artifact into `destPath` through a `.part` file that replaces it only once verified. */
export async function fetchToFile(call: DataBusCall, key: string, destPath: string): Promise<ArtifactInfo> {
  const part = `${destPath}.part`;
  let file: FileHandle;
  try {
    file = await open(part, 'w');
  } catch (err) {
    throw new TitanError('BAD_REQUEST', `cannot write ${destPath}: ${(err as Error).message}`);
  }
  try {
    const artifact = await downloadArtifact(call, key, async (chunk) => {
      await file.write(chunk);
    });
    await file.close();
    await rename(part, destPath);
    return artifact;
  } catch (err) {
    await file.close().catch(() => {});
    await unlink(part).catch(() => {});
    throw err;
  }
}
