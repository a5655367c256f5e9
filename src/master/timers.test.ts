import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/helpers/manual-clock.js';
import { Timers } from './timers.js';


function setup(): { clock: ManualClock; timers: Timers; fired: [string, number][] } {
  const clock = new ManualClock();
  const fired: [string, number][] = [];
  const timers = new Timers(clock, (key) => fired.push([key, clock.now()]));
  return { clock, timers, fired };
}

describe('Timers', () => {
  it('fires keys in deadline order, each at its deadline', () => {
    const { clock, timers, fired } = setup();
    timers.set('c', 300);
    timers.set('a', 100);
    timers.set('b', 200);
    expect(timers.size).toBe(3);
    clock.advance(1000);
    expect(fired).toEqual([
      ['a', 100],
      ['b', 200],
      ['c', 300],
    ]);
    expect(timers.size).toBe(0);
  });

  it('does not fire before the deadline', () => {
    const { clock, timers, fired } = setup();
    timers.set('a', 100);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([['a', 100]]);
  });

  it('fires keys sharing a deadline together', () => {
    const { clock, timers, fired } = setup();
    timers.set('x', 50);
    timers.set('y', 50);
    timers.set('z', 60);
    clock.advance(50);
    expect(fired.map(([k]) => k).sort()).toEqual(['x', 'y']);
    clock.advance(10);
    expect(fired.map(([k]) => k)).toContain('z');
  });

  it('re-arming a key to a later deadline replaces the earlier one', () => {
    const { clock, timers, fired } = setup();
    timers.set('a', 100);
    timers.set('a', 500);
    expect(timers.size).toBe(1);
    clock.advance(499);
    expect(fired).toEqual([]);
    clock.advance(1000);
    expect(fired).toEqual([['a', 500]]);
  });

  it('re-arming a key to an earlier deadline fires it once, early', () => {
    const { clock, timers, fired } = setup();
    timers.set('a', 500);
    timers.set('b', 300);
    timers.set('a', 100);
    clock.advance(1000);
    expect(fired).toEqual([
      ['a', 100],
      ['b', 300],
    ]);
  });

  it('re-arming a key to the deadline it had before fires it once', () => {
    const { clock, timers, fired } = setup();
    timers.set('a', 100);
    timers.set('a', 200);
    timers.set('a', 100);
    clock.advance(1000);
    expect(fired).toEqual([['a', 100]]);
  });

  it('cancel stops a key from firing', () => {
    const { clock, timers, fired } = setup();
    timers.set('a', 100);
    timers.set('b', 200);
    timers.cancel('a');
    timers.cancel('never-set');
    expect(timers.size).toBe(1);
    clock.advance(150);
    expect(fired).toEqual([]);
    clock.advance(100);
    expect(fired).toEqual([['b', 200]]);
  });

  it('a cancelled key can be set again', () => {
    const { clock, timers, fired } = setup();
    timers.set('a', 100);
    timers.cancel('a');
    timers.set('a', 300);
    clock.advance(1000);
    expect(fired).toEqual([['a', 300]]);
  });

  it('a key set from inside a firing is honoured', () => {
    const clock = new ManualClock();
    const fired: [string, number][] = [];
    const timers: Timers = new Timers(clock, (key) => {
      fired.push([key, clock.now()]);
      if (key === 'a') timers.set('a2', clock.now() + 50);
    });
    timers.set('a', 100);
    timers.set('b', 400);
    clock.advance(1000);
    expect(fired).toEqual([
      ['a', 100],
      ['a2', 150],
      ['b', 400],
    ]);
  });

  it('a deadline already past fires at the next opportunity', () => {
    const { clock, timers, fired } = setup();
    clock.advance(1000);
    timers.set('late', 10);
    clock.advance(0);
    expect(fired).toEqual([['late', 1000]]);
  });

  it('many keys share one underlying timer', () => {
    const { clock, timers, fired } = setup();
    const n = 10_000;
    // Later deadlines first, then earlier ones, then shuffled re-arms.
    for (let i = 0; i < n; i++) timers.set(`k${i}`, 1000 + ((i * 7919) % n));
    expect(timers.size).toBe(n);
    expect(clock.live).toBe(1);
    for (let i = 0; i < n; i += 10) timers.set(`k${i}`, 50_000 + i);
    expect(clock.live).toBe(1);
    clock.advance(1000 + n / 2);
    expect(clock.live).toBeLessThanOrEqual(1);
    clock.advance(100_000);
    expect(clock.live).toBe(0);
    expect(fired).toHaveLength(n);
    expect(timers.size).toBe(0);
    const times = fired.map(([, at]) => at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(fired.map(([k]) => k)).size).toBe(n);
    // Each key fired at its latest deadline.
    expect(fired.find(([k]) => k === 'k10')?.[1]).toBe(50_010);
    expect(fired.find(([k]) => k === 'k11')?.[1]).toBe(1000 + ((11 * 7919) % n));
  });

  it('keeps one underlying timer when deadlines arrive in increasing order', () => {
    const { clock, timers } = setup();
    for (let i = 0; i < 1000; i++) timers.set(`k${i}`, 100 + i);
    expect(clock.created).toBe(1);
    expect(clock.live).toBe(1);
  });
});
