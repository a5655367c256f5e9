import { describe, expect, it } from 'vitest';
import { utcTime } from './time-text.js';

describe('utcTime', () => {
  const now = Date.UTC(2026, 11, 7, 11, 59, 0);
  it('writes a moment of today as its UTC time to the second', () => {
    expect(utcTime(Date.UTC(2026, 11, 7, 12, 0, 3, 900), now)).toBe('12:00:03 UTC');
    expect(utcTime(Date.UTC(2026, 11, 7, 0, 0, 0), now)).toBe('00:00:00 UTC');
  });

  it('adds the date for a moment of another day', () => {
    expect(utcTime(Date.UTC(2026, 11, 8, 0, 0, 1), now)).toBe('2026-12-08 00:00:01 UTC');
    expect(utcTime(Date.UTC(2027, 0, 31, 9, 30, 0), now)).toBe('2027-01-31 09:30:00 UTC');
  });
});
