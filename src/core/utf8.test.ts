import { describe, expect, it } from 'vitest';
import { utf8ByteLength } from './utf8.js';

describe('utf8ByteLength', () => {
  it('counts the bytes Buffer counts', () => {
    const samples = ['', 'a', 'key:1', 'é', '€', '日本語', '😀', 'a😀b', '\u{10ffff}', '\ud800', '\udc00', 'x\ud83dy', '\ud83d', '\ude00\ud83d', 'ß'.repeat(1000)];
    for (const s of samples) expect(utf8ByteLength(s), JSON.stringify(s)).toBe(Buffer.byteLength(s, 'utf8'));
  });

  it('agrees with TextEncoder on every code unit', () => {
    const encoder = new TextEncoder();
    for (let unit = 0; unit <= 0xffff; unit += 7) {
      const s = `a${String.fromCharCode(unit)}\u{1f600}`;
      expect(utf8ByteLength(s)).toBe(encoder.encode(s).length);
    }
  });
});
