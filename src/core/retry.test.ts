import { describe, expect, it } from 'vitest';
import { BACKOFF, backoffMs, FAIL_FAST_CODES, isFailFast } from './retry.js';

describe('backoffMs', () => {
  it('grows exponentially from the base (no jitter at random = 0.5)', () => {
    expect(backoffMs(1, 0.5)).toBe(1000);
    expect(backoffMs(2, 0.5)).toBe(2000);
    expect(backoffMs(3, 0.5)).toBe(4000);
    expect(backoffMs(4, 0.5)).toBe(8000);
    expect(backoffMs(6, 0.5)).toBe(32_000);
  });

  it('treats retry numbers below 1 as the first retry', () => {
    expect(backoffMs(0, 0.5)).toBe(1000);
    expect(backoffMs(-3, 0.5)).toBe(1000);
  });

  it('is capped at the maximum', () => {
    expect(backoffMs(7, 0.5)).toBe(BACKOFF.maxMs);
    expect(backoffMs(20, 0.5)).toBe(BACKOFF.maxMs);
    expect(backoffMs(100, 0.5)).toBe(BACKOFF.maxMs);
    expect(backoffMs(100, 0.999999)).toBeLessThanOrEqual(BACKOFF.maxMs * 1.2);
    expect(Number.isFinite(backoffMs(10_000, 0.3))).toBe(true);
  });

  it('never decreases as retries grow, for a fixed random', () => {
    for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
      for (let retry = 1; retry < 30; retry++) expect(backoffMs(retry + 1, r)).toBeGreaterThanOrEqual(backoffMs(retry, r));
    }
  });

  it('spreads within ±20% of the nominal delay', () => {
    expect(backoffMs(1, 0)).toBe(800);
    expect(backoffMs(1, 0.999_999)).toBe(1200);
    expect(backoffMs(3, 0)).toBe(3200);
    expect(backoffMs(10, 0)).toBe(48_000);
    for (let retry = 1; retry <= 12; retry++) {
      const nominal = Math.min(BACKOFF.maxMs, 1000 * 2 ** (retry - 1));
      for (let i = 0; i < 100; i++) {
        const ms = backoffMs(retry, i / 100);
        expect(ms).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
        expect(ms).toBeLessThanOrEqual(Math.ceil(nominal * 1.2));
      }
    }
  });

  it('grows with random within one retry', () => {
    expect(backoffMs(2, 0.1)).toBeLessThan(backoffMs(2, 0.9));
  });

  it('is deterministic for a given random', () => {
    for (const r of [0, 0.123, 0.5, 0.987]) expect(backoffMs(5, r)).toBe(backoffMs(5, r));
    expect(backoffMs(2, 0.25)).toBe(1800);
  });

  it('returns whole milliseconds', () => {
    for (let i = 0; i < 50; i++) expect(Number.isInteger(backoffMs(1 + (i % 8), i / 50 + 0.0037))).toBe(true);
  });
});

describe('isFailFast', () => {
  it('is true for every fail-fast code', () => {
    for (const code of FAIL_FAST_CODES) expect(isFailFast(code)).toBe(true);
    expect(isFailFast('SCRIPT_NOT_FOUND')).toBe(true);
  });

  it('is false for other codes and for no code', () => {
    expect(isFailFast('EXIT_NONZERO')).toBe(false);
    expect(isFailFast('script_not_found')).toBe(false);
    expect(isFailFast('')).toBe(false);
    expect(isFailFast(null)).toBe(false);
    expect(isFailFast(undefined)).toBe(false);
  });
});
