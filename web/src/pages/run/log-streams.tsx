/**
 * Which parts of a job's shown output came from stderr: kept as [start, length] character
 * ranges of the text as it is buffered, and turned into segments for display (ANSI codes
 * stripped per segment, lines filtered, search matches marked within them).
 */
import type { ReactNode } from 'react';
import { stripAnsi } from '../../format.ts';

export type Range = [number, number];

export interface Segment {
  text: string;
  stderr: boolean;
}

/** `ranges` shifted by `by` characters and clipped to start at 0 (what lies before was dropped). */
export function shiftRanges(ranges: readonly Range[], by: number): Range[] {
  const out: Range[] = [];
  for (const [start, length] of ranges) {
    const s = Math.max(0, start + by);
    const e = start + by + length;
    if (e > s) out.push([s, e - s]);
  }
  return out;
}

/** The text cut into stdout and stderr segments, each with its ANSI codes stripped. */
export function segmentsOf(text: string, ranges: readonly Range[]): Segment[] {
  const out: Segment[] = [];
  const add = (t: string, stderr: boolean): void => {
    const s = stripAnsi(t);
    if (s === '') return;
    const last = out[out.length - 1];
    if (last?.stderr === stderr) last.text += s;
    else out.push({ text: s, stderr });
  };
  // Touching ranges make one segment, so that an escape code split between them is still stripped.
  const joined: Range[] = [];
  for (const [start, length] of ranges) {
    const last = joined[joined.length - 1];
    if (last !== undefined && last[0] + last[1] === start) last[1] += length;
    else joined.push([start, length]);
  }
  let at = 0;
  for (const [start, length] of joined) {
    add(text.slice(at, start), false);
    add(text.slice(start, start + length), true);
    at = start + length;
  }
  add(text.slice(at), false);
  return out;
}

/** Only the lines that contain `needle` (case-insensitive), their segments kept. */
export function matchingLines(segments: readonly Segment[], needle: string): Segment[] {
  const lines: Segment[][] = [[]];
  for (const seg of segments) {
    seg.text.split('\n').forEach((part, i) => {
      if (i > 0) lines.push([]);
      if (part !== '') (lines[lines.length - 1] as Segment[]).push({ text: part, stderr: seg.stderr });
    });
  }
  const n = needle.toLowerCase();
  const kept = lines.filter((line) => line.map((s) => s.text).join('').toLowerCase().includes(n));
  const out: Segment[] = [];
  kept.forEach((line, i) => {
    if (i > 0) out.push({ text: '\n', stderr: line[0]?.stderr ?? false });
    out.push(...line);
  });
  return out;
}

/**
 * The segments rendered with the search's parts (of the same text) marked: stderr text is
 * wrapped in a tinted span with a left marker and a title; `mark` renders each match part.
 */
export function renderSegments(segments: readonly Segment[], parts: readonly { text: string; match: boolean }[], mark: (text: string, key: string) => ReactNode): ReactNode[] {
  const nodes: ReactNode[] = [];
  let p = 0;
  let pAt = 0;
  segments.forEach((seg, si) => {
    const inner: ReactNode[] = [];
    for (let at = 0; at < seg.text.length && p < parts.length; ) {
      const part = parts[p] as { text: string; match: boolean };
      const take = Math.min(part.text.length - pAt, seg.text.length - at);
      const text = seg.text.slice(at, at + take);
      inner.push(part.match ? mark(text, `${si}-${at}`) : text);
      at += take;
      pAt += take;
      if (pAt >= part.text.length) {
        p++;
        pAt = 0;
      }
    }
    nodes.push(
      seg.stderr ? (
        <span key={si} className="log-stderr" data-stream="stderr" title="stderr">
          {inner}
        </span>
      ) : (
        inner
      ),
    );
  });
  return nodes;
}
