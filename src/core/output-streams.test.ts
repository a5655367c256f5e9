import { describe, expect, it } from 'vitest';
import { type OutputStream, StreamMasker, splitStreams } from './output-streams.js';
import { SecretMasker } from './secret-mask.js';

describe('StreamMasker', () => {
  it('outputs what the masker alone would, each part with its stream, at every split point', () => {
    const values = ['sk-ABCDEFGH', 'sk-AB'];
    const text = 'a sk-ABCDEFGH b sk-AB c sk-ABC\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const plain = new SecretMasker(values);
      const expected = plain.push(text.slice(0, cut)) + plain.push(text.slice(cut)) + plain.end();
      const m = new StreamMasker(new SecretMasker(values));
      const parts = [...m.push(text.slice(0, cut), 'stdout'), ...m.push(text.slice(cut), 'stderr'), ...m.end()];
      expect(parts.map((p) => p.text).join('')).toBe(expected);
      // Characters after the cut that are not masks come from stderr.
      const streams: OutputStream[] = parts.flatMap((p) => [...p.text].map(() => p.stream));
      expect(streams[streams.length - 1]).toBe(cut < text.length ? 'stderr' : 'stdout');
    }
  });

  it('cuts a text into its ranges', () => {
    expect(splitStreams('abcdef', [[1, 2]])).toEqual([
      { text: 'a', stream: 'stdout' },
      { text: 'bc', stream: 'stderr' },
      { text: 'def', stream: 'stdout' },
    ]);
  });
});
