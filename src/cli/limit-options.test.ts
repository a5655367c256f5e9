import { describe, expect, it } from 'vitest';
import { UsageError } from './connection.js';
import { clusterLimitOf, describeLimit } from './limit-options.js';

const refusal = (key: string, flags: Parameters<typeof clusterLimitOf>[1]): string => {
  try {
    clusterLimitOf(key, flags);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('titan limits set flags', () => {
  it('become the cluster limit, with the schema filling its defaults', () => {
    expect(clusterLimitOf('openai', { concurrency: '4', rate: '60/minute', burst: '10', weight: '2' })).toEqual({ key: 'openai', concurrency: 4, rate: { limit: 60, per: 'minute', burst: 10 }, weight: 2 });
    expect(clusterLimitOf('db', { rate: '5/second' })).toEqual({ key: 'db', rate: { limit: 5, per: 'second' } });
  });

  it('are refused by the flag that is wrong', () => {
    expect(refusal('openai', {})).toBe('give --concurrency N, --rate N/second|minute|hour|day or --weight N for openai (to remove its limit: titan limits rm openai)');
    expect(refusal('openai', { concurrency: '0' })).toBe('--concurrency: Too small: expected number to be >=1');
    expect(refusal('openai', { concurrency: 'four' })).toBe('--concurrency: must be a whole number');
    expect(refusal('openai', { rate: '60/fortnight' })).toBe('--rate is N/PERIOD with PERIOD one of second, minute, hour, day (e.g. 60/minute), got "60/fortnight"');
    expect(refusal('openai', { burst: '3' })).toBe('--burst sizes a rate limit: give --rate N/PERIOD with it');
    expect(refusal('openai', { rate: '1/second', burst: '0' })).toBe('--burst: Too small: expected number to be >=1');
    expect(refusal('openai', { weight: '101' })).toBe('--weight: Too big: expected number to be <=100');
    expect(refusal('open ai', { concurrency: '2' })).toMatch(/^KEY: a key contains only letters, digits/);
  });

  it('are described in a few words', () => {
    expect(describeLimit({ key: 'k', concurrency: 4, rate: { limit: 60, per: 'minute', burst: 10 }, weight: 2 })).toBe('4 at once, 60/minute (burst 10), weight 2');
    expect(describeLimit(null)).toBe('-');
  });
});
