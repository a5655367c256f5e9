import { describe, expect, it } from 'vitest';
import { capabilityLane, ReadyQueue, workerLane } from './ready-queue.js';

function drain(q: ReadyQueue, lane: string): string[] {
  const out: string[] = [];
  for (let item = q.pop(lane); item; item = q.pop(lane)) out.push(item.key);
  return out;
}

describe('ReadyQueue', () => {
  it('pops higher priority first', () => {
    const q = new ReadyQueue();
    q.push('L', 'low', 1);
    q.push('L', 'high', 10);
    q.push('L', 'negative', -5);
    q.push('L', 'mid', 5);
    expect(drain(q, 'L')).toEqual(['high', 'mid', 'low', 'negative']);
  });

  it('is FIFO within one priority', () => {
    const q = new ReadyQueue();
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    for (const k of keys) q.push('L', k, 3);
    expect(drain(q, 'L')).toEqual(keys);
  });

  it('orders by priority then arrival across interleaved pushes', () => {
    const q = new ReadyQueue();
    const pushed: { key: string; priority: number; order: number }[] = [];
    for (let i = 0; i < 200; i++) {
      const priority = (i * 7) % 5;
      pushed.push({ key: `k${i}`, priority, order: i });
      q.push('L', `k${i}`, priority);
    }
    const expected = [...pushed].sort((a, b) => b.priority - a.priority || a.order - b.order).map((p) => p.key);
    expect(drain(q, 'L')).toEqual(expected);
  });

  it('keeps lanes independent', () => {
    const q = new ReadyQueue();
    q.push('A', 'a1', 1);
    q.push('B', 'b1', 100);
    q.push('A', 'a2', 2);
    expect(q.peek('A')?.key).toBe('a2');
    expect(q.pop('A')?.key).toBe('a2');
    expect(q.pop('A')?.key).toBe('a1');
    expect(q.pop('A')).toBeUndefined();
    expect(q.pop('B')?.key).toBe('b1');
    expect(q.pop('missing')).toBeUndefined();
    expect(q.peek('missing')).toBeUndefined();
  });

  it('peek does not take the item', () => {
    const q = new ReadyQueue();
    q.push('L', 'x', 1);
    expect(q.peek('L')?.key).toBe('x');
    expect(q.size).toBe(1);
    expect(q.pop('L')?.key).toBe('x');
  });

  it('remove() drops an item', () => {
    const q = new ReadyQueue();
    q.push('L', 'a', 5);
    q.push('L', 'b', 4);
    q.push('L', 'c', 3);
    expect(q.remove('a')).toBe(true);
    expect(q.remove('a')).toBe(false);
    expect(q.remove('never')).toBe(false);
    expect(q.has('a')).toBe(false);
    expect(q.size).toBe(2);
    expect(q.peek('L')?.key).toBe('b');
    expect(drain(q, 'L')).toEqual(['b', 'c']);
  });

  it('pushing a key again replaces its earlier entry', () => {
    const q = new ReadyQueue();
    q.push('L', 'a', 1);
    q.push('L', 'b', 2);
    q.push('L', 'a', 3);
    expect(q.size).toBe(2);
    expect(drain(q, 'L')).toEqual(['a', 'b']);
    expect(q.size).toBe(0);
  });

  it('re-pushing with the same priority moves the key behind its peers', () => {
    const q = new ReadyQueue();
    q.push('L', 'a', 1);
    q.push('L', 'b', 1);
    q.push('L', 'a', 1);
    expect(drain(q, 'L')).toEqual(['b', 'a']);
  });

  it('re-pushing a key into another lane removes it from the first', () => {
    const q = new ReadyQueue();
    q.push('A', 'k', 1);
    q.push('B', 'k', 1);
    expect(q.size).toBe(1);
    expect(q.pop('A')).toBeUndefined();
    expect(q.pop('B')?.key).toBe('k');
  });

  it('a removed key pushed again is queued once', () => {
    const q = new ReadyQueue();
    q.push('L', 'a', 1);
    q.remove('a');
    q.push('L', 'a', 1);
    expect(drain(q, 'L')).toEqual(['a']);
  });

  it('activeLanes lists only lanes holding live items', () => {
    const q = new ReadyQueue();
    expect(q.activeLanes()).toEqual([]);
    q.push('A', 'a', 1);
    q.push('B', 'b', 1);
    q.push('C', 'c', 1);
    expect(q.activeLanes().sort()).toEqual(['A', 'B', 'C']);
    q.pop('A');
    q.remove('b');
    expect(q.activeLanes()).toEqual(['C']);
    q.push('A', 'a2', 1);
    expect(q.activeLanes().sort()).toEqual(['A', 'C']);
  });

  it('size counts live keys', () => {
    const q = new ReadyQueue();
    expect(q.size).toBe(0);
    q.push('A', 'a', 1);
    q.push('B', 'b', 1);
    q.push('A', 'a', 2);
    expect(q.size).toBe(2);
    expect(q.has('a')).toBe(true);
    q.pop('A');
    expect(q.size).toBe(1);
    expect(q.has('a')).toBe(false);
  });

  it('names lanes for capabilities and workers distinctly', () => {
    expect(capabilityLane('GPU')).not.toBe(workerLane('GPU'));
    expect(capabilityLane('GPU')).toBe(capabilityLane('GPU'));
  });

  it('handles a large queue in order', () => {
    const q = new ReadyQueue();
    const n = 50_000;
    for (let i = 0; i < n; i++) q.push('L', `k${i}`, i % 3);
    let last = { priority: Infinity, seq: -1 };
    let count = 0;
    let outOfOrder = 0;
    for (let item = q.pop('L'); item; item = q.pop('L')) {
      if (!(item.priority < last.priority || (item.priority === last.priority && item.seq > last.seq))) outOfOrder++;
      last = item;
      count++;
    }
    expect(outOfOrder).toBe(0);
    expect(count).toBe(n);
  });
});
