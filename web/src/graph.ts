/**
 * The run DAG as a picture: dagre positions (left to right), and what each dependency edge
 * says about its target (satisfied, waiting, or blocked for good). Pure, unit-tested.
 */
import { Graph, layout } from '@dagrejs/dagre';
import type { JobView } from './types.ts';

export const NODE_WIDTH = 184;
export const NODE_HEIGHT = 58;

export interface DagNode {
  id: string;
  dependsOn: readonly string[];
}

export interface Point {
  x: number;
  y: number;
}

/** The jobs' dependency edges whose both ends exist, as `[source, target]` (dependency → dependent). */
export function dagEdges(nodes: readonly DagNode[]): [string, string][] {
  const ids = new Set(nodes.map((n) => n.id));
  const out: [string, string][] = [];
  for (const n of nodes) for (const d of new Set(n.dependsOn)) if (ids.has(d) && d !== n.id) out.push([d, n.id]);
  return out;
}

/** A key that changes exactly when the graph's shape (its nodes or edges) changes. */
export function shapeKey(nodes: readonly DagNode[]): string {
  return nodes.map((n) => `${n.id}<${[...n.dependsOn].sort().join(',')}`).sort().join('|');
}

/**
 * Above this many nodes dagre ranks with `longest-path`: a little less tidy than its default
 * (network simplex), but linear where the default grows much faster (600 jobs: 0.6 s against 4 s).
 */
export const FAST_RANKER_ABOVE = 150;

/** A box to place: its id and size. */
export interface Box {
  id: string;
  width: number;
  height: number;
}

/** Top-left positions for every node, laid out left to right by dagre. */
export function layoutDag(nodes: readonly DagNode[], size: { width: number; height: number } = { width: NODE_WIDTH, height: NODE_HEIGHT }): Map<string, Point> {
  return layoutBoxes(
    nodes.map((n) => ({ id: n.id, ...size })),
    dagEdges(nodes),
  );
}

/** Top-left positions for boxes of any size joined by `[source, target]` edges, left to right by dagre. */
export function layoutBoxes(boxes: readonly Box[], edges: readonly (readonly [string, string])[]): Map<string, Point> {
  const g = new Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 22, ranksep: 60, marginx: 16, marginy: 16, ranker: boxes.length > FAST_RANKER_ABOVE ? 'longest-path' : 'network-simplex' });
  g.setDefaultEdgeLabel(() => ({}));
  for (const b of boxes) g.setNode(b.id, { width: b.width, height: b.height });
  for (const [s, t] of edges) if (s !== t && g.hasNode(s) && g.hasNode(t)) g.setEdge(s, t);
  layout(g);
  const out = new Map<string, Point>();
  for (const b of boxes) {
    const p = g.node(b.id) as { x: number; y: number };
    out.set(b.id, { x: p.x - b.width / 2, y: p.y - b.height / 2 });
  }
  return out;
}

/**
 * What an edge means for its dependent: `done` (the dependency completed, or the service is up
 * and released), `waiting` (the dependency is still on its way: drawn animated), or `blocked`
 * (the dependency ended without completing, so the dependent will not run: drawn dashed).
 */
export type EdgeState = 'done' | 'waiting' | 'blocked';

export function edgeState(source: Pick<JobView, 'status' | 'service'>): EdgeState {
  if (source.status === 'COMPLETED') return 'done';
  if (source.service?.released) return 'done';
  if (source.status === 'DEAD' || source.status === 'CANCELLED' || source.status === 'SKIPPED') return 'blocked';
  return 'waiting';
}
