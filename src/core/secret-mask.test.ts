import { describe, expect, it } from 'vitest';
import { SecretMasker } from './secret-mask.js';

/** Feeds `chunks` through a masker of `values` and returns the whole output. */
const run = (values: string[], chunks: string[]): string => {
  const m = new SecretMasker(values);
  return chunks.map((c) => m.push(c)).join('') + m.end();
};

describe('SecretMasker', () => {
  it('masks every exact occurrence of a value', () => {
    expect(run(['s3cr3t'], ['key=s3cr3t and again s3cr3t\n'])).toBe('key=*** and again ***\n');
  });

  it('masks a value split across two chunks, at every split point', () => {
    const value = 'sk-ABCDEFGH';
    const text = `before ${value} after\n`;
    for (let cut = 0; cut <= text.length; cut++) {
      expect(run([value], [text.slice(0, cut), text.slice(cut)])).toBe('before *** after\n');
    }
  });

  it('masks a value split across many one-character chunks', () => {
    const out = run(['hunter2'], [...'pw: hunter2!']);
    expect(out).toBe('pw: ***!');
  });

  it('holds back at most the longest value less one character, and only what may begin a value', () => {
    const m = new SecretMasker(['abcdef']);
    expect(m.push('xx abc')).toBe('xx ');
    expect(m.push('dXY')).toBe('abcdXY');
    expect(m.push('plain line\n')).toBe('plain line\n');
    expect(m.end()).toBe('');
  });

  it('outputs a held tail that never became a value at the end', () => {
    const m = new SecretMasker(['abcdef']);
    expect(m.push('ends with abc')).toBe('ends with ');
    expect(m.end()).toBe('abc');
  });

  it('masks the longer of two values that start alike, even when split', () => {
    expect(run(['abc', 'abcdef'], ['x abc', 'def y abc z'])).toBe('x *** y *** z');
    expect(run(['abc', 'abcdef'], ['x abcdef'])).toBe('x ***');
  });

  it('passes output through unchanged when there is nothing to mask', () => {
    const m = new SecretMasker(['']);
    expect(m.active).toBe(false);
    expect(m.push('abc')).toBe('abc');
  });

  it('masks values with multi-byte characters split between chunks', () => {
    expect(run(['pässwörd€'], ['a päss', 'wörd€ b'])).toBe('a *** b');
  });
});
