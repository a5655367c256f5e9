/**
 * The run's jobs as a live DAG: dagre lays it out left to right whenever its shape changes (a job
 * added at run time), statuses update in place. Colour, symbol and text show each job's status;
 * edges show what each dependent waits for (animated) or will never get (dashed).
 */
import '@xyflow/react/dist/style.css';
import {
  Background,
  Controls,
  Handle,
  MarkerType,
  MiniMap,
  type Node,
  type NodeChange,
  type NodeProps,
  Position,
  ReactFlow,
  type ReactFlowInstance,
  type Edge,
  type Viewport,
  useNodesState,
} from '@xyflow/react';
import { memo, type ReactNode, useCallback, useEffect, useMemo, useRef } from 'react';
import type { JobView } from '../../api.ts';
import { useNow } from '../../components/ui.tsx';
import { formatDuration } from '../../format.ts';
import { dagEdges, edgeState, layoutDag, NODE_HEIGHT, NODE_WIDTH, shapeKey } from '../../graph.ts';
import { Icon, KIND_ICONS, KindIcon, TONE_ICONS } from '../../icons.ts';
import { isTerminalStatus, jobStatusInfo, toneColor, waitingOf } from '../../status.ts';
import { useTheme } from '../../theme.ts';

type JobNodeData = { job: JobView };
type JobNode = Node<JobNodeData, 'job'>;


function Running({ since }: { since: number }) {
  const now = useNow(1000);
  return <>{formatDuration(now - since)}</>;
}

function jobTiming(job: JobView): ReactNode {
  if (job.status === 'RUNNING' && job.startedAt) return <Running since={job.startedAt} />;
  if (job.finishedAt && job.startedAt && isTerminalStatus(job.status)) return formatDuration(job.finishedAt - job.startedAt);
  return null;
}

const JobNodeView = memo(function JobNodeView({ data, selected }: NodeProps<JobNode>) {
  const { job } = data;
  const info = jobStatusInfo(job.status);
  const timing = jobTiming(job);
  const attempts = job.attempt > 1 ? `attempt ${job.attempt}` : '';
  const why = waitingOf(job);
  return (
    <div className={`job-node tone-${info.tone}${selected ? ' is-selected' : ''}`} title={`${job.spec.id}: ${info.label} (${why ?? info.description})`}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="job-node-top">
        <Icon icon={TONE_ICONS[info.tone]} className="job-node-symbol" />
        <span className="job-node-id">{job.spec.id}</span>
      </div>
      <div className="job-node-bottom">
        <span className="job-node-status">{info.label}</span>
        {why !== null && <span className="job-node-why">{why}</span>}
        {KIND_ICONS[job.spec.kind] && (
          <span className="job-node-kind" title={job.spec.kind}>
            <KindIcon kind={job.spec.kind} /> {job.spec.kind}
          </span>
        )}
        {(timing || attempts) && (
          <span className="job-node-time">
            {attempts}
            {attempts && timing && ' · '}
            {timing}
          </span>
        )}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { job: JobNodeView };

export interface RunGraphProps {
  jobs: JobView[];
  selectedId: string | null;
  onSelect: (jobId: string | null) => void;
}

export default function RunGraph({ jobs, selectedId, onSelect }: RunGraphProps) {
  const [theme] = useTheme();
  const [nodes, setNodes, onNodesChange] = useNodesState<JobNode>([]);
  const instance = useRef<ReactFlowInstance<JobNode, Edge> | null>(null);
  const userMoved = useRef(false);
  // The viewport when a move by the user began: a click on a node starts a pan that moves nothing,
  // so the move counts as the user's only if the viewport really changed by its end.
  const moveStart = useRef<Viewport | null>(null);

  // Positions change only with the shape (jobs and dependencies), never with a status.
  const shape = shapeKey(jobs.map((j) => ({ id: j.spec.id, dependsOn: j.spec.dependsOn })));
  // Keyed by `shape` on purpose: `jobs` is a new array at every status change.
  const positions = useMemo(
    () => layoutDag(jobs.map((j) => ({ id: j.spec.id, dependsOn: j.spec.dependsOn }))),
    [shape],
  );

  useEffect(() => {
    setNodes((prev) => {
      const old = new Map(prev.map((n) => [n.id, n]));
      return jobs.map((job) => {
        const id = job.spec.id;
        const before = old.get(id);
        const position = positions.get(id) ?? { x: 0, y: 0 };
        return {
          ...(before ?? {}),
          id,
          type: 'job' as const,
          position,
          data: { job },
          selected: id === selectedId,
          width: NODE_WIDTH,
          height: NODE_HEIGHT,
          ariaLabel: `${id}: ${jobStatusInfo(job.status).label}${waitingOf(job) !== null ? `, waiting: ${waitingOf(job)}` : ''}`,
        };
      });
    });
  }, [jobs, positions, selectedId, setNodes]);

  // The graph grew, or its box changed size (the job panel opened): fit it again, unless the user has panned or zoomed.
  const wrapper = useRef<HTMLDivElement>(null);
  const fitTimer = useRef<number | undefined>(undefined);
  const refit = useCallback(() => {
    if (userMoved.current) return;
    window.clearTimeout(fitTimer.current);
    fitTimer.current = window.setTimeout(() => void instance.current?.fitView({ padding: 0.15, duration: 200, maxZoom: 1.2 }), 60);
  }, []);
  useEffect(refit, [shape, refit]);
  useEffect(() => {
    const el = wrapper.current;
    if (!el) return;
    const observer = new ResizeObserver(refit);
    observer.observe(el);
    return () => {
      observer.disconnect();
      window.clearTimeout(fitTimer.current);
    };
  }, [refit]);

  const edges: Edge[] = useMemo(() => {
    const byId = new Map(jobs.map((j) => [j.spec.id, j]));
    return dagEdges(jobs.map((j) => ({ id: j.spec.id, dependsOn: j.spec.dependsOn }))).map(([s, t]) => {
      const source = byId.get(s) as JobView;
      const state = edgeState(source);
      const touchesSelected = s === selectedId || t === selectedId;
      return {
        id: `${s}->${t}`,
        source: s,
        target: t,
        animated: state === 'waiting',
        className: `edge-${state}${touchesSelected ? ' edge-focus' : ''}`,
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16, color: state === 'blocked' ? 'var(--st-dead)' : state === 'done' ? 'var(--edge-done)' : 'var(--edge-waiting)' },
        focusable: false,
        selectable: false,
        ariaLabel: `${s} to ${t}: ${state}`,
      };
    });
  }, [jobs, selectedId]);

  const handleChanges = useCallback(
    (changes: NodeChange<JobNode>[]) => {
      onNodesChange(changes.filter((c) => c.type !== 'select'));
      for (const c of changes) {
        if (c.type !== 'select') continue;
        if (c.selected) onSelect(c.id);
        else if (c.id === selectedId && !changes.some((o) => o.type === 'select' && o.selected)) onSelect(null);
      }
    },
    [onNodesChange, onSelect, selectedId],
  );

  return (
    <div className="run-graph" ref={wrapper} role="region" aria-label="Job graph: Tab moves between jobs, Enter selects one">
      <ReactFlow<JobNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={handleChanges}
        onInit={(i) => {
          instance.current = i;
        }}
        onMoveStart={(event, viewport) => {
          moveStart.current = event ? viewport : null;
        }}
        onMoveEnd={(_event, viewport) => {
          const start = moveStart.current;
          moveStart.current = null;
          if (start && (start.x !== viewport.x || start.y !== viewport.y || start.zoom !== viewport.zoom)) userMoved.current = true;
        }}
        colorMode={theme}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.2 }}
        minZoom={0.05}
        maxZoom={2}
        nodesDraggable={false}
        nodesConnectable={false}
        edgesFocusable={false}
        elementsSelectable
        selectNodesOnDrag={false}
        multiSelectionKeyCode={null}
        deleteKeyCode={null}
        selectionKeyCode={null}
        onlyRenderVisibleElements={jobs.length > 300}
      >
        <Background gap={20} size={1} />
        <Controls showInteractive={false} position="top-left" />
        <MiniMap<JobNode> pannable zoomable style={{ width: 150, height: 100 }} ariaLabel="Overview of the job graph" nodeColor={(n) => toneColor(jobStatusInfo(n.data.job.status).tone)} nodeStrokeWidth={2} />
      </ReactFlow>
    </div>
  );
}
