/**
 * The constructor's canvas (React Flow): the nodes with their problem counts, the dependency
 * edges, and what the user does on it (move, select, connect, delete), reported to the model.
 */
import {
  Background,
  type Connection,
  Controls,
  type Edge,
  type EdgeChange,
  Handle,
  MarkerType,
  MiniMap,
  type Node,
  type NodeChange,
  type NodeProps,
  Position,
  ReactFlow,
  type ReactFlowInstance,
  SelectionMode,
} from '@xyflow/react';
import { memo, useCallback, useMemo, useRef } from 'react';
import { NODE_HEIGHT, NODE_WIDTH } from '../../graph.ts';
import type { Theme } from '../../theme.ts';
import { ACTION_ICONS, Icon, KindIcon } from '../../icons.ts';
import { KIND_LABEL } from './kinds.ts';
import type { CEdge, CNode, Model } from './model.ts';
import { edgeId, type Position as XY } from './useConstructorModel.ts';
import type { Issue } from './validate.ts';

type CNodeData = { node: CNode; errors: number; warnings: number };
type FlowNode = Node<CNodeData, 'cnode'>;
export type FlowInstance = ReactFlowInstance<FlowNode, Edge>;

const CNodeView = memo(function CNodeView({ data, selected }: NodeProps<FlowNode>) {
  const { node, errors, warnings } = data;
  return (
    <div className={`c-node c-kind-${node.kind}${selected ? ' is-selected' : ''}${errors ? ' has-errors' : ''}`} data-testid={`node-${node.id}`}>
      <Handle type="target" position={Position.Left} className="c-handle" data-testid={`in-${node.id}`} />
      <div className="c-node-top">
        <span className="c-node-id">{node.id || '(no id)'}</span>
        {errors > 0 && (
          <span className="c-node-bad" title={`${errors} problem${errors > 1 ? 's' : ''}`}>
            ! {errors}
          </span>
        )}
        {errors === 0 && warnings > 0 && (
          <span className="c-node-warn" title={`${warnings} warning${warnings > 1 ? 's' : ''}`}>
            <Icon icon={ACTION_ICONS.warning} /> {warnings}
          </span>
        )}
      </div>
      <div className="c-node-bottom">
        <span className="c-node-kind">
          <KindIcon kind={node.kind} /> {KIND_LABEL[node.kind]}
        </span>
        <span className="c-node-file">{node.kind === 'approval' ? node.fields.message : node.fields.file}</span>
      </div>
      <Handle type="source" position={Position.Right} className="c-handle" data-testid={`out-${node.id}`} />
    </div>
  );
});

const nodeTypes = { cnode: CNodeView };

/** Errors and warnings by node key. */
function issueCounts(issues: readonly Issue[]): Map<string, { errors: number; warnings: number }> {
  const counts = new Map<string, { errors: number; warnings: number }>();
  for (const i of issues) {
    if (!i.key) continue;
    const c = counts.get(i.key) ?? { errors: 0, warnings: 0 };
    if (i.level === 'error') c.errors++;
    else c.warnings++;
    counts.set(i.key, c);
  }
  return counts;
}

/** `key → selected` of the changes of type `select`. */
function selections(changes: readonly (NodeChange<FlowNode> | EdgeChange<Edge>)[]): Map<string, boolean> {
  const sel = new Map<string, boolean>();
  for (const c of changes) if (c.type === 'select') sel.set(c.id, c.selected);
  return sel;
}

export interface CanvasProps {
  model: Model;
  issues: readonly Issue[];
  selected: ReadonlySet<string>;
  selectedEdges: ReadonlySet<string>;
  theme: Theme;
  onInit: (instance: FlowInstance) => void;
  onMove: (positions: ReadonlyMap<string, XY>) => void;
  onSelectNodes: (changes: ReadonlyMap<string, boolean>) => void;
  onSelectEdges: (changes: ReadonlyMap<string, boolean>) => void;
  onConnect: (source: string, target: string) => void;
  onDelete: (nodeKeys: string[], edges: CEdge[]) => void;
  onDragStart: () => void;
  onDragStop: () => void;
}

export default function Canvas({ model, issues, selected, selectedEdges, theme, onInit, onMove, onSelectNodes, onSelectEdges, onConnect, onDelete, onDragStart, onDragStop }: CanvasProps) {
  const nodeCache = useRef(new Map<string, FlowNode>());

  const nodes: FlowNode[] = useMemo(() => {
    const counts = issueCounts(issues);
    // The same object for an unchanged node, so that React Flow keeps what it measured of it.
    const cache = nodeCache.current;
    const out = model.nodes.map((n): FlowNode => {
      const errors = counts.get(n.key)?.errors ?? 0;
      const warnings = counts.get(n.key)?.warnings ?? 0;
      const isSelected = selected.has(n.key);
      const prev = cache.get(n.key);
      if (prev && prev.data.node === n && prev.data.errors === errors && prev.data.warnings === warnings && prev.selected === isSelected) return prev;
      return {
        id: n.key,
        type: 'cnode' as const,
        position: { x: n.x, y: n.y },
        data: { node: n, errors, warnings },
        selected: isSelected,
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        measured: { width: NODE_WIDTH, height: NODE_HEIGHT },
        ariaLabel: `${n.id} (${n.kind})`,
      };
    });
    nodeCache.current = new Map(out.map((n) => [n.id, n]));
    return out;
  }, [model.nodes, issues, selected]);

  const edges: Edge[] = useMemo(
    () =>
      model.edges.map((e) => {
        const id = edgeId(e);
        return { id, source: e.source, target: e.target, selected: selectedEdges.has(id), markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 }, className: 'c-edge' };
      }),
    [model.edges, selectedEdges],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      const positions = new Map<string, XY>();
      for (const c of changes) if (c.type === 'position' && c.position) positions.set(c.id, c.position);
      if (positions.size > 0) onMove(positions);
      const sel = selections(changes);
      if (sel.size > 0) onSelectNodes(sel);
    },
    [onMove, onSelectNodes],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<Edge>[]) => {
      const sel = selections(changes);
      if (sel.size > 0) onSelectEdges(sel);
    },
    [onSelectEdges],
  );

  return (
    <div className="c-canvas">
      <ReactFlow<FlowNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={(c: Connection) => onConnect(c.source, c.target)}
        onInit={onInit}
        onNodeDragStart={onDragStart}
        onNodeDragStop={onDragStop}
        onSelectionDragStart={onDragStart}
        onSelectionDragStop={onDragStop}
        onDelete={({ nodes: ns, edges: es }) =>
          onDelete(
            ns.map((n) => n.id),
            es.map((e) => ({ source: e.source, target: e.target })),
          )
        }
        deleteKeyCode={['Delete', 'Backspace']}
        multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
        selectionOnDrag
        selectionMode={SelectionMode.Partial}
        panOnDrag={[1, 2]}
        snapToGrid
        snapGrid={[20, 20]}
        colorMode={theme}
        minZoom={0.2}
        maxZoom={2}
        defaultViewport={{ x: 0, y: 0, zoom: 1 }}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} />
        <Controls />
        <MiniMap pannable zoomable />
      </ReactFlow>
    </div>
  );
}
