/** Output helpers: colour only on a terminal (and never with NO_COLOR), aligned tables, durations. */
import type { JobStatus } from '../core/model.js';

const useColour = (): boolean => Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

const paint = (code: number) => (text: string) => (useColour() ? `\x1b[${code}m${text}\x1b[0m` : text);
export const bold = paint(1);
export const dim = paint(2);
const red = paint(31);
const green = paint(32);
const yellow = paint(33);
const blue = paint(34);
const magenta = paint(35);

export function colourStatus(status: string): string {
  switch (status as JobStatus) {
    case 'COMPLETED':
      return green(status);
    case 'FAILED':
    case 'DEAD':
      return red(status);
    case 'RUNNING':
      return blue(status);
    case 'QUEUED':
    case 'PENDING':
      return yellow(status);
    case 'CANCELLED':
    case 'SKIPPED':
      return dim(status);
    case 'WAITING_APPROVAL':
      return magenta(status);
    default:
      return status;
  }
}

/** A job's error when it says more than its exit code (a plain failure's error is only that), else null. */
export function errorBeyondExitCode(job: { status: string; exitCode: number | null; error: string | null }): string | null {
  return job.error && job.status !== 'COMPLETED' && job.error !== `exit code ${job.exitCode}` ? job.error : null;
}

/** How a job ended, for people: `DEAD (exit code 4)`, `DEAD: timed out after 1 s`, never the same words twice. */
export function outcome(job: { status: string; exitCode: number | null; error: string | null }): string {
  const error = errorBeyondExitCode(job);
  return `${colourStatus(job.status)}${job.exitCode !== null ? ` (exit code ${job.exitCode})` : ''}${error !== null ? `: ${printable(error)}` : ''}`;
}

const visible = (s: string): number => s.replace(/\x1b\[[0-9;]*m/g, '').length;

/** The colours and weights this module paints with: the only escape sequences let through. */
const OWN_STYLE = /^\x1b\[(?:0|1|2|3[1-5])m/;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
const CONTROL_IN_CELL = /[\x00-\x1f\x7f-\x9f]/g;

const escape = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/**
 * Text from the cluster (names, messages, errors) made safe for a terminal: control characters
 * are shown as `\xNN`, so a hostile name cannot move the cursor, rewrite the screen or retitle the
 * window. Line breaks and tabs stay unless `oneLine`; this module's own colours stay.
 */
export function printable(text: string, oneLine = false): string {
  const pattern = oneLine ? CONTROL_IN_CELL : CONTROL;
  let out = '';
  let at = 0;
  for (const m of text.matchAll(pattern)) {
    const i = m.index;
    if (i < at) continue;
    const own = m[0] === '\x1b' ? OWN_STYLE.exec(text.slice(i)) : null;
    out += text.slice(at, i) + (own ? own[0] : escape(m[0]));
    at = i + (own ? own[0].length : 1);
  }
  return out + text.slice(at);
}

export function table(headers: string[], rows: string[][]): string {
  rows = rows.map((r) => r.map((cell) => printable(cell, true)));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visible(c))))
      .join('  ')
      .trimEnd();
  return [bold(line(headers)), ...rows.map(line)].join('\n');
}

export function duration(ms: number | null): string {
  if (ms === null || ms < 0) return '-';
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.round(s % 60)}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}

export function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** A byte count for people: 512 B, 1.5 KiB, 50.0 MiB. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Job counts by status, e.g. `2 COMPLETED, 1 RUNNING (3)`. */
export function summarise(counts: Partial<Record<JobStatus, number>>, total: number): string {
  const parts = Object.entries(counts).map(([s, n]) => `${n} ${colourStatus(s)}`);
  return `${parts.join(', ')}${total > 0 ? ` (${total})` : ''}`;
}
