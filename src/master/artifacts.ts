/**
 * Artifacts, the data bus's files: kept on the master under keys. Content is stored once per hash under
 * `artifacts/<aa>/<sha256>` (as blobs are); the key → content mapping with its provenance lives in
 * the store. An upload streams into `artifacts/uploads/<id>` in order-checked chunks, hashed as
 * they arrive, and becomes visible only after the hash matches, the file is synced and its row is
 * committed: an acknowledged artifact survives a crash, and a half-written one is never served.
 * On a full disk an upload fails with UNAVAILABLE and its partial file is removed at once.
 */
import { createHash, type Hash, randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactInfo } from '../core/data.js';
import { ARTIFACT_CHUNK_BYTES } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import type { DataBusStore } from '../store/data-bus-store.js';
import type { Clock } from './clock.js';
import { makePrivateDir, noSpaceError, PRIVATE_FILE } from './disk-writes.js';

/** Open uploads at once, across all connections (each holds a file handle). */
const MAX_UPLOADS = 256;

interface Upload {
  id: string;
  info: Omit<ArtifactInfo, 'sha256' | 'createdAt'>;
  file: FileHandle;
  path: string;
  hash: Hash;
  received: number;
  /** Writes in order; a failed one fails the upload. */
  writes: Promise<void>;
  failure: Error | null;
}

export interface UploadMeta {
  key: string;
  size: number;
  runId?: string | undefined;
  jobId?: string | undefined;
  attempt?: number | undefined;
}

export class ArtifactStore {
  private readonly uploads = new Map<string, Upload>();
  private readonly uploadDir: string;
  /** Serialises "content file + row" changes, so a delete never unlinks content a commit just reused. */
  private exclusive: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly store: DataBusStore,
    private readonly clock: Clock,
    readonly maxBytes: number,
    /** Whether a run still takes artifacts (a deleted one, or one being deleted, does not). */
    private readonly runTakesArtifacts: (runId: string) => Promise<boolean> = async () => true,
  ) {
    this.uploadDir = join(dir, 'uploads');
    makePrivateDir(this.uploadDir);
    // Uploads cut off by a restart cannot resume: the connections that owned them are gone.
    for (const name of readdirSync(this.uploadDir)) rmSync(join(this.uploadDir, name), { force: true });
  }

  private contentPath(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  async begin(meta: UploadMeta): Promise<{ uploadId: string; chunkBytes: number }> {
    if (meta.size > this.maxBytes) throw new TitanError('BAD_REQUEST', `artifact "${meta.key}" is ${meta.size} bytes; this master accepts at most ${this.maxBytes} (--max-artifact-mb)`);
    if (this.uploads.size >= MAX_UPLOADS) throw new TitanError('UNAVAILABLE', `${MAX_UPLOADS} uploads are already in progress; try again shortly`);
    const id = randomBytes(16).toString('hex');
    const path = join(this.uploadDir, id);
    const file = await open(path, 'w', PRIVATE_FILE).catch((err: unknown) => {
      throw noSpaceError(this.uploadDir, err);
    });
    const info = { key: meta.key, size: meta.size, runId: meta.runId ?? null, jobId: meta.jobId ?? null, attempt: meta.attempt ?? null };
    this.uploads.set(id, { id, info, file, path, hash: createHash('sha256'), received: 0, writes: Promise.resolve(), failure: null });
    return { uploadId: id, chunkBytes: ARTIFACT_CHUNK_BYTES };
  }

  /** Appends a chunk at `offset`, which must equal the bytes received so far. */
  async part(uploadId: string, offset: number, data: Buffer): Promise<{ received: number }> {
    const u = this.upload(uploadId);
    if (offset !== u.received) throw new TitanError('BAD_REQUEST', `upload of "${u.info.key}" expected offset ${u.received}, got ${offset}`);
    if (u.received + data.length > u.info.size) {
      await this.abort(uploadId);
      throw new TitanError('BAD_REQUEST', `upload of "${u.info.key}" sent more than the ${u.info.size} bytes it announced`);
    }
    // Counted and hashed now, in arrival order, so the next chunk may be sent before this one is on disk.
    u.received += data.length;
    u.hash.update(data);
    const written = u.writes.then(async () => {
      if (u.failure) return;
      try {
        await u.file.write(data, 0, data.length, offset);
      } catch (err) {
        u.failure = err as Error;
      }
    });
    u.writes = written;
    await written;
    if (u.failure) {
      // The upload cannot go on: its partial file goes now rather than at the next start.
      await this.abort(uploadId);
      throw this.writeFailure(u);
    }
    return { received: u.received };
  }

  /** Verifies size and hash, makes the content durable and publishes the key. */
  async commit(uploadId: string, sha256: string): Promise<ArtifactInfo> {
    const u = this.upload(uploadId);
    this.uploads.delete(uploadId);
    try {
      await u.writes;
      if (u.failure) throw this.writeFailure(u);
      if (u.received !== u.info.size) throw new TitanError('BAD_REQUEST', `upload of "${u.info.key}" is incomplete: ${u.received} of ${u.info.size} bytes arrived`);
      const actual = u.hash.digest('hex');
      if (actual !== sha256) throw new TitanError('BAD_REQUEST', `upload of "${u.info.key}" does not match its sha256: expected ${sha256}, got ${actual}`);
      // A file system that allocates late (ext4) reports a full disk here rather than at the write.
      await u.file.sync();
    } catch (err) {
      await discard(u);
      throw noSpaceError(this.uploadDir, err);
    }
    await u.file.close();
    const info: ArtifactInfo = { ...u.info, sha256, createdAt: this.clock.now() };
    return this.serially(async () => {
      // Checked in the same turn as the row is written, so a run's deletion never leaves one behind.
      if (info.runId !== null && !(await this.runTakesArtifacts(info.runId))) {
        await unlink(u.path);
        throw new TitanError('NOT_FOUND', `run ${info.runId} is deleted: artifact "${info.key}" was not kept`);
      }
      const target = this.contentPath(sha256);
      if (await exists(target)) {
        await unlink(u.path);
      } else {
        const folder = join(this.dir, sha256.slice(0, 2));
        try {
          makePrivateDir(folder);
          await rename(u.path, target);
          await syncDir(folder);
        } catch (err) {
          await unlink(u.path).catch(() => {});
          throw noSpaceError(this.dir, err);
        }
      }
      const orphaned = await this.store.artifactPut(info);
      if (orphaned) await removeFile(this.contentPath(orphaned));
      return info;
    });
  }

  /** Drops an upload and its partial file (its connection closed, or it went wrong). */
  async abort(uploadId: string): Promise<void> {
    const u = this.uploads.get(uploadId);
    if (!u) return;
    this.uploads.delete(uploadId);
    await u.writes;
    await discard(u);
  }

  /** Up to `limit` bytes from `offset`; with `sha256`, only if the key still has that content. */
  async read(key: string, offset: number, limit: number, sha256?: string): Promise<{ artifact: ArtifactInfo; data: Buffer; nextOffset: number }> {
    const artifact = await this.info(key);
    if (sha256 !== undefined && artifact.sha256 !== sha256) throw new TitanError('CONFLICT', `artifact "${key}" was replaced during the download (now sha256 ${artifact.sha256}); start again`);
    if (offset > artifact.size) throw new TitanError('BAD_REQUEST', `offset ${offset} is beyond the end of artifact "${key}" (${artifact.size} bytes)`);
    const length = Math.min(limit, artifact.size - offset);
    const data = Buffer.allocUnsafe(length);
    let file: FileHandle;
    try {
      file = await open(this.contentPath(artifact.sha256), 'r');
    } catch (err) {
      // Deleted between the lookup and the open.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new TitanError('NOT_FOUND', `no artifact "${key}"`);
      throw err;
    }
    try {
      const { bytesRead } = await file.read(data, 0, length, offset);
      return { artifact, data: data.subarray(0, bytesRead), nextOffset: offset + bytesRead };
    } finally {
      await file.close();
    }
  }

  list(prefix: string, runId: string | undefined, limit: number): Promise<{ artifacts: ArtifactInfo[]; truncated: boolean }> {
    return this.store.artifactList(runId === undefined ? { prefix, limit } : { prefix, runId, limit });
  }

  /** Deletes every artifact of a run, in one turn with the commits (see runTakesArtifacts). */
  deleteRun(runId: string): Promise<number> {
    return this.serially(async () => {
      let deleted = 0;
      for (;;) {
        const { artifacts } = await this.store.artifactList({ prefix: '', runId, limit: 500 });
        if (artifacts.length === 0) return deleted;
        for (const a of artifacts) {
          const { orphaned } = await this.store.artifactDelete(a.key);
          if (orphaned) await removeFile(this.contentPath(orphaned));
          deleted++;
        }
      }
    });
  }

  delete(key: string): Promise<boolean> {
    return this.serially(async () => {
      const { deleted, orphaned } = await this.store.artifactDelete(key);
      if (orphaned) await removeFile(this.contentPath(orphaned));
      return deleted;
    });
  }

  private async info(key: string): Promise<ArtifactInfo> {
    const artifact = await this.store.artifactGet(key);
    if (!artifact) throw new TitanError('NOT_FOUND', `no artifact "${key}"`);
    return artifact;
  }

  /** Why an upload's file could not be written: a full disk is UNAVAILABLE, anything else INTERNAL. */
  private writeFailure(u: Upload): unknown {
    const failure = u.failure as Error;
    const err = noSpaceError(this.uploadDir, failure);
    return err === failure ? new TitanError('INTERNAL', `cannot store upload of "${u.info.key}": ${failure.message}`) : err;
  }

  private upload(uploadId: string): Upload {
    const u = this.uploads.get(uploadId);
    if (!u) throw new TitanError('NOT_FOUND', `no upload ${uploadId} in progress (it was committed, aborted, or its connection closed)`);
    return u;
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.exclusive.then(fn);
    this.exclusive = next.catch(() => {});
    return next;
  }
}

/** Best effort: a partial file left behind is removed at the next start anyway. */
async function discard(u: Upload): Promise<void> {
  await u.file.close().catch(() => {});
  await unlink(u.path).catch(() => {});
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Makes a rename in `dir` durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
