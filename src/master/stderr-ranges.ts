/**
 * Which bytes of an attempt's stored log came from stderr: a file beside the log
 * (`<attempt>.stderr`) with one `start length` line per range, appended as the log is, so that
 * the log itself stays exactly the job's output. Bounded: past MAX_STDERR_RANGES ranges an
 * attempt's later stderr is stored unmarked.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { PRIVATE_FILE, writeAvailable } from './disk-writes.js';

/** Ranges kept per attempt (a file of at most ~1 MiB). */
export const MAX_STDERR_RANGES = 50_000;

/** A range of a text, [start, length]. */
export type Range = [number, number];

export class StderrRanges {
  private fd: number | null = null;
  private count = 0;
  /** The end of the last range written, to extend rather than start one when stderr continues. */
  private lastEnd = -1;

  constructor(private readonly path: string) {}

  /** Records that bytes [start, start + length) of the log came from stderr; best effort. */
  add(start: number, length: number): void {
    if (length <= 0 || this.count >= MAX_STDERR_RANGES) return;
    try {
      this.fd ??= openSync(this.path, 'a', PRIVATE_FILE);
    } catch {
      return;
    }
    const { error } = writeAvailable(this.fd, Buffer.from(`${start} ${length}\n`));
    if (error !== null) return;
    if (start !== this.lastEnd) this.count++;
    this.lastEnd = start + length;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** The stderr ranges of a stored log, in bytes, sorted and with touching ones joined; none when there is no file. */
export function readStderrRanges(path: string): Range[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const ranges: Range[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) (\d+)$/.exec(line);
    if (m === null) continue; // a line cut short by a full disk
    const start = Number(m[1]);
    const length = Number(m[2]);
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last[0] + last[1] === start) last[1] += length;
    else ranges.push([start, length]);
  }
  return ranges.sort((a, b) => a[0] - b[0]);
}

/**
 * The ranges that fall in the page `buf` read at byte `offset`, clipped to it and given in
 * characters (UTF-16 code units) of the page's text, as a client indexes it.
 */
export function pageRanges(ranges: readonly Range[], buf: Buffer, offset: number): Range[] {
  const end = offset + buf.length;
  const out: Range[] = [];
  let charsAt = 0;
  let bytesAt = 0;
  const charsOf = (byte: number): number => {
    charsAt += buf.subarray(bytesAt, byte).toString('utf8').length;
    bytesAt = byte;
    return charsAt;
  };
  for (const [start, length] of ranges) {
    const from = Math.max(start, offset);
    const to = Math.min(start + length, end);
    if (to <= from) continue;
    const a = charsOf(from - offset);
    const b = charsOf(to - offset);
    out.push([a, b - a]);
  }
  return out;
}
