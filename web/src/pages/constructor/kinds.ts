/** How the constructor names a node's kind on the canvas and in the editor (with the kind's icon, icons.ts). */
import type { NodeKind } from './model.ts';

export const KIND_LABEL: Record<NodeKind, string> = { run: 'task', service: 'service', approval: 'approval' };
