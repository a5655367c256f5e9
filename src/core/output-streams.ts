/**
 * Which stream (stdout or stderr) each part of a job's output came from, carried through secret
 * masking: the masker sees one text, as the stored log is one text, and every character it
 * outputs keeps the stream of the input it came from (a mask, the stream of the value's first
 * character).
 */
import { SECRET_MASK, type SecretMasker } from './secret-mask.js';

export type OutputStream = 'stdout' | 'stderr';

/** A piece of output from one stream. */
export interface StreamText {
  text: string;
  stream: OutputStream;
}

interface Span {
  stream: OutputStream;
  length: number;
}

export class StreamMasker {
  /** The input the masker holds back, and the streams of its characters. */
  private held = '';
  private heldSpans: Span[] = [];

  constructor(private readonly masker: SecretMasker) {}

  /** The chunk masked, split where its stream changes; what the masker holds back comes later. */
  push(chunk: string, stream: OutputStream): StreamText[] {
    if (!this.masker.active) return chunk === '' ? [] : [{ text: chunk, stream }];
    const input = this.held + chunk;
    const spans = [...this.heldSpans, { stream, length: chunk.length }];
    this.masker.push(chunk);
    const consumed = input.length - this.masker.holding;
    this.held = input.slice(consumed);
    this.heldSpans = takeSpans(spans, consumed);
    return align(input.slice(0, consumed), spans, this.masker);
  }

  /** The end of the output: what was held back, masked. */
  end(): StreamText[] {
    const input = this.held;
    const spans = this.heldSpans;
    this.held = '';
    this.heldSpans = [];
    this.masker.end();
    return align(input, spans, this.masker);
  }
}

/** The spans of what follows the first `n` characters. */
function takeSpans(spans: readonly Span[], n: number): Span[] {
  const rest: Span[] = [];
  let left = n;
  for (const s of spans) {
    if (left >= s.length) left -= s.length;
    else {
      rest.push({ stream: s.stream, length: s.length - left });
      left = 0;
    }
  }
  return rest;
}

/** The masker's output for `input` (every value replaced), each piece with the stream of the input it came from. */
function align(input: string, spans: readonly Span[], masker: SecretMasker): StreamText[] {
  const result: StreamText[] = [];
  let spanIndex = 0;
  let spanEnd = spans[0]?.length ?? 0;
  const streamAt = (i: number): OutputStream => {
    while (i >= spanEnd && spanIndex < spans.length - 1) spanEnd += (spans[++spanIndex] as Span).length;
    return (spans[spanIndex] as Span | undefined)?.stream ?? 'stdout';
  };
  const add = (text: string, stream: OutputStream): void => {
    if (text === '') return;
    const last = result[result.length - 1];
    if (last?.stream === stream) last.text += text;
    else result.push({ text, stream });
  };
  /** Copies input[from, to) as it is, split where the stream changes. */
  const copy = (from: number, to: number): void => {
    for (let i = from; i < to; ) {
      const stream = streamAt(i);
      const end = Math.min(to, Math.max(i + 1, spanEnd));
      add(input.slice(i, end), stream);
      i = end;
    }
  };
  let i = 0;
  for (let found = masker.next(input, 0); found !== null; found = masker.next(input, i)) {
    copy(i, found.at);
    add(SECRET_MASK, streamAt(found.at));
    i = found.at + found.length;
  }
  copy(i, input.length);
  return result;
}

/** A text cut into its stderr ranges ([start, length] in characters, sorted) and the stdout between them. */
export function splitStreams(text: string, stderr: readonly (readonly [number, number])[]): StreamText[] {
  const pieces: StreamText[] = [];
  let at = 0;
  for (const [start, length] of stderr) {
    if (start > at) pieces.push({ text: text.slice(at, start), stream: 'stdout' });
    pieces.push({ text: text.slice(start, start + length), stream: 'stderr' });
    at = start + length;
  }
  if (at < text.length) pieces.push({ text: text.slice(at), stream: 'stdout' });
  return pieces;
}
