/** Where the constructor puts nodes: the auto-layout of a whole model, and a free spot for a new node. */
import { layoutDag, NODE_HEIGHT, NODE_WIDTH } from '../../graph.ts';
import { type Model, moveNodes } from './model.ts';

const GRID = 20;

const snap = (v: number): number => Math.round(v / GRID) * GRID;

/** Every node placed by the DAG layout, on the grid. */
export function layoutModel(model: Model): Model {
  const parents = new Map<string, string[]>();
  for (const e of model.edges) parents.set(e.target, [...(parents.get(e.target) ?? []), e.source]);
  const pos = layoutDag(model.nodes.map((n) => ({ id: n.key, dependsOn: parents.get(n.key) ?? [] })));
  const snapped = new Map([...pos].map(([k, p]) => [k, { x: snap(p.x), y: snap(p.y) }]));
  return moveNodes(model, snapped);
}

/**
 * The spot for a new node: centred on `centre` (the middle of the visible canvas, in flow
 * coordinates) when known, else a step down the diagonal; then further down until no node is there.
 */
export function freeSpot(model: Model, centre: { x: number; y: number } | null): { x: number; y: number } {
  let at = centre ? { x: snap(centre.x - NODE_WIDTH / 2), y: snap(centre.y - NODE_HEIGHT / 2) } : { x: 40 + model.nodes.length * 20, y: 40 + model.nodes.length * 20 };
  for (let i = 0; i < 50 && model.nodes.some((n) => Math.abs(n.x - at.x) < NODE_WIDTH && Math.abs(n.y - at.y) < NODE_HEIGHT + 10); i++) at = { x: at.x, y: at.y + 80 };
  return at;
}
