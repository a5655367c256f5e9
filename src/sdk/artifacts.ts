/** Artifact helpers of the SDK that touch local files or the job's environment. */
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import type { ArtifactInfo } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import { type DataCall, downloadArtifact, type Provenance } from '../protocol/artifact-transfer.js';

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
export async function fetchToFile(call: DataCall, key: string, destPath: string): Promise<ArtifactInfo> {
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
