/**
 * Getting an attempt's code onto this disk: scripts and archives are fetched from the master into
 * the worker's content-addressed cache once, however many attempts need them (a lost connection
 * mid-download goes on with the next session), and an archive is unpacked per attempt.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FailureCode } from '../core/failure-codes.js';
import type { ArchiveRef, ScriptRef } from '../core/model.js';
import type { Peer } from '../protocol/peer.js';
import { entryPath, extractArchive } from './archive.js';

export class Stager {
  private readonly fetches = new Map<string, Promise<string>>();

  /** `session`: the current session, or the next one; null once the worker is stopping. */
  constructor(
    private readonly cacheDir: string,
    private readonly session: () => Promise<Peer | null>,
  ) {
    mkdirSync(cacheDir, { recursive: true });
  }

  /** The cached file's path, fetched first if need be. */
  stage(script: ScriptRef | ArchiveRef): Promise<string> {
    const path = join(this.cacheDir, script.sha256, script.name);
    if (existsSync(path)) {
      // A use keeps the entry from the pruner.
      const now = new Date();
      utimesSync(dirname(path), now, now);
      return Promise.resolve(path);
    }
    let fetch = this.fetches.get(path);
    if (!fetch) {
      fetch = this.download(script, path).finally(() => this.fetches.delete(path));
      this.fetches.set(path, fetch);
    }
    return fetch;
  }

  private async download(script: ScriptRef | ArchiveRef, path: string): Promise<string> {
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      // A dispatch can arrive just before this side has finished its HELLO: wait for the session.
      const peer = await this.session();
      if (!peer) throw new Error('the worker is stopping');
      let chunk: { data: string; size: number };
      try {
        chunk = await peer.request<{ data: string; size: number }>('blob.get', { sha256: script.sha256, offset });
      } catch (err) {
        // A connection lost mid-download is the infrastructure's fault, not the job's: go on with the next session.
        if (peer.closed) continue;
        throw err;
      }
      const data = Buffer.from(chunk.data, 'base64');
      parts.push(data);
      offset += data.length;
      if (offset >= chunk.size || data.length === 0) break;
    }
    const content = Buffer.concat(parts);
    const actual = createHash('sha256').update(content).digest('hex');
    if (actual !== script.sha256) throw new Error(`content does not match its hash ${script.sha256}`);
    const dir = join(this.cacheDir, script.sha256);
    mkdirSync(dir, { recursive: true });
    // Passable, not listable, whatever the umask: a job running as another user reads its own script here.
    chmodSync(dir, 0o711);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, content);
    chmodSync(tmp, 0o755);
    renameSync(tmp, path);
    return path;
  }
}

/**
 * Extracts the attempt's copy of an archive into `dest` and finds its entry, which is made
 * executable like a staged script. Every failure fails fast: the same archive would fail again.
 */
export function unpack(archive: ArchiveRef, zipPath: string, dest: string): { scriptPath: string } | { error: string; errorCode: Extract<FailureCode, 'BAD_ARCHIVE' | 'SCRIPT_NOT_FOUND'> } {
  let scriptPath: string;
  try {
    extractArchive(readFileSync(zipPath), dest);
    scriptPath = entryPath(dest, archive.entry);
  } catch (err) {
    return { error: `cannot unpack ${archive.name}: ${(err as Error).message}`, errorCode: 'BAD_ARCHIVE' };
  }
  if (statSync(scriptPath, { throwIfNoEntry: false })?.isFile() !== true) {
    return { error: `entry ${archive.entry} not found in archive ${archive.name}`, errorCode: 'SCRIPT_NOT_FOUND' };
  }
  chmodSync(scriptPath, 0o755);
  return { scriptPath };
}
