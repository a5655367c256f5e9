/**
 * Lays the run graph out off the page's thread: dagre on a big graph takes long enough to freeze
 * the page, and here it only delays the picture. One request at a time, answered in order.
 */
import { layoutBoxes } from '../../graph.ts';
import type { LayoutReply, LayoutRequest } from './layout-messages.ts';

/** The worker's global scope, typed by hand: the dashboard is type-checked with the DOM's types, not a worker's. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<LayoutRequest>) => void) | null;
  postMessage(message: LayoutReply): void;
}

const scope = self as unknown as WorkerScope;

scope.onmessage = ({ data }) => {
  const started = performance.now();
  try {
    const positions = layoutBoxes(data.boxes, data.edges);
    scope.postMessage({ seq: data.seq, positions: [...positions].map(([id, p]) => [id, p.x, p.y]), ms: performance.now() - started });
  } catch (err) {
    scope.postMessage({ seq: data.seq, error: err instanceof Error ? err.message : String(err) });
  }
};
