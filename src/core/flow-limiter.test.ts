import { describe, expect, it } from 'vitest';
import { FlowLimiter } from './flow-limiter.js';

const conc = (key: string, limit?: number) => ({ concurrency: { key, ...(limit !== undefined && { limit }) } });
const rate = (key: string, limit: number, per: 'second' | 'minute' = 'second', burst?: number) => ({ rateLimit: { key, limit, per, ...(burst !== undefined && { burst }) } });

describe('FlowLimiter: concurrency', () => {
  it('lets `limit` holders of a key run and holds back the next until one releases', () => {
    const l = new FlowLimiter();
    expect(l.admit('r/a', conc('db', 2), 10)).toBeNull();
    expect(l.admit('r/b', conc('db', 2), 10)).toBeNull();
    expect(l.admit('r/c', conc('db', 2), 10)).toEqual({ kind: 'concurrency', key: 'db', held: 2, limit: 2 });
    expect(l.holdersOf('db').sort()).toEqual(['r/a', 'r/b']);
    expect(l.release('r/a')).toEqual(['db']);
    expect(l.admit('r/c', conc('db', 2), 11)).toBeNull();
    expect(l.held('db')).toBe(2);
  });

  it('a key without any limit only counts its holders', () => {
    const l = new FlowLimiter();
    for (let i = 0; i < 50; i++) expect(l.admit(`r/${i}`, conc('free'), 0)).toBeNull();
    expect(l.held('free')).toBe(50);
  });

  it("the cluster's limit wins over the job's, and removing it brings the job's back", () => {
    const l = new FlowLimiter();
    expect(l.setClusterLimits([{ key: 'db', concurrency: 1 }])).toEqual(['db']);
    expect(l.admit('r/a', conc('db', 5), 0)).toBeNull();
    expect(l.admit('r/b', conc('db', 5), 0)).toMatchObject({ kind: 'concurrency', limit: 1 });
    expect(l.setClusterLimits([])).toEqual(['db']);
    expect(l.admit('r/b', conc('db', 5), 0)).toBeNull();
    // A cluster limit applies to a key a job names only for its rate limit, too.
    l.setClusterLimits([{ key: 'api', concurrency: 1 }]);
    expect(l.admit('r/x', rate('api', 1000), 5_000)).toBeNull();
    expect(l.admit('r/y', rate('api', 1000), 5_000)).toMatchObject({ kind: 'concurrency', key: 'api' });
  });

  it('holders restored after a restart count against the limit', () => {
    const l = new FlowLimiter();
    l.restore('r/a', conc('db', 1));
    l.restore('r/a', conc('db', 1));
    expect(l.held('db')).toBe(1);
    expect(l.admit('r/b', conc('db', 1), 0)).toMatchObject({ kind: 'concurrency', held: 1 });
  });

  it('a job naming one key in both fields holds it once', () => {
    const l = new FlowLimiter();
    const needs = { ...conc('k', 3), ...rate('k', 100) };
    expect(l.keysOf(needs)).toEqual(['k']);
    expect(l.admit('r/a', needs, 60_000)).toBeNull();
    expect(l.held('k')).toBe(1);
  });

  it('nothing is held or spent when any key blocks', () => {
    const l = new FlowLimiter();
    l.admit('r/a', conc('b', 1), 10_000);
    const needs = { ...conc('b', 1), ...rate('a', 1) };
    expect(l.admit('r/z', needs, 10_000)).toMatchObject({ kind: 'concurrency', key: 'b' });
    expect(l.held('a')).toBe(0);
    expect(l.tokens('a', needs, 10_000)).toBe(1);
  });
});

describe('FlowLimiter: rate (token bucket, manual clock)', () => {
  it('allows `limit` starts per period at a steady rate, then says when the next is due', () => {
    const l = new FlowLimiter();
    const needs = rate('api', 5);
    // Up for 10 s: the bucket is full (5).
    for (let i = 0; i < 5; i++) expect(l.admit(`r/${i}`, needs, 10_000)).toBeNull();
    expect(l.admit('r/5', needs, 10_000)).toEqual({ kind: 'rate', key: 'api', until: 10_200 });
    expect(l.admit('r/5', needs, 10_199)).toMatchObject({ kind: 'rate' });
    expect(l.admit('r/5', needs, 10_200)).toBeNull();
  });

  it('a burst lets more start at once after a quiet spell, and the rate still holds after it', () => {
    const l = new FlowLimiter();
    const needs = rate('api', 60, 'minute', 10);
    let started = 0;
    for (let i = 0; i < 20; i++) if (l.admit(`r/${i}`, needs, 600_000) === null) started++;
    expect(started).toBe(10);
    expect(l.admit('r/x', needs, 600_500)).toMatchObject({ kind: 'rate', until: 601_000 });
  });

  it('a key used for the first time has its whole burst at once', () => {
    const l = new FlowLimiter();
    expect(l.admit('r/a', rate('api', 1, 'minute'), 50_000)).toBeNull();
    expect(l.admit('r/b', rate('api', 1, 'minute'), 50_000)).toEqual({ kind: 'rate', key: 'api', until: 110_000 });
  });

  it('starts made before a restart are replayed, so the restart gives no second burst', () => {
    const l = new FlowLimiter();
    const needs = rate('api', 2, 'minute');
    // Two starts in the ten seconds before the restart at 100 s, given out of order.
    l.replayStarts([
      { needs, at: 95_000 },
      { needs, at: 90_000 },
    ]);
    // A token every 30 s: a third of one has come back by 100 s, the rest is due at 120 s.
    expect(l.admit('r/c', needs, 100_000)).toEqual({ kind: 'rate', key: 'api', until: 120_000 });
    expect(l.held('api')).toBe(0);
  });

  it('20 starts at 5 per second take at least 3 s', () => {
    const l = new FlowLimiter();
    const needs = rate('api', 5);
    let now = 60_000;
    const startedAt: number[] = [];
    for (let i = 0; i < 20; i++) {
      for (;;) {
        const b = l.admit(`r/${i}`, needs, now);
        if (b === null) break;
        if (b.kind !== 'rate') throw new Error('unexpected');
        now = b.until;
      }
      startedAt.push(now);
    }
    expect((startedAt.at(-1) as number) - (startedAt[0] as number)).toBeGreaterThanOrEqual(3_000);
  });

  it('says when the bucket next gains a whole token, and nothing for a key without a rate', () => {
    const l = new FlowLimiter();
    const needs = rate('api', 5);
    for (let i = 0; i < 5; i++) expect(l.admit(`r/${i}`, needs, 10_000)).toBeNull();
    expect(l.nextTokenAt('api', needs, 10_000)).toBe(10_200);
    expect(l.nextTokenAt('api', needs, 10_050)).toBe(10_200);
    expect(l.nextTokenAt('db', conc('db', 2), 10_050)).toBeNull();
  });

  it('a cluster rate limit replaces the one jobs declare', () => {
    const l = new FlowLimiter();
    l.setClusterLimits([{ key: 'api', rate: { limit: 1, per: 'second' } }]);
    expect(l.admit('r/a', rate('api', 100), 10_000)).toBeNull();
    expect(l.admit('r/b', rate('api', 100), 10_000)).toMatchObject({ kind: 'rate', until: 11_000 });
  });
});
