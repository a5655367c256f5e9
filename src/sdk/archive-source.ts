/**
 * A zip archive a job runs an entry of (Titan's project mode): its content in memory, or a path
 * to a zip file. Within one submission each archive is read and hashed once, however many jobs
 * use it, and uploaded once by its sha256.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ArchiveRef } from '../core/model.js';
import { BadRequestError } from './errors.js';

export type ArchiveSource =
  /** A zip in memory, stored on the master as `name` (a bare file name such as `proj.zip`). */
  | { name: string; content: Buffer | Uint8Array; entry: string }
  /** A zip file on local disk, stored as its base name unless `name` says otherwise. */
  | { path: string; entry: string; name?: string }
  /** A zip already on the master (uploaded as a blob), by its content hash: sent as it is. */
  | ArchiveRef;

/** Loads archives for one submission, reading each path and hashing each content once. */
export class ArchiveLoader {
  private readonly files = new Map<string, Promise<Buffer>>();
  private readonly hashes = new Map<Uint8Array, string>();

  /** The archive's name, hash and content; no content for a reference to an archive already uploaded. */
  async load(source: ArchiveSource): Promise<{ name: string; content: Buffer | null; sha256: string }> {
    if ('sha256' in source) return { name: source.name, content: null, sha256: source.sha256 };
    let content: Buffer;
    let name: string;
    if ('path' in source) {
      let read = this.files.get(source.path);
      if (!read) {
        read = readFile(source.path).catch((err: NodeJS.ErrnoException) => {
          throw new BadRequestError(`cannot read archive ${source.path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
        });
        this.files.set(source.path, read);
      }
      content = await read;
      name = source.name ?? basename(source.path);
    } else {
      const raw = source.content;
      content = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      name = source.name;
    }
    let sha256 = this.hashes.get(content);
    if (sha256 === undefined) {
      sha256 = createHash('sha256').update(content).digest('hex');
      this.hashes.set(content, sha256);
    }
    return { name, content, sha256 };
  }
}
