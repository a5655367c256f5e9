import { describe, expect, it } from 'vitest';
import { ReadyQueue } from './ready-queue.js';

const drain = (q: ReadyQueue, lane = 'L'): string[] => {
  const out: string[] = [];
  for (let item = q.pop(lane); item; item = q.pop(lane)) out.push(item.key);
  return out;
};

describe('ReadyQueue: fair turns between groups', () => {
  it('a small run queued behind a huge one is offered at once, turn by turn', () => {
    const q = new ReadyQueue();
    for (let i = 0; i < 1000; i++) q.push('L', `big/${i}`, 0, 'big');
    for (let i = 0; i < 3; i++) q.push('L', `small/${i}`, 0, 'small');
    expect(drain(q).slice(0, 8)).toEqual(['big/0', 'small/0', 'big/1', 'small/1', 'big/2', 'small/2', 'big/3', 'big/4']);
  });

  it('a lone group gets every turn, in order', () => {
    const q = new ReadyQueue();
    for (let i = 0; i < 100; i++) q.push('L', `k${i}`, 0, 'only');
    expect(drain(q)).toEqual(Array.from({ length: 100 }, (_, i) => `k${i}`));
  });

  it('a group takes as many per turn as its weight', () => {
    const q = new ReadyQueue();
    for (let i = 0; i < 6; i++) q.push('L', `a${i}`, 0, 'a', 2);
    for (let i = 0; i < 6; i++) q.push('L', `b${i}`, 0, 'b', 1);
    expect(drain(q).slice(0, 9)).toEqual(['a0', 'a1', 'b0', 'a2', 'a3', 'b1', 'a4', 'a5', 'b2']);
  });

  it('priority comes before turns', () => {
    const q = new ReadyQueue();
    q.push('L', 'a-low', 0, 'a');
    q.push('L', 'b-high', 5, 'b');
    q.push('L', 'a-high', 5, 'a');
    expect(drain(q)).toEqual(['b-high', 'a-high', 'a-low']);
  });

  it('says about how many items are ahead of one', () => {
    const q = new ReadyQueue();
    for (let i = 0; i < 10; i++) q.push('L', `big/${i}`, 0, 'big');
    q.push('L', 'urgent', 9, 'x');
    q.push('L', 'small/0', 0, 'small');
    q.push('L', 'small/1', 0, 'small');
    expect(q.ahead('urgent')).toBe(0);
    // The urgent item, then one turn of big, before small/0; two turns before small/1.
    expect(q.ahead('small/0')).toBe(2);
    expect(q.ahead('small/1')).toBe(4);
    expect(q.ahead('missing')).toBeNull();
  });
});

describe('ReadyQueue: parking on a flow-control key', () => {
  it('a parked head holds up nothing behind it, and wakes back into line', () => {
    const q = new ReadyQueue();
    q.push('L', 'a', 0);
    q.push('L', 'b', 0);
    q.parkHead('L', 'db');
    expect(q.peek('L')?.key).toBe('b');
    expect(q.size).toBe(2);
    expect(q.parkedOn('db')).toEqual(['a']);
    expect(q.parkedKeyOf('a')).toBe('db');
    expect(q.ahead('a')).toBeNull();
    expect(q.wake('db', 5)).toEqual(['a']);
    expect(q.parkedKeys()).toEqual([]);
    expect(drain(q)).toEqual(['b', 'a']);
  });

  it('wakes at most n, oldest first, and skips items removed while parked', () => {
    const q = new ReadyQueue();
    for (const k of ['a', 'b', 'c', 'd']) {
      q.push('L', k, 0);
      q.parkHead('L', 'api');
    }
    q.remove('a');
    expect(q.firstParked('api')).toBe('b');
    expect(q.wake('api', 2)).toEqual(['b', 'c']);
    expect(q.parkedOn('api')).toEqual(['d']);
    expect(q.size).toBe(3);
  });
});
