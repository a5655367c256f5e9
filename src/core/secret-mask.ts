/**
 * Masks the exact values of a job's secrets in its output. Output arrives in chunks, and a value
 * may be split across two of them: the tail of a chunk that could begin a value is held back (at
 * most the longest value less one character) until the next chunk, or the end, decides.
 */
export const SECRET_MASK = '***';

export class SecretMasker {
  /** The values masked, longest first. */
  readonly values: readonly string[];
  private carry = '';

  constructor(values: Iterable<string>) {
    // Longest first, so that of two values starting at one place the longer is masked whole.
    this.values = [...new Set(values)].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
  }

  /** Whether there is anything to mask. */
  get active(): boolean {
    return this.values.length > 0;
  }

  /** How many characters of the input are held back, not yet output. */
  get holding(): number {
    return this.carry.length;
  }

  /** The chunk with every value masked, less what is held back (which a later call or `end` returns). */
  push(chunk: string): string {
    if (!this.active) return chunk;
    const text = this.carry + chunk;
    let out = '';
    let from = 0;
    for (;;) {
      const found = this.next(text, from);
      if (found === null) break;
      // A value that runs past the end may still grow into a longer one: decided by the next chunk.
      if (this.mayGrow(text, found.at)) {
        this.carry = text.slice(found.at);
        return out + text.slice(from, found.at);
      }
      out += text.slice(from, found.at) + SECRET_MASK;
      from = found.at + found.length;
    }
    const hold = this.heldTail(text, from);
    this.carry = text.slice(text.length - hold);
    return out + text.slice(from, text.length - hold);
  }

  /** The end of the output: what was held back, masked (a held tail that never became a value is output as it was). */
  end(): string {
    const rest = this.carry;
    this.carry = '';
    let out = '';
    let from = 0;
    for (let found = this.next(rest, 0); found !== null; found = this.next(rest, from)) {
      out += rest.slice(from, found.at) + SECRET_MASK;
      from = found.at + found.length;
    }
    return out + rest.slice(from);
  }

  /** The leftmost occurrence of any value at or after `from`; the longest value where several start. */
  next(text: string, from: number): { at: number; length: number } | null {
    let best: { at: number; length: number } | null = null;
    for (const v of this.values) {
      const at = text.indexOf(v, from);
      if (at !== -1 && (best === null || at < best.at)) best = { at, length: v.length };
    }
    return best;
  }

  /** Whether a longer value could start at `at` and run past the end of `text`. */
  private mayGrow(text: string, at: number): boolean {
    const rest = text.length - at;
    return this.values.some((v) => v.length > rest && v.startsWith(text.slice(at)));
  }

  /** How many characters at the end of `text` (after `from`) begin some value without completing it. */
  private heldTail(text: string, from: number): number {
    const longest = Math.min((this.values[0]?.length ?? 1) - 1, text.length - from);
    for (let n = longest; n > 0; n--) {
      const tail = text.slice(text.length - n);
      if (this.values.some((v) => v.length > n && v.startsWith(tail))) return n;
    }
    return 0;
  }
}
