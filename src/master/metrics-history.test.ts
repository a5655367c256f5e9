import { describe, expect, it } from 'vitest';
import type { MetricsSample } from '../protocol/http-views.js';
import { formatSamples, KEEP, parseSamples } from './metrics-history.js';

const sample = (at: number): MetricsSample => ({ at, completed: 3, dead: 1, queued: 7, busySlots: 2, slots: 8, workers: 2 });

describe('the kept chart samples', () => {
  it('read back what was written, without those older than an hour', () => {
    const now = 10_000_000;
    const samples = [sample(now - 3_700_000), sample(now - 60_000), sample(now - 10_000)];
    expect(parseSamples(formatSamples(samples), now)).toEqual(samples.slice(1));
  });

  it('refuse text that is not JSON, of another shape or longer than the bound', () => {
    expect(parseSamples('not json', 0)).toBeNull();
    expect(parseSamples(JSON.stringify({ v: 2, samples: [] }), 0)).toBeNull();
    expect(parseSamples(JSON.stringify({ v: 1, samples: [[1, 2]] }), 0)).toBeNull();
    const many = Array.from({ length: KEEP + 1 }, (_, i) => sample(i));
    expect(parseSamples(formatSamples(many), KEEP)).toBeNull();
  });

  it('stay small: a full hour is under 20 KB', () => {
    const full = Array.from({ length: KEEP }, (_, i) => ({ ...sample(1_765_000_000_000 + i * 10_000), queued: 12_345 }));
    expect(formatSamples(full).length).toBeLessThan(20_000);
  });
});
