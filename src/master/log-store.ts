/**
 * Job output on the master: one file per attempt under `logs/<runId>/<jobId>/<attempt>.log`,
 * appended synchronously so a read never lags a write, plus live listeners for `logs -f`.
 * An attempt's file stops at `maxBytes` with a line saying so, so one chatty job cannot fill
 * the master's disk. Ids are validated by the schemas before they reach a path.
 *
 * An append that fails (a full disk, no file handles left) never throws: the bytes that could
 * not be stored are counted per attempt with the reason, kept in memory and in a marker file
 * beside the log (`<attempt>.lost`) as soon as one can be written, and noted in the log itself
 * where the gap is once writing works again, so that `titan logs` can say what is missing.
 *
 * The values of the secrets an attempt received are masked before its output is stored or
 * streamed (core/secret-mask.ts): here, on the master, every output passes, whatever the worker's
 * version, and the values are known without sending them anywhere else.
 *
 * Which bytes came from stderr is kept beside the log (stderr-ranges.ts), computed on the bytes
 * as written (after masking), for the dashboard to mark them.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { MASTER_DEFAULTS } from '../config/master-defaults.js';
import { type OutputStream, StreamMasker, type StreamText } from '../core/output-streams.js';
import { SecretMasker } from '../core/secret-mask.js';
import { diskFullMessage, isNoSpace } from '../store/disk-space.js';
import { makePrivateDir, PRIVATE_FILE, replaceFile, writeAvailable } from './disk-writes.js';
import { pageRanges, type Range, readStderrRanges, StderrRanges } from './stderr-ranges.js';

export type LogListener = (attempt: number, data: string, stream: OutputStream) => void;

/** Output of an attempt that could not be stored, and why (the latest reason). */
export interface LogLoss {
  bytes: number;
  reason: string;
}

/** Hears the bytes stored and the runs whose logs are removed (the total kept under --max-logs-mb). */
export interface LogUsage {
  stored(runId: string, bytes: number): void;
  removed(runId: string): void;
}

export interface LogStoreOptions {
  /** The most one attempt keeps (default: the master's, MASTER_DEFAULTS.maxLogBytes). */
  maxBytes?: number;
  /** Where the first loss of each attempt is reported (the master's log). */
  log?: (line: string) => void;
  usage?: LogUsage;
  /** The secret values to mask in an attempt's output when none were given by `mask` (an attempt reclaimed after a restart). */
  secretsOf?: (runId: string, jobId: string, attempt: number) => readonly string[];
}

interface OpenLog {
  fd: number;
  bytes: number;
  stderr: StderrRanges;
}

interface Loss extends LogLoss {
  /** Bytes lost since the last note written into the log. */
  unnoted: number;
  /** Whether the marker file holds the current count. */
  saved: boolean;
}

const LossSchema = z.strictObject({ bytes: z.number().int().nonnegative(), reason: z.string().max(4096) });
const RemovedSchema = z.strictObject({ reason: z.string().max(4096) });

/** The file of a run whose logs were removed, saying why (ids cannot start with a dot). */
const REMOVED_NOTE = '.removed';

export class LogStore {
  private readonly open = new Map<string, OpenLog>();
  private readonly losses = new Map<string, Loss>();
  private readonly listeners = new Map<string, Set<LogListener>>();
  private readonly maxBytes: number;
  private readonly log: (line: string) => void;
  private readonly usage: LogUsage | undefined;
  private readonly maskers = new Map<string, StreamMasker>();
  private readonly secretsOf: LogStoreOptions['secretsOf'];

  constructor(
    private readonly dir: string,
    options: LogStoreOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? MASTER_DEFAULTS.maxLogBytes;
    this.log = options.log ?? (() => undefined);
    this.usage = options.usage;
    this.secretsOf = options.secretsOf;
    makePrivateDir(dir);
  }

  pathOf(runId: string, jobId: string, attempt: number): string {
    return join(this.dir, runId, jobId, `${attempt}.log`);
  }

  private stderrPath(runId: string, jobId: string, attempt: number): string {
    return join(this.dir, runId, jobId, `${attempt}.stderr`);
  }

  private lossPath(runId: string, jobId: string, attempt: number): string {
    return join(this.dir, runId, jobId, `${attempt}.lost`);
  }

  /** The values to mask in the attempt's output (the secrets it was dispatched with). */
  mask(runId: string, jobId: string, attempt: number, values: readonly string[]): void {
    this.maskers.set(`${runId}/${jobId}#${attempt}`, new StreamMasker(new SecretMasker(values)));
  }

  append(runId: string, jobId: string, attempt: number, chunk: string, stream: OutputStream = 'stdout'): void {
    const key = `${runId}/${jobId}#${attempt}`;
    let masker = this.maskers.get(key);
    if (masker === undefined && this.secretsOf !== undefined) {
      masker = new StreamMasker(new SecretMasker(this.secretsOf(runId, jobId, attempt)));
      this.maskers.set(key, masker);
    }
    const pieces: StreamText[] = masker ? masker.push(chunk, stream) : [{ text: chunk, stream }];
    for (const piece of pieces) if (piece.text !== '') this.write(key, runId, jobId, attempt, piece);
  }

  private write(key: string, runId: string, jobId: string, attempt: number, { text: data, stream }: StreamText): void {
    let log = this.open.get(key);
    if (log === undefined) {
      try {
        log = this.openLog(runId, jobId, attempt);
      } catch (err) {
        this.lose(runId, jobId, attempt, Buffer.byteLength(data), err);
        this.tell(runId, jobId, attempt, data, stream);
        return;
      }
      this.open.set(key, log);
    }
    if (log.bytes > this.maxBytes) return;
    let buf = Buffer.from(data);
    const truncated = log.bytes + buf.length > this.maxBytes;
    let outputBytes = buf.length;
    if (truncated) {
      const room = buf.subarray(0, this.maxBytes - log.bytes);
      outputBytes = completeUtf8Length(room);
      buf = Buffer.concat([room.subarray(0, outputBytes), Buffer.from(`\n[titan: output truncated: an attempt keeps at most ${this.maxBytes} bytes on the master (--max-log-mb)]\n`)]);
    }
    const loss = this.losses.get(key);
    if (loss !== undefined && loss.unnoted > 0) this.note(runId, log, loss);
    const { written, error } = writeAvailable(log.fd, buf);
    if (stream === 'stderr') log.stderr.add(log.bytes, Math.min(written, outputBytes));
    // Past the cap by the marker's length once truncated, so nothing more is written for this attempt.
    log.bytes += written;
    this.usage?.stored(runId, written);
    if (error !== null) this.lose(runId, jobId, attempt, buf.length - written, error);
    else if (loss !== undefined && !loss.saved) this.save(runId, jobId, attempt, loss);
    // Followers see the output even when it could not be stored.
    if (!truncated || stream === 'stdout') return this.tell(runId, jobId, attempt, truncated ? buf.toString('utf8') : data, stream);
    // The note saying so is Titan's, told apart from the stderr it follows.
    this.tell(runId, jobId, attempt, buf.subarray(0, outputBytes).toString('utf8'), stream);
    this.tell(runId, jobId, attempt, buf.subarray(outputBytes).toString('utf8'), 'stdout');
  }

  private openLog(runId: string, jobId: string, attempt: number): OpenLog {
    makePrivateDir(join(this.dir, runId, jobId));
    const fd = openSync(this.pathOf(runId, jobId, attempt), 'a', PRIVATE_FILE);
    return { fd, bytes: fstatSync(fd).size, stderr: new StderrRanges(this.stderrPath(runId, jobId, attempt)) };
  }

  private tell(runId: string, jobId: string, attempt: number, data: string, stream: OutputStream): void {
    if (data === '') return;
    for (const listener of this.listeners.get(`${runId}/${jobId}`) ?? []) listener(attempt, data, stream);
  }

  /** Counts output that could not be stored; the first loss of an attempt is logged. */
  private lose(runId: string, jobId: string, attempt: number, bytes: number, err: unknown): void {
    const key = `${runId}/${jobId}#${attempt}`;
    const reason = isNoSpace(err) ? diskFullMessage(this.dir, err.code ?? 'ENOSPC') : err instanceof Error ? err.message : String(err);
    let loss = this.losses.get(key);
    if (loss === undefined) {
      loss = { bytes: 0, reason, unnoted: 0, saved: false };
      this.losses.set(key, loss);
      this.log(`the output of ${runId}/${jobId} (attempt ${attempt}) could not be stored: ${reason}; what is lost is counted and titan logs reports it`);
    }
    loss.bytes += bytes;
    loss.unnoted += bytes;
    loss.reason = reason;
    loss.saved = false;
    this.save(runId, jobId, attempt, loss);
  }

  /** Marks the gap in the log where output went missing; tried again at the next append if it fails. */
  private note(runId: string, log: OpenLog, loss: Loss): void {
    const { written, error } = writeAvailable(log.fd, Buffer.from(`\n[titan: ${loss.unnoted} bytes of output could not be stored: ${loss.reason}]\n`));
    log.bytes += written;
    this.usage?.stored(runId, written);
    if (error === null) loss.unnoted = 0;
  }

  /** Best effort: on a disk that is still full the count stays in memory until a later try. */
  private save(runId: string, jobId: string, attempt: number, loss: Loss): void {
    try {
      makePrivateDir(join(this.dir, runId, jobId));
      replaceFile(this.lossPath(runId, jobId, attempt), JSON.stringify({ bytes: loss.bytes, reason: loss.reason }), this.dir);
      loss.saved = true;
    } catch {
      // tried again at the next append and at close
    }
  }

  /** The attempt is over: release its file handle. */
  close(runId: string, jobId: string, attempt: number): void {
    const key = `${runId}/${jobId}#${attempt}`;
    const masker = this.maskers.get(key);
    this.maskers.delete(key);
    // What was held back in case it began a secret's value, masked if it completed one.
    for (const piece of masker?.end() ?? []) this.write(key, runId, jobId, attempt, piece);
    const log = this.open.get(key);
    if (log !== undefined) {
      closeSync(log.fd);
      log.stderr.close();
      this.open.delete(key);
    }
    const loss = this.losses.get(key);
    if (loss !== undefined && !loss.saved) this.save(runId, jobId, attempt, loss);
    // Once on disk, the marker file answers for it.
    if (loss?.saved) this.losses.delete(key);
  }

  /** What of the attempt's output could not be stored, or null when nothing was lost. */
  lostOf(runId: string, jobId: string, attempt: number): LogLoss | null {
    const loss = this.losses.get(`${runId}/${jobId}#${attempt}`);
    if (loss !== undefined) return { bytes: loss.bytes, reason: loss.reason };
    return readJson(this.lossPath(runId, jobId, attempt), LossSchema);
  }

  /**
   * Reads up to `limit` bytes from `offset`, never splitting a UTF-8 character; `stderr`: the
   * ranges of `data` (in its characters) that came from stderr.
   */
  read(runId: string, jobId: string, attempt: number, offset: number, limit: number): { data: string; nextOffset: number; size: number; stderr: Range[] } {
    const path = this.pathOf(runId, jobId, attempt);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return { data: '', nextOffset: 0, size: 0, stderr: [] };
    }
    const length = Math.max(0, Math.min(limit, size - offset));
    if (length === 0) return { data: '', nextOffset: offset, size, stderr: [] };
    const buf = Buffer.allocUnsafe(length);
    const fd = openSync(path, 'r');
    let read: number;
    try {
      read = readSync(fd, buf, 0, length, offset);
    } finally {
      closeSync(fd);
    }
    const end = offset + read < size ? completeUtf8Length(buf.subarray(0, read)) : read;
    const page = buf.subarray(0, end);
    return { data: page.toString('utf8'), nextOffset: offset + end, size, stderr: pageRanges(readStderrRanges(this.stderrPath(runId, jobId, attempt)), page, offset) };
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

  /**
   * Removes every log of a run (a deleted run, or one removed to keep the total under a cap).
   * With a `note`, a file saying why is left in their place (see removedNote).
   */
  removeRun(runId: string, note?: string): void {
    for (const [key, { fd, stderr }] of this.open) {
      if (!key.startsWith(`${runId}/`)) continue;
      closeSync(fd);
      stderr.close();
      this.open.delete(key);
    }
    for (const key of this.losses.keys()) if (key.startsWith(`${runId}/`)) this.losses.delete(key);
    for (const key of this.maskers.keys()) if (key.startsWith(`${runId}/`)) this.maskers.delete(key);
    const dir = join(this.dir, runId);
    rmSync(dir, { recursive: true, force: true });
    this.usage?.removed(runId);
    if (note === undefined) return;
    try {
      makePrivateDir(dir);
      replaceFile(join(dir, REMOVED_NOTE), JSON.stringify({ reason: note }), this.dir);
    } catch {
      // a read then finds no output and no note: as after a deletion
    }
  }

  /** Why the run's logs were removed, if they were (removeRun with a note). */
  removedNote(runId: string): string | null {
    return readJson(join(this.dir, runId, REMOVED_NOTE), RemovedSchema)?.reason ?? null;
  }

  /** A tail held back by a masker is not written: it may be the first half of a value whose second half a later master stores. */
  closeAll(): void {
    this.maskers.clear();
    for (const { fd, stderr } of this.open.values()) {
      closeSync(fd);
      stderr.close();
    }
    this.open.clear();
  }
}

/** A small JSON file this store wrote, checked against its schema; null when absent or unreadable. */
function readJson<T>(path: string, schema: z.ZodType<T>): T | null {
  if (!existsSync(path)) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
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
