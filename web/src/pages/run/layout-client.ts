/**
 * The run graph's layouts, computed by a Web Worker (layout.worker.ts) so the page stays responsive
 * however big the graph. `useLayout` asks again only when the boxes or edges change (the graph's
 * shape: jobs added, a group expanded), never for a status change. `window.__titanGraph` counts
 * the layouts and times the last one, for the browser tests and anyone curious.
 */
import { useEffect, useState } from 'react';
import { type Box, layoutBoxes, type Point } from '../../graph.ts';
import type { LayoutReply, LayoutRequest } from './layout-messages.ts';

export interface GraphStats {
  /** Layouts applied since the page loaded. */
  layouts: number;
  /** The last layout's time in the worker and its box count. */
  lastLayoutMs: number;
  lastLayoutBoxes: number;
  /** The last grouping's time, on the page. */
  lastGroupingMs: number;
}

export const graphStats: GraphStats = { layouts: 0, lastLayoutMs: 0, lastLayoutBoxes: 0, lastGroupingMs: 0 };
(window as unknown as { __titanGraph?: GraphStats }).__titanGraph = graphStats;

export interface LayoutShape {
  boxes: Box[];
  edges: [string, string][];
  /** The groups drawn expanded (their boxes are frames): for the page, not sent to the worker. */
  expanded: ReadonlySet<string>;
}

export interface Layout {
  /** The shape this layout is of (the same object that was asked for). */
  shape: LayoutShape;
  positions: ReadonlyMap<string, Point>;
}

let worker: Worker | null | undefined;
let nextSeq = 1;
const pending = new Map<number, (reply: LayoutReply) => void>();

function layoutWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module', name: 'graph-layout' });
    worker.onmessage = (event: MessageEvent<LayoutReply>) => {
      const done = pending.get(event.data.seq);
      pending.delete(event.data.seq);
      done?.(event.data);
    };
  } catch {
    worker = null;
  }
  return worker;
}

// Started with the page's graph code, so the worker is ready by the time the run's jobs arrive.
layoutWorker();

function request(shape: LayoutShape): Promise<LayoutReply> {
  const seq = nextSeq++;
  const w = layoutWorker();
  if (!w) {
    // No worker (an old browser): lay out here, late rather than never.
    const started = performance.now();
    const positions = layoutBoxes(shape.boxes, shape.edges);
    return Promise.resolve({ seq, positions: [...positions].map(([id, p]) => [id, p.x, p.y]), ms: performance.now() - started });
  }
  return new Promise((resolve) => {
    pending.set(seq, resolve);
    const message: LayoutRequest = { seq, boxes: shape.boxes, edges: shape.edges };
    w.postMessage(message);
  });
}

/** The layout of `shape`, once the worker has it; the previous layout until then (null at first). */
export function useLayout(shape: LayoutShape): { layout: Layout | null; error: string | null } {
  const [state, setState] = useState<{ layout: Layout | null; error: string | null }>({ layout: null, error: null });
  useEffect(() => {
    let current = true;
    void request(shape).then((reply) => {
      if (!current) return;
      if ('error' in reply) {
        setState((prev) => ({ layout: prev.layout, error: reply.error }));
        return;
      }
      graphStats.layouts += 1;
      graphStats.lastLayoutMs = Math.round(reply.ms);
      graphStats.lastLayoutBoxes = shape.boxes.length;
      setState({ layout: { shape, positions: new Map(reply.positions.map(([id, x, y]) => [id, { x, y }])) }, error: null });
    });
    return () => {
      current = false;
    };
  }, [shape]);
  return state;
}
