import { describe, expect, it } from 'vitest';
import { outcome, printable, table } from './format.js';

describe('printable', () => {
  it('shows control characters as \\xNN, so a hostile name cannot drive the terminal', () => {
    expect(printable('evil\x1b]0;owned\x07name')).toBe('evil\\x1b]0;owned\\x07name');
    expect(printable('clear\x1b[2Jscreen\x9b31m')).toBe('clear\\x1b[2Jscreen\\x9b31m');
    expect(printable('back\rspace\x08\x7f')).toBe('back\\x0dspace\\x08\\x7f');
  });

  it('keeps line breaks and tabs in messages, not in table cells, and keeps its own colours', () => {
    expect(printable('two\nlines\tand a tab')).toBe('two\nlines\tand a tab');
    expect(printable('two\nlines', true)).toBe('two\\x0alines');
    expect(printable('\x1b[32mCOMPLETED\x1b[0m')).toBe('\x1b[32mCOMPLETED\x1b[0m');
    expect(printable('unicode é ✓ 日本')).toBe('unicode é ✓ 日本');
  });

  it('is applied to every table cell', () => {
    expect(table(['NAME'], [['a\nb\x1b[2J']]).split('\n')).toEqual([expect.stringContaining('NAME'), 'a\\x0ab\\x1b[2J']);
  });
});

describe('outcome', () => {
  it('says how a job ended without repeating its exit code as its error', () => {
    expect(outcome({ status: 'DEAD', exitCode: 4, error: 'exit code 4' })).toBe('DEAD (exit code 4)');
    expect(outcome({ status: 'DEAD', exitCode: null, error: 'timed out after 1 s' })).toBe('DEAD: timed out after 1 s');
    expect(outcome({ status: 'DEAD', exitCode: 137, error: 'killed by SIGKILL' })).toBe('DEAD (exit code 137): killed by SIGKILL');
    expect(outcome({ status: 'COMPLETED', exitCode: 0, error: null })).toBe('COMPLETED (exit code 0)');
    expect(outcome({ status: 'CANCELLED', exitCode: null, error: 'cancelled\x1b[2J' })).toBe('CANCELLED: cancelled\\x1b[2J');
  });
});
