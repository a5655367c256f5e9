import { describe, expect, it } from 'vitest';
import { fullBucket, parseRate, parseSize, sizeText, startedByDelivery, startedByText, takeToken } from './trigger.js';

describe('the rate bucket of a trigger', () => {
  it('lets a full minute through at once, then one more each 60/N seconds, saying how long to wait', () => {
    let bucket = fullBucket(3, 0);
    for (let i = 0; i < 3; i++) {
      const t = takeToken(bucket, 3, 0);
      expect(t.ok).toBe(true);
      bucket = t.bucket;
    }
    const refused = takeToken(bucket, 3, 5_000);
    expect(refused).toMatchObject({ ok: false, retryAfterMs: 15_000 });
    expect(takeToken(refused.bucket, 3, 20_000).ok).toBe(true);
  });
});

describe('sizes and rates as written on the command line', () => {
  it('reads sizes in binary multiples and rates per minute, and names sizes back', () => {
    expect([parseSize('1MiB'), parseSize('64k'), parseSize('300'), parseSize('2 mb'), parseSize('lots')]).toEqual([1_048_576, 65_536, 300, 2_097_152, null]);
    expect([parseRate('60/minute'), parseRate('5/min'), parseRate('7'), parseRate('1/hour')]).toEqual([60, 5, 7, null]);
    expect([sizeText(1_048_576), sizeText(1024), sizeText(1000)]).toEqual(['1 MiB', '1 KiB', '1000 bytes']);
  });
});

describe('who started a run', () => {
  it('names a trigger and its delivery, or the run whose job submitted it', () => {
    expect(startedByText(startedByDelivery('gh', 'd1x'))).toBe('trigger gh, delivery d1x');
    expect(startedByText('r1abc')).toBe('run r1abc');
  });
});
