import { describe, expect, it } from 'vitest';
import { FAILURE_CODES, FailureCodeSchema, isFailureCode, ReportedFailureCodeSchema } from './failure-codes.js';
import { FAIL_FAST_CODES } from './retry.js';

describe('failure codes', () => {
  it('the fail-fast codes are failure codes', () => {
    for (const code of FAIL_FAST_CODES) expect(isFailureCode(code)).toBe(true);
  });

  it('the schema takes exactly the listed codes', () => {
    for (const code of FAILURE_CODES) expect(FailureCodeSchema.parse(code)).toBe(code);
    expect(FailureCodeSchema.safeParse('EXIT_NONZERO').success).toBe(false);
    expect(isFailureCode('exit')).toBe(false);
  });

  it('the wire keeps a known code and reads an unknown one as UNKNOWN', () => {
    expect(ReportedFailureCodeSchema.parse('SCRIPT_NOT_FOUND')).toBe('SCRIPT_NOT_FOUND');
    expect(ReportedFailureCodeSchema.parse('SOMETHING_NEW')).toBe('UNKNOWN');
    expect(ReportedFailureCodeSchema.parse('')).toBe('UNKNOWN');
  });

  it('the wire still refuses what it always refused', () => {
    expect(ReportedFailureCodeSchema.safeParse('X'.repeat(65)).success).toBe(false);
    expect(ReportedFailureCodeSchema.safeParse(7).success).toBe(false);
  });
});
