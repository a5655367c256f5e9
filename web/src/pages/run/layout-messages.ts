/** What the page and the layout worker say to each other. */
import type { Box } from '../../graph.ts';

export interface LayoutRequest {
  seq: number;
  boxes: Box[];
  edges: [string, string][];
}

export type LayoutReply = { seq: number; positions: [string, number, number][]; ms: number } | { seq: number; error: string };
