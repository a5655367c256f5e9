/** Where the constructor puts nodes: the auto-layout of a whole model, and a free spot for a new node. Pure, unit-tested. */
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

/** Room kept around a node: no other node comes nearer. */
const MARGIN = 20;
/** The grid of spots a new node is tried at: a column beside, a row below. */
const COLUMN = snap(NODE_WIDTH + 60);
const ROW = snap(NODE_HEIGHT + 40);
const REACH = 6;

const isFree = (model: Model, at: { x: number; y: number }): boolean => !model.nodes.some((n) => Math.abs(n.x - at.x) < NODE_WIDTH + MARGIN && Math.abs(n.y - at.y) < NODE_HEIGHT + MARGIN);

/**
 * The spot for a new node: beside `anchor` (the selected node; to its right, else above or below
 * that, else further out), or else centred on `centre` (the middle of the visible canvas, in flow
 * coordinates); the nearest spot there where it overlaps no node. Never on another node.
 */
export function placeNode(model: Model, anchor: { x: number; y: number } | null, centre: { x: number; y: number } | null): { x: number; y: number } {
  const target = anchor ? { x: anchor.x + COLUMN, y: anchor.y } : centre ? { x: snap(centre.x - NODE_WIDTH / 2), y: snap(centre.y - NODE_HEIGHT / 2) } : { x: 40, y: 40 };
  const spots: { x: number; y: number; d: number }[] = [];
  for (let i = -REACH; i <= REACH; i++) {
    // Beside the anchor means to its right: the spots on its left come last.
    if (anchor && i < 0) continue;
    for (let j = -REACH; j <= REACH; j++) spots.push({ x: target.x + i * COLUMN, y: target.y + j * ROW, d: Math.hypot(i * COLUMN, j * ROW) });
  }
  spots.sort((a, b) => a.d - b.d);
  const free = spots.find((p) => isFree(model, p));
  if (free) return { x: free.x, y: free.y };
  // Crowded all around: right of every node.
  return { x: Math.max(...model.nodes.map((n) => n.x)) + COLUMN, y: target.y };
}
