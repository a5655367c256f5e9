import { describe, expect, it } from 'vitest';
import type { FlowKeyView } from '../../../../src/protocol/flow-methods.ts';
import { describeLimit, fieldsOf, parseLimitFields, shownKeys } from './limits.ts';

describe('the Queue page helpers', () => {
  it('words a cluster limit', () => {
    expect(describeLimit({ key: 'db', concurrency: 4 })).toBe('4 at once');
    expect(describeLimit({ key: 'api', rate: { limit: 60, per: 'minute', burst: 10 }, weight: 2 })).toBe('60 per minute (burst 10) · weight 2');
    expect(describeLimit({ key: 'x' })).toBe('no limit');
  });

  it('turns the form into the limit the master takes, and back', () => {
    const limit = { key: 'api', concurrency: 3, rate: { limit: 5, per: 'minute' as const, burst: 8 }, weight: 2 };
    expect(parseLimitFields(fieldsOf('api', limit))).toEqual({ ok: true, limit });
    expect(parseLimitFields({ ...fieldsOf('db', null), concurrency: ' 4 ' })).toEqual({ ok: true, limit: { key: 'db', concurrency: 4 } });
    expect(parseLimitFields({ ...fieldsOf('db', null), rate: '2' })).toEqual({ ok: true, limit: { key: 'db', rate: { limit: 2, per: 'second' } } });
  });

  it('says what is wrong with each field', () => {
    const empty = fieldsOf('db', null);
    expect(parseLimitFields(empty)).toEqual({ ok: false, errors: { concurrency: 'set at least one of: at once, a rate, a weight' } });
    expect(parseLimitFields({ ...empty, concurrency: '0' })).toEqual({ ok: false, errors: { concurrency: 'at least 1' } });
    expect(parseLimitFields({ ...empty, concurrency: '2.5' })).toEqual({ ok: false, errors: { concurrency: 'a whole number' } });
    expect(parseLimitFields({ ...empty, weight: '1000' })).toEqual({ ok: false, errors: { weight: 'at most 100' } });
    expect(parseLimitFields({ ...empty, burst: '3' })).toEqual({ ok: false, errors: { rate: 'a burst needs a rate: how many starts per period' } });
    expect(parseLimitFields({ ...empty, rate: '3', burst: 'x' })).toEqual({ ok: false, errors: { burst: 'a whole number' } });
    expect(parseLimitFields({ ...empty, key: '', concurrency: '1' })).toEqual({ ok: false, errors: { key: 'name the key' } });
    const bad = parseLimitFields({ ...empty, key: 'no spaces', concurrency: '1' });
    expect(bad.ok ? '' : bad.errors.key).toMatch(/letters, digits/);
  });

  it('shows the busiest keys first, filtered by name', () => {
    const key = (name: string, holders: number, waiters: number): FlowKeyView => ({ key: name, limit: null, holders: Array.from({ length: holders }, (_, i) => `r/${i}`), waiters, nextTokenAt: null });
    const keys = [key('b', 1, 0), key('a', 1, 0), key('busy', 1, 5), key('full', 3, 0)];
    expect(shownKeys(keys, '').map((k) => k.key)).toEqual(['busy', 'full', 'a', 'b']);
    expect(shownKeys(keys, ' BU ').map((k) => k.key)).toEqual(['busy']);
  });
});
