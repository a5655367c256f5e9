/**
 * Job output on the master: one file per attempt under `logs/<runId>/<jobId>/<attempt>.log`,
 * appended synchronously so a read never lags a write, plus live listeners for `logs -f`.
 * An attempt's file stops at `maxBytes` with a line saying so, so one chatty job cannot fill
 * the master's disk. Ids are validated by the schemas before they reach a path.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export type LogListener = (attempt: number, data: string) => void;

/** The default cap of one attempt's output: 128 MiB. */
export const DEFAULT_MAX_LOG_BYTES = 128 * 1024 * 1024;

interface OpenLog {
  fd: number;
  bytes: number;
}

export class LogStore {
  private readonly open = new Map<string, OpenLog>();
  private readonly listeners = new Map<string, Set<LogListener>>();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number = DEFAULT_MAX_LOG_BYTES,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  pathOf(runId: string, jobId: string, attempt: number): string {
    return join(this.dir, runId, jobId, `${attempt}.log`);
  }

  append(runId: string, jobId: string, attempt: number, data: string): void {
    const key = `${runId}/${jobId}#${attempt}`;
    let log = this.open.get(key);
    if (log === undefined) {
      mkdirSync(join(this.dir, runId, jobId), { recursive: true });
      const fd = openSync(this.pathOf(runId, jobId, attempt), 'a');
      log = { fd, bytes: fstatSync(fd).size };
      this.open.set(key, log);
    }
    if (log.bytes > this.maxBytes) return;
    let buf = Buffer.from(data);
    const truncated = log.bytes + buf.length > this.maxBytes;
    if (truncated) {
      const room = buf.subarray(0, this.maxBytes - log.bytes);
      buf = Buffer.concat([room.subarray(0, completeUtf8Length(room)), Buffer.from(`\n[titan: output truncated: an attempt keeps at most ${this.maxBytes} bytes on the master (--max-log-mb)]\n`)]);
    }
    writeSync(log.fd, buf);
    // Past the cap by the marker's length once truncated, so nothing more is written for this attempt.
    log.bytes += buf.length;
    const written = truncated ? buf.toString('utf8') : data;
    for (const listener of this.listeners.get(`${runId}/${jobId}`) ?? []) listener(attempt, written);
  }

  /** The attempt is over: release its file handle. */
  close(runId: string, jobId: string, attempt: number): void {
    const key = `${runId}/${jobId}#${attempt}`;
    const log = this.open.get(key);
    if (log !== undefined) {
      closeSync(log.fd);
      this.open.delete(key);
    }
  }

  /** Reads up to `limit` bytes from `offset`, never splitting a UTF-8 character. */
  read(runId: string, jobId: string, attempt: number, offset: number, limit: number): { data: string; nextOffset: number; size: number } {
    const path = this.pathOf(runId, jobId, attempt);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return { data: '', nextOffset: 0, size: 0 };
    }
    const length = Math.max(0, Math.min(limit, size - offset));
    if (length === 0) return { data: '', nextOffset: offset, size };
    const buf = Buffer.allocUnsafe(length);
    const fd = openSync(path, 'r');
    let read: number;
    try {
      read = readSync(fd, buf, 0, length, offset);
    } finally {
      closeSync(fd);
    }
    const end = offset + read < size ? completeUtf8Length(buf.subarray(0, read)) : read;
    return { data: buf.subarray(0, end).toString('utf8'), nextOffset: offset + end, size };
  }

  /** Live output of every attempt of a job; returns the unsubscribe function. */
  listen(runId: string, jobId: string, listener: LogListener): () => void {
    const key = `${runId}/${jobId}`;
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  /** Removes every log of a run (a deleted run). */
  removeRun(runId: string): void {
    for (const [key, { fd }] of this.open) {
      if (!key.startsWith(`${runId}/`)) continue;
      closeSync(fd);
      this.open.delete(key);
    }
    rmSync(join(this.dir, runId), { recursive: true, force: true });
  }

  closeAll(): void {
    for (const { fd } of this.open.values()) closeSync(fd);
    this.open.clear();
  }
}

/** Length of the longest prefix that does not end inside a multi-byte UTF-8 sequence. */
function completeUtf8Length(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const byte = buf[buf.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? buf.length - back : buf.length;
  }
  return buf.length;
}
