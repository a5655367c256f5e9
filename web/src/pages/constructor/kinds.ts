/** How the constructor names a node's kind on the canvas and in the editor. */
import type { NodeKind } from './model.ts';

export const KIND_LABEL: Record<NodeKind, string> = { run: 'task', service: '⚙ service', approval: '⚑ approval' };
