import { describe, expect, it } from 'vitest';
import { dagEdges, edgeState, layoutDag, NODE_WIDTH, shapeKey } from './graph.ts';

describe('graph layout', () => {
  const diamond = [
    { id: 'a', dependsOn: [] },
    { id: 'b', dependsOn: ['a'] },
    { id: 'c', dependsOn: ['a'] },
    { id: 'd', dependsOn: ['b', 'c'] },
  ];

  it('lays a DAG out left to right without overlaps', () => {
    const pos = layoutDag(diamond);
    const x = (id: string) => pos.get(id)?.x ?? NaN;
    const y = (id: string) => pos.get(id)?.y ?? NaN;
    expect(x('b')).toBeGreaterThanOrEqual(x('a') + NODE_WIDTH);
    expect(x('c')).toBe(x('b'));
    expect(y('b')).not.toBe(y('c'));
    expect(x('d')).toBeGreaterThanOrEqual(x('b') + NODE_WIDTH);
  });

  it('ignores dependencies on jobs it does not have, and self edges', () => {
    expect(dagEdges([{ id: 'a', dependsOn: ['ghost', 'a'] }, { id: 'b', dependsOn: ['a', 'a'] }])).toEqual([['a', 'b']]);
    expect(layoutDag([{ id: 'a', dependsOn: ['ghost'] }]).size).toBe(1);
  });

  it('changes the shape key only when jobs or edges change', () => {
    const k = shapeKey(diamond);
    expect(shapeKey([...diamond].reverse())).toBe(k);
    expect(shapeKey([...diamond, { id: 'e', dependsOn: ['d'] }])).not.toBe(k);
    expect(shapeKey(diamond.map((n) => (n.id === 'd' ? { ...n, dependsOn: ['b'] } : n)))).not.toBe(k);
  });

  it('tells satisfied, waiting and blocked edges apart', () => {
    expect(edgeState({ status: 'COMPLETED', service: null })).toBe('done');
    expect(edgeState({ status: 'RUNNING', service: null })).toBe('waiting');
    expect(edgeState({ status: 'FAILED', service: null })).toBe('waiting');
    expect(edgeState({ status: 'WAITING_APPROVAL', service: null })).toBe('waiting');
    expect(edgeState({ status: 'RUNNING', service: { port: 1, pid: 2, readyAt: 3, released: true, restarts: 0, crashes: 0 } })).toBe('done');
    for (const s of ['DEAD', 'CANCELLED', 'SKIPPED'] as const) expect(edgeState({ status: s, service: null })).toBe('blocked');
  });
});

describe('large graphs', () => {
  it('lay out 1,500 jobs in reasonable time, every dependent right of its dependencies', () => {
    const nodes = Array.from({ length: 1500 }, (_, i) => {
      const layer = Math.floor(i / 30);
      return { id: `j${i}`, dependsOn: layer === 0 ? [] : [`j${(layer - 1) * 30 + (i % 30)}`, `j${(layer - 1) * 30 + ((i + 7) % 30)}`] };
    });
    const started = Date.now();
    const pos = layoutDag(nodes);
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const n of nodes) for (const d of n.dependsOn) expect(pos.get(n.id)?.x ?? 0).toBeGreaterThan(pos.get(d)?.x ?? Infinity);
  });
});
