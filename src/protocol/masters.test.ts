import { describe, expect, it } from 'vitest';
import { errorFromBody, formatMaster, LeaderSearch, leaderHint, MasterListError, NotLeaderError, parseMasters } from './masters.js';
import { TitanError } from './v2.js';

describe('a list of master addresses', () => {
  it('reads host:port entries in order, with the default port, IPv6 in brackets and spaces around commas', () => {
    expect(parseMasters('a:9091, b ,10.0.0.5:9100,[::1]:9092,[fe80::1]')).toEqual([
      { host: 'a', port: 9091 },
      { host: 'b', port: 9090 },
      { host: '10.0.0.5', port: 9100 },
      { host: '::1', port: 9092 },
      { host: 'fe80::1', port: 9090 },
    ]);
    expect(parseMasters(['m1:1', 'm2'])).toEqual([
      { host: 'm1', port: 1 },
      { host: 'm2', port: 9090 },
    ]);
  });

  it('drops a repeated address', () => {
    expect(parseMasters('a:9090,a,b')).toEqual([
      { host: 'a', port: 9090 },
      { host: 'b', port: 9090 },
    ]);
  });

  it('refuses bad input with an error naming the entry', () => {
    const cases: [string, RegExp][] = [
      ['', /no master address given/],
      ['a:9090,,b', /entry 2 of the master list is empty/],
      ['a:9090,b:70000', /"b:70000": the port must be from 1 to 65535/],
      ['a:9090,b:0', /"b:0": the port must be from 1 to 65535/],
      ['a:9090,b:x', /"b:x" is not a master address/],
      ['::1', /"::1" is not a master address.*in brackets/],
      ['http://a:9090', /"http:\/\/a:9090" is not a master address/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseMasters(text), text).toThrow(MasterListError);
      expect(() => parseMasters(text), text).toThrow(message);
    }
  });

  it('writes an address back as it is read', () => {
    for (const text of ['a:9090', '[::1]:9091', '10.1.2.3:1']) expect(formatMaster(parseMasters(text)[0] as { host: string; port: number })).toBe(text);
  });
});

describe('NOT_LEADER from the wire', () => {
  it("keeps the leader's address, and other codes stay plain errors", () => {
    const err = errorFromBody({ code: 'NOT_LEADER', message: 'a standby', leader: 'b:9090' });
    expect(err).toBeInstanceOf(NotLeaderError);
    expect(err).toBeInstanceOf(TitanError);
    expect(leaderHint(err)).toBe('b:9090');
    expect(leaderHint(errorFromBody({ code: 'NOT_LEADER', message: 'a standby' }))).toBeUndefined();
    expect(leaderHint(errorFromBody({ code: 'UNAVAILABLE', message: 'x' }))).toBeUndefined();
  });
});

describe('the search for the leader', () => {
  const a = { host: 'a', port: 9090 };
  const b = { host: 'b', port: 9090 };
  const c = { host: 'c', port: 9090 };

  it('tries each address once per round, then waits, doubling up to the cap', () => {
    const search = new LeaderSearch([a, b], { first: 250, max: 1000 });
    const dials = Array.from({ length: 8 }, () => search.next());
    expect(dials.map((d) => d.master.host)).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    expect(dials.map((d) => d.waitMs)).toEqual([0, 0, 250, 0, 500, 0, 1000, 0]);
    expect(search.describeTried()).toBe('a:9090, b:9090');
  });

  it('waits the shortest time for the steady rounds, then doubles; a lost leader starts the steady rounds again', () => {
    const search = new LeaderSearch([a], { first: 400, max: 2000, steady: 3 });
    const waits = (n: number): number[] => Array.from({ length: n }, () => search.next().waitMs);
    expect(waits(7)).toEqual([0, 400, 400, 400, 800, 1600, 2000]);
    search.found(a);
    search.restart();
    expect(waits(5)).toEqual([0, 400, 400, 400, 800]);
  });

  it("follows a standby's hint at once, even outside the list, and goes on with the list after it", () => {
    const search = new LeaderSearch([a, b, c], { first: 250, max: 2000 });
    expect(search.next().master).toEqual(a);
    search.refused('d:9999', a);
    expect(search.next()).toEqual({ master: { host: 'd', port: 9999 }, waitMs: 0 });
    expect(search.next().master).toEqual(b);
  });

  it('ignores a hint that names the master refusing, or cannot be read', () => {
    const search = new LeaderSearch([a, b], { first: 250, max: 2000 });
    search.next();
    search.refused('a:9090', a);
    expect(search.next().master).toEqual(b);
    search.refused('not an address', b);
    expect(search.next()).toEqual({ master: a, waitMs: 250 });
  });

  it('starts the next search with the last leader, at the shortest wait', () => {
    const search = new LeaderSearch([a, b, c], { first: 250, max: 2000 });
    for (let i = 0; i < 5; i++) search.next();
    search.found(b);
    search.restart();
    expect([search.next(), search.next(), search.next(), search.next()]).toEqual([
      { master: b, waitMs: 0 },
      { master: c, waitMs: 0 },
      { master: a, waitMs: 0 },
      { master: b, waitMs: 250 },
    ]);
  });
});
