import { describe, expect, it } from 'vitest';
import { NODE_HEIGHT, NODE_WIDTH } from '../../graph.ts';
import { placeNode } from './layout.ts';
import { addNode, emptyModel, type Model } from './model.ts';

const overlaps = (m: Model, at: { x: number; y: number }): boolean => m.nodes.some((n) => Math.abs(n.x - at.x) < NODE_WIDTH && Math.abs(n.y - at.y) < NODE_HEIGHT);

describe('placing a new node', () => {
  it('puts it to the right of the selected node, and never on another node', () => {
    let m = emptyModel();
    const anchor = { x: 100, y: 100 };
    m = addNode(m, 'run', anchor).model;
    const first = placeNode(m, anchor, null);
    expect(first.y).toBe(anchor.y);
    expect(first.x).toBeGreaterThanOrEqual(anchor.x + NODE_WIDTH);
    // The spot beside is taken: the next one is near it, still clear of every node.
    m = addNode(m, 'run', first).model;
    const second = placeNode(m, anchor, null);
    expect(overlaps(m, second)).toBe(false);
    expect(second.x).toBeGreaterThanOrEqual(anchor.x + NODE_WIDTH);
    expect(Math.abs(second.y - anchor.y)).toBeLessThanOrEqual(200);
  });

  it('without a selection, fills the spots around the centre of the view, not one column', () => {
    let m = emptyModel();
    const centre = { x: 500, y: 300 };
    const spots: { x: number; y: number }[] = [];
    for (let i = 0; i < 12; i++) {
      const at = placeNode(m, null, centre);
      expect(overlaps(m, at)).toBe(false);
      spots.push(at);
      m = addNode(m, 'run', at).model;
    }
    expect(new Set(spots.map((p) => p.x)).size).toBeGreaterThan(1);
    for (const p of spots) expect(Math.hypot(p.x - centre.x, p.y - centre.y)).toBeLessThan(800);
  });
});
