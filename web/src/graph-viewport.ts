/**
 * The graph's first view: the whole graph when it fits at a zoom that can be read, else its start
 * (the roots, on the left) at that zoom, never a strip too small to read. Pure, unit-tested.
 */
import type { Box, Point } from './graph.ts';

/** Below this zoom a node's id cannot be read. */
export const READABLE_ZOOM = 0.5;
export const MAX_FIT_ZOOM = 1.2;
const PAD = 24;

export interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ViewportValue {
  x: number;
  y: number;
  zoom: number;
}

/** The box around laid-out boxes (null when there are none). */
export function boundsOf(boxes: readonly Box[], positions: ReadonlyMap<string, Point>): Bounds | null {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const b of boxes) {
    const p = positions.get(b.id);
    if (!p) continue;
    minX = Math.min(minX, p.x);
    minY = Math.min(minY, p.y);
    maxX = Math.max(maxX, p.x + b.width);
    maxY = Math.max(maxY, p.y + b.height);
  }
  return minX === Infinity ? null : { x: minX, y: minY, width: maxX - minX, height: maxY - minY };
}

/** The viewport showing `bounds` in a `view`-sized pane: fitted between READABLE_ZOOM and `maxZoom`. */
export function readableViewport(bounds: Bounds, view: { width: number; height: number }, maxZoom = MAX_FIT_ZOOM): ViewportValue {
  const fit = Math.min((view.width - 2 * PAD) / Math.max(1, bounds.width), (view.height - 2 * PAD) / Math.max(1, bounds.height), maxZoom);
  const zoom = Math.max(fit, READABLE_ZOOM);
  const centreY = view.height / 2 - (bounds.y + bounds.height / 2) * zoom;
  // Too wide to fit: start from the left edge, where the run starts.
  const x = bounds.width * zoom > view.width - 2 * PAD ? PAD - bounds.x * zoom : view.width / 2 - (bounds.x + bounds.width / 2) * zoom;
  // Too tall: start from the top rather than lose both ends.
  const y = bounds.height * zoom > view.height - 2 * PAD ? PAD - bounds.y * zoom : centreY;
  return { x, y, zoom };
}
