/**
 * The run's jobs as a live DAG, at any size. Fan-outs collapse into groups (graph-groups.ts) that
 * expand on click; a Web Worker lays the graph out (layout-client.ts) whenever what is drawn
 * changes (jobs added at run time, a group expanded or collapsed), never for a status change:
 * statuses only restyle nodes. The first view is readable (graph-viewport.ts); the search box
 * finds a job, opens its group and centres it.
 */
import '@xyflow/react/dist/style.css';
import './graph.css';
import { Background, Controls, type Edge, MarkerType, MiniMap, type NodeChange, Panel, ReactFlow, type ReactFlowInstance, useNodesState, type Viewport } from '@xyflow/react';
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { JobView } from '../../api.ts';
import { edgeState, NODE_HEIGHT, NODE_WIDTH } from '../../graph.ts';
import { GROUP_PAGE, groupCounts, groupEdgeState, groupJobs, groupStatus, memberOffset, pageOf, unitBoxes } from '../../graph-groups.ts';
import { boundsOf, readableViewport } from '../../graph-viewport.ts';
import { jobStatusInfo, toneColor } from '../../status.ts';
import { useTheme } from '../../theme.ts';
import GraphSearch from './GraphSearch.tsx';
import { type FrameNode, FrameNodeView, type GroupNode, groupAriaLabel, GroupNodeView, groupName } from './GroupNodes.tsx';
import { jobAriaLabel, type JobNode, JobNodeView } from './JobNode.tsx';
import { graphStats, type LayoutShape, useLayout } from './layout-client.ts';
import { useCoalesced } from './useCoalesced.ts';

type GraphNode = JobNode | GroupNode | FrameNode;

const nodeTypes = { job: JobNodeView, group: GroupNodeView, frame: FrameNodeView };

/** What to bring into view once it is laid out: a job, or a group (its frame when expanded, its node when not). */
type Focus = { id: string; kind: 'job' | 'group' };

export interface RunGraphProps {
  jobs: JobView[];
  selectedId: string | null;
  onSelect: (jobId: string | null) => void;
}

/** How often status changes are drawn at most. */
const STATUS_REDRAW_MS = 150;

export default function RunGraph({ jobs, selectedId, onSelect }: RunGraphProps) {
  const shown = useCoalesced(jobs, STATUS_REDRAW_MS);
  return <GraphCanvas jobs={shown} selectedId={selectedId} onSelect={onSelect} />;
}

const GraphCanvas = memo(function GraphCanvas({ jobs, selectedId, onSelect }: RunGraphProps) {
  const [theme] = useTheme();
  const [nodes, setNodes, onNodesChange] = useNodesState<GraphNode>([]);
  const instance = useRef<ReactFlowInstance<GraphNode, Edge> | null>(null);
  const wrapper = useRef<HTMLDivElement>(null);
  const userMoved = useRef(false);
  // The viewport when a move by the user began: a click on a node starts a pan that moves nothing,
  // so the move counts as the user's only if the viewport really changed by its end.
  const moveStart = useRef<Viewport | null>(null);

  // Jobs are only ever added to a run and a job's dependencies never change: the ids are the shape.
  const idsKey = useMemo(() => jobs.map((j) => j.spec.id).join('\n'), [jobs]);
  // Keyed by `idsKey` on purpose: `jobs` is a new array at every status change.
  const grouping = useMemo(() => {
    const started = performance.now();
    const g = groupJobs(jobs.map((j) => ({ id: j.spec.id, dependsOn: j.spec.dependsOn })));
    graphStats.lastGroupingMs = Math.round(performance.now() - started);
    return g;
  }, [idsKey]);
  const groupsById = useMemo(() => new Map(grouping.groups.map((g) => [g.id, g])), [grouping]);

  // The expanded groups, each with the page of members it shows (paging moves nothing: no layout).
  const [expanded, setExpanded] = useState<ReadonlyMap<string, number>>(new Map());
  const expandedRef = useRef(expanded);
  expandedRef.current = expanded;
  const expandedKey = [...expanded.keys()].filter((id) => groupsById.has(id)).sort().join('\n');
  const shape = useMemo<LayoutShape>(() => {
    const open = new Set(expandedKey === '' ? [] : expandedKey.split('\n'));
    return { boxes: unitBoxes(grouping, open), edges: grouping.edges, expanded: open };
  }, [grouping, expandedKey]);
  const { layout, error } = useLayout(shape);

  const byId = useMemo(() => new Map(jobs.map((j) => [j.spec.id, j])), [jobs]);
  const counts = useMemo(() => groupCounts(grouping.groups, (id) => byId.get(id)?.status), [grouping, byId]);

  const [focus, setFocus] = useState<Focus | null>(null);
  const [found, setFound] = useState<string | null>(null);
  const [searchMessage, setSearchMessage] = useState<string | null>(null);

  const showPage = useCallback((groupId: string, page: number) => setExpanded((prev) => (prev.get(groupId) === page ? prev : new Map(prev).set(groupId, page))), []);
  const collapse = useCallback((groupId: string) => {
    setExpanded((prev) => {
      const next = new Map(prev);
      next.delete(groupId);
      return next;
    });
    setFocus({ id: groupId, kind: 'group' });
  }, []);

  /** Opens the group holding a job at the page that shows it; true when that changed what is drawn. */
  const reveal = useCallback(
    (jobId: string): boolean => {
      const groupId = grouping.groupOf.get(jobId);
      const group = groupId ? groupsById.get(groupId) : undefined;
      if (!group) return false;
      const page = pageOf(group, jobId);
      if (expandedRef.current.get(group.id) === page) return false;
      showPage(group.id, page);
      return true;
    },
    [grouping, groupsById, showPage],
  );

  // A job selected from elsewhere (the address, the panel's links) inside a closed group: open it and go there.
  useEffect(() => {
    if (selectedId && reveal(selectedId)) setFocus({ id: selectedId, kind: 'job' });
  }, [selectedId, reveal]);

  const find = useCallback(
    (text: string) => {
      const needle = text.toLowerCase();
      const id = byId.has(text) ? text : jobs.find((j) => j.spec.id.toLowerCase().includes(needle))?.spec.id;
      if (id === undefined) {
        setSearchMessage(`No job matches “${text}”.`);
        setFound(null);
        return;
      }
      setSearchMessage(id === text ? null : `Found ${id}.`);
      reveal(id);
      setFound(id);
      setFocus({ id, kind: 'job' });
    },
    [byId, jobs, reveal],
  );

  // The drawn nodes: positions from the layout, everything else from the jobs as they are now.
  useEffect(() => {
    if (!layout) return;
    setNodes((prev) => {
      const old = new Map(prev.map((n) => [n.id, n]));
      const out: GraphNode[] = [];
      const jobNode = (job: JobView, position: { x: number; y: number }, parentId?: string): JobNode => {
        const before = old.get(job.spec.id);
        // Unchanged (most nodes at each status update): the same object, so neither React Flow nor the node redraws it.
        if (before?.type === 'job' && before.data.job === job && before.data.found === (job.spec.id === found) && before.selected === (job.spec.id === selectedId) && before.parentId === parentId && before.position.x === position.x && before.position.y === position.y) return before;
        return {
          ...(before ?? {}),
          id: job.spec.id,
          type: 'job',
          position,
          parentId,
          data: { job, found: job.spec.id === found },
          selected: job.spec.id === selectedId,
          width: NODE_WIDTH,
          height: NODE_HEIGHT,
          ariaLabel: jobAriaLabel(job),
        };
      };
      for (const box of layout.shape.boxes) {
        const position = layout.positions.get(box.id);
        if (!position) continue;
        const group = groupsById.get(box.id);
        if (!group) {
          const job = byId.get(box.id);
          if (job) out.push(jobNode(job, position));
          continue;
        }
        const groupCountsNow = counts.get(group.id) ?? {};
        if (!layout.shape.expanded.has(group.id)) {
          out.push({ id: group.id, type: 'group', position, data: { group, counts: groupCountsNow }, selected: false, width: box.width, height: box.height, ariaLabel: groupAriaLabel(group, groupCountsNow) });
          continue;
        }
        const page = expanded.get(group.id) ?? 0;
        out.push({
          id: group.id,
          type: 'frame',
          position,
          data: { group, counts: groupCountsNow, page, onPage: showPage, onCollapse: collapse },
          selectable: false,
          focusable: false,
          width: box.width,
          height: box.height,
          ariaLabel: `Group ${groupName(group)}, expanded`,
        });
        group.members.slice(page * GROUP_PAGE, (page + 1) * GROUP_PAGE).forEach((id, i) => {
          const job = byId.get(id);
          if (job) out.push(jobNode(job, memberOffset(i, group.members.length), group.id));
        });
      }
      return out;
    });
  }, [layout, byId, counts, groupsById, expanded, selectedId, found, showPage, collapse, setNodes]);

  const edges: Edge[] = useMemo(() => {
    if (!layout) return [];
    return grouping.edges
      .filter(([s, t]) => layout.positions.has(s) && layout.positions.has(t))
      .map(([s, t]) => {
        const group = groupsById.get(s);
        const source = byId.get(s);
        const state = group ? groupEdgeState(counts.get(s) ?? {}, group.members.length) : source ? edgeState(source) : 'waiting';
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
  }, [layout, grouping, groupsById, byId, counts, selectedId]);

  // The whole graph at a readable zoom, after each layout and when the pane changes size, until the user moves it.
  const fitTimer = useRef<number | undefined>(undefined);
  const fitReadable = useCallback((animate: boolean) => {
    const el = wrapper.current;
    const rf = instance.current;
    if (!el || !rf || !layout || userMoved.current) return;
    const bounds = boundsOf(layout.shape.boxes, layout.positions);
    if (bounds) void rf.setViewport(readableViewport(bounds, { width: el.clientWidth, height: el.clientHeight }), animate ? { duration: 200 } : undefined);
  }, [layout]);
  const firstFit = useRef(true);
  useEffect(() => {
    if (!layout || focus) return;
    fitReadable(!firstFit.current);
    firstFit.current = false;
  }, [layout, focus, fitReadable]);
  useEffect(() => {
    const el = wrapper.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      window.clearTimeout(fitTimer.current);
      fitTimer.current = window.setTimeout(() => fitReadable(true), 60);
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      window.clearTimeout(fitTimer.current);
    };
  }, [fitReadable]);

  // Bring the focus into view once the layout that draws it is in.
  useEffect(() => {
    const el = wrapper.current;
    const rf = instance.current;
    // Only the layout of what is drawn now says where the focus is (a group just opened or closed moves it).
    if (!focus || !layout || layout.shape !== shape || !el || !rf) return;
    const view = { width: el.clientWidth, height: el.clientHeight };
    const groupId = focus.kind === 'group' ? focus.id : grouping.groupOf.get(focus.id);
    const group = groupId ? groupsById.get(groupId) : undefined;
    if (focus.kind === 'group' || !group) {
      const box = layout.shape.boxes.find((b) => b.id === focus.id);
      const at = layout.positions.get(focus.id);
      if (!box || !at) return;
      if (focus.kind === 'job') void rf.setCenter(at.x + box.width / 2, at.y + box.height / 2, { zoom: Math.max(rf.getZoom(), 1), duration: 250 });
      else void rf.setViewport(readableViewport({ x: at.x, y: at.y, width: box.width, height: box.height }, view, 1), { duration: 250 });
    } else {
      const frame = layout.positions.get(group.id);
      const page = expanded.get(group.id);
      const index = group.members.indexOf(focus.id);
      if (!frame || !layout.shape.expanded.has(group.id) || page !== pageOf(group, focus.id)) return;
      const offset = memberOffset(index - page * GROUP_PAGE, group.members.length);
      void rf.setCenter(frame.x + offset.x + NODE_WIDTH / 2, frame.y + offset.y + NODE_HEIGHT / 2, { zoom: Math.max(rf.getZoom(), 1), duration: 250 });
    }
    userMoved.current = true;
    setFocus(null);
  }, [focus, layout, shape, grouping, groupsById, expanded]);

  const handleChanges = useCallback(
    (changes: NodeChange<GraphNode>[]) => {
      onNodesChange(changes.filter((c) => c.type !== 'select'));
      for (const c of changes) {
        if (c.type !== 'select') continue;
        if (groupsById.has(c.id)) {
          // A click (or Enter) on a collapsed group opens it.
          if (c.selected) {
            showPage(c.id, 0);
            setFocus({ id: c.id, kind: 'group' });
          }
        } else if (c.selected) onSelect(c.id);
        else if (c.id === selectedId && !changes.some((o) => o.type === 'select' && o.selected)) onSelect(null);
      }
    },
    [onNodesChange, onSelect, selectedId, groupsById, showPage],
  );

  const minimapColor = useCallback(
    (n: GraphNode): string => toneColor(jobStatusInfo(n.type === 'job' ? n.data.job.status : groupStatus(n.data.counts)).tone),
    [],
  );

  return (
    <div className="run-graph" ref={wrapper} role="region" aria-label="Job graph: Tab moves between jobs and groups, Enter selects a job or opens a group">
      <ReactFlow<GraphNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={handleChanges}
        onInit={(i) => {
          instance.current = i;
          fitReadable(false);
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
        onlyRenderVisibleElements={nodes.length > 150}
      >
        <Background gap={20} size={1} />
        <Controls showInteractive={false} position="top-left" />
        <Panel position="top-right">
          <GraphSearch onFind={find} message={searchMessage} />
        </Panel>
        {!layout && (
          <Panel position="top-center" className="graph-status" role="status">
            {error ? `The graph could not be laid out: ${error}` : `Laying out ${jobs.length.toLocaleString('en-US')} jobs…`}
          </Panel>
        )}
        <MiniMap<GraphNode> pannable zoomable style={{ width: 150, height: 100 }} ariaLabel="Overview of the job graph" nodeColor={minimapColor} nodeStrokeWidth={2} />
      </ReactFlow>
    </div>
  );
});
