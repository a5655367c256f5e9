/**
 * Content-addressed files (scripts now, archives later) under `blobs/<aa>/<sha256>`. Uploads
 * arrive in order-checked chunks into a `.part` file and become visible only once their hash
 * matches, so a half-written or corrupted upload is never served. On a full disk the upload is
 * refused with UNAVAILABLE and its partial file removed.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { TitanError } from '../core/errors.js';
import { makePrivateDir, noSpaceError, PRIVATE_FILE, writeAll } from './disk-writes.js';

export class BlobStore {
  private readonly known = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {
    makePrivateDir(dir);
  }

  private pathOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  has(sha256: string): boolean {
    if (this.known.has(sha256)) return true;
    if (!existsSync(this.pathOf(sha256))) return false;
    this.known.add(sha256);
    return true;
  }

  /** The stored file's size, looked up on disk (a file removed behind the master's back is forgotten); null when absent. */
  sizeOf(sha256: string): number | null {
    try {
      const size = statSync(this.pathOf(sha256)).size;
      this.known.add(sha256);
      return size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.known.delete(sha256);
      return null;
    }
  }

  /** Appends a chunk at `offset` (which must equal the bytes received so far). */
  put(sha256: string, offset: number, data: Buffer, final: boolean): { size: number; complete: boolean } {
    if (this.has(sha256)) return { size: statSync(this.pathOf(sha256)).size, complete: true };
    const path = this.pathOf(sha256);
    const part = `${path}.part`;
    try {
      makePrivateDir(join(this.dir, sha256.slice(0, 2)));
    } catch (err) {
      throw noSpaceError(this.dir, err);
    }
    const current = existsSync(part) ? statSync(part).size : 0;
    if (offset === 0 && current > 0) unlinkSync(part);
    else if (offset !== current) throw new TitanError('BAD_REQUEST', `upload of ${sha256} expected offset ${current}, got ${offset}`);
    if (offset + data.length > this.maxBytes) {
      if (existsSync(part)) unlinkSync(part);
      throw new TitanError('BAD_REQUEST', `file ${sha256} exceeds the limit of ${this.maxBytes} bytes`);
    }
    try {
      const fd = openSync(part, offset === 0 ? 'w' : 'a', PRIVATE_FILE);
      try {
        writeAll(fd, data);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      // A partial chunk cannot be resumed from: the upload starts again from offset 0.
      rmSync(part, { force: true });
      throw noSpaceError(this.dir, err);
    }
    const size = offset + data.length;
    if (!final) return { size, complete: false };
    const actual = createHash('sha256').update(readFileSync(part)).digest('hex');
    if (actual !== sha256) {
      unlinkSync(part);
      throw new TitanError('BAD_REQUEST', `upload does not match its hash: expected ${sha256}, got ${actual}`);
    }
    try {
      renameSync(part, path);
    } catch (err) {
      rmSync(part, { force: true });
      throw noSpaceError(this.dir, err);
    }
    this.known.add(sha256);
    return { size, complete: true };
  }

  /** Stores a whole file held in memory; returns its hash. */
  putBuffer(data: Buffer): string {
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (!this.has(sha256)) this.put(sha256, 0, data, true);
    return sha256;
  }

  /** Reads up to `limit` bytes from `offset`. */
  read(sha256: string, offset: number, limit: number): { data: Buffer; size: number } {
    if (!this.has(sha256)) throw new TitanError('NOT_FOUND', `no file with hash ${sha256}`);
    const path = this.pathOf(sha256);
    const size = statSync(path).size;
    const length = Math.max(0, Math.min(limit, size - offset));
    const data = Buffer.allocUnsafe(length);
    if (length > 0) {
      const fd = openSync(path, 'r');
      try {
        readSync(fd, data, 0, length, offset);
      } finally {
        closeSync(fd);
      }
    }
    return { data, size };
  }
}
