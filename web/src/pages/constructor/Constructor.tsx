/**
 * The pipeline constructor: a canvas of jobs and dependencies (React Flow), a node editor, the
 * generated YAML / Python / TypeScript, import, drafts, validate and deploy, and the script library.
 */
import '@xyflow/react/dist/style.css';
import './constructor.css';
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
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { apiGet, apiPath, apiPost, type RunView, type Stats, useApi } from '../../api.ts';
import { errorText, PageHeader } from '../../components/ui.tsx';
import { layoutDag, NODE_HEIGHT, NODE_WIDTH } from '../../graph.ts';
import { navigate, useSearchParam } from '../../router.tsx';
import { useTheme } from '../../theme.ts';
import { DEFAULT_CAPABILITY, DEFAULT_GATE_WAIT_MS, DEFAULT_PRIORITY, DEFAULT_RETRIES } from '../../../../src/core/defaults.ts';
import { deleteDraft, DRAFT_NAME, type DraftInfo, listDrafts, loadDraft, renameDraft, saveDraft, uploadScript } from './drafts.ts';
import {
  addNode,
  type CEdge,
  type CNode,
  commit,
  commitSince,
  connect,
  duplicateNodes,
  emptyModel,
  fromPipeline,
  pipelineOfRun,
  type History,
  historyOf,
  type Issue,
  type Model,
  moveNodes,
  type NodeFields,
  type NodeKind,
  type ParsedPipeline,
  redo,
  removeEdges,
  removeNodes,
  replacePresent,
  toPython,
  toTypeScript,
  toYaml,
  undo,
  updateNode,
  validate,
} from './model.ts';
import ScriptLibrary from './ScriptLibrary.tsx';

type CNodeData = { node: CNode; errors: number; warnings: number };
type FlowNode = Node<CNodeData, 'cnode'>;

const KIND_LABEL: Record<NodeKind, string> = { run: 'task', service: '⚙ service', approval: '⚑ approval' };

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
            ⚠ {warnings}
          </span>
        )}
      </div>
      <div className="c-node-bottom">
        <span className="c-node-kind">{KIND_LABEL[node.kind]}</span>
        <span className="c-node-file">{node.kind === 'approval' ? node.fields.message : node.fields.file}</span>
      </div>
      <Handle type="source" position={Position.Right} className="c-handle" data-testid={`out-${node.id}`} />
    </div>
  );
});

const nodeTypes = { cnode: CNodeView };

const SHORTCUTS: [string, string][] = [
  ['Drag from a node’s right handle to another’s left handle', 'connect (dependency → dependent)'],
  ['Click / Shift+click', 'select / add to the selection'],
  ['Drag on the empty canvas', 'select with a rubber band'],
  ['Right or middle drag, scroll', 'pan, zoom'],
  ['Delete / Backspace', 'delete the selection'],
  ['Ctrl+Z', 'undo'],
  ['Ctrl+Shift+Z / Ctrl+Y', 'redo'],
  ['Ctrl+D', 'duplicate the selection'],
  ['Ctrl+A', 'select every node'],
  ['Arrow keys (Shift: 4×)', 'move the selected nodes'],
  ['?', 'this help'],
  ['Esc', 'close dialogs, clear the selection'],
];

type CodeTab = 'yaml' | 'python' | 'typescript';

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable;
}

function layoutModel(model: Model): Model {
  const parents = new Map<string, string[]>();
  for (const e of model.edges) parents.set(e.target, [...(parents.get(e.target) ?? []), e.source]);
  const pos = layoutDag(model.nodes.map((n) => ({ id: n.key, dependsOn: parents.get(n.key) ?? [] })));
  const snapped = new Map([...pos].map(([k, p]) => [k, { x: Math.round(p.x / 20) * 20, y: Math.round(p.y / 20) * 20 }]));
  return moveNodes(model, snapped);
}

export default function Constructor() {
  const [theme] = useTheme();
  const [history, setHistory] = useState<History>(() => historyOf(emptyModel()));
  const model = history.present;
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [selectedEdges, setSelectedEdges] = useState<ReadonlySet<string>>(new Set());
  const [status, setStatus] = useState<{ text: string; tone: 'info' | 'error' | 'good' } | null>(null);
  const [help, setHelp] = useState(false);
  const [importOpen, setImportOpen] = useState(false);
  const [tab, setTab] = useState<CodeTab>('yaml');
  const [draftName, setDraftName] = useState<string>('');
  const [savedModel, setSavedModel] = useState<Model | null>(null);
  const [drafts, setDrafts] = useState<DraftInfo[]>([]);
  const [busy, setBusy] = useState(false);
  const [scriptsVersion, setScriptsVersion] = useState(0);
  const instance = useRef<ReactFlowInstance<FlowNode, Edge> | null>(null);
  const dragStart = useRef<Model | null>(null);
  const lastEdit = useRef<string>('');
  const nodeCache = useRef(new Map<string, FlowNode>());

  const stats = useApi<Stats>('/api/stats');
  const pools = useMemo(() => Object.keys(stats.data?.pools ?? {}).sort(), [stats.data]);
  const issues = useMemo(() => validate(model, pools), [model, pools]);

  const say = (text: string, tone: 'info' | 'error' | 'good' = 'info'): void => setStatus({ text, tone });

  /** A new undo step. */
  const apply = useCallback((next: Model): void => {
    lastEdit.current = '';
    setHistory((h) => commit(h, next));
  }, []);

  // ---- drafts ----
  const refreshDrafts = useCallback(() => {
    listDrafts()
      .then(setDrafts)
      .catch(() => setDrafts([]));
  }, []);
  useEffect(refreshDrafts, [refreshDrafts]);

  const dirty = savedModel === null ? model.nodes.length > 0 : savedModel !== model;

  // Autosave of the current named draft, 1.5 s after the last change.
  useEffect(() => {
    if (!draftName || savedModel === null || savedModel === model) return;
    const timer = window.setTimeout(() => {
      saveDraft(draftName, model)
        .then(() => {
          setSavedModel(model);
          say(`Draft ${draftName} saved automatically`);
        })
        .catch((err: unknown) => say(`Autosave failed: ${errorText(err)}`, 'error'));
    }, 1500);
    return () => window.clearTimeout(timer);
  }, [draftName, model, savedModel]);

  // ---- edits ----
  const add = (kind: NodeKind): void => {
    const flow = instance.current;
    const box = document.querySelector('.c-canvas')?.getBoundingClientRect();
    let at = { x: 40 + model.nodes.length * 20, y: 40 + model.nodes.length * 20 };
    if (flow && box) {
      const c = flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 });
      at = { x: Math.round((c.x - NODE_WIDTH / 2) / 20) * 20, y: Math.round((c.y - NODE_HEIGHT / 2) / 20) * 20 };
    }
    // Not on top of another node: further down until the spot is free.
    for (let i = 0; i < 50 && model.nodes.some((n) => Math.abs(n.x - at.x) < NODE_WIDTH && Math.abs(n.y - at.y) < NODE_HEIGHT + 10); i++) at = { x: at.x, y: at.y + 80 };
    const r = addNode(model, kind, at);
    apply(r.model);
    setSelected(new Set([r.key]));
    say(`Added ${r.model.nodes.find((n) => n.key === r.key)?.id ?? kind}`);
  };

  const removeSelection = (): void => {
    if (selected.size === 0 && selectedEdges.size === 0) return;
    let next = removeNodes(model, selected);
    next = removeEdges(
      next,
      model.edges.filter((e) => selectedEdges.has(`${e.source}>${e.target}`)),
    );
    apply(next);
    setSelected(new Set());
    setSelectedEdges(new Set());
    say('Deleted the selection');
  };

  const duplicate = (): void => {
    if (selected.size === 0) return;
    const r = duplicateNodes(model, selected);
    apply(r.model);
    setSelected(new Set(r.keys));
    say(`Duplicated ${r.keys.length} node${r.keys.length > 1 ? 's' : ''}`);
  };

  const doUndo = (): void => {
    lastEdit.current = '';
    setHistory((h) => undo(h));
  };
  const doRedo = (): void => {
    lastEdit.current = '';
    setHistory((h) => redo(h));
  };

  const startDrag = (): void => {
    dragStart.current = history.present;
  };
  const endDrag = (): void => {
    const before = dragStart.current;
    dragStart.current = null;
    lastEdit.current = '';
    if (before) setHistory((h) => commitSince(h, before));
  };

  const clearCanvas = (): void => {
    if (model.nodes.length === 0) return;
    if (!window.confirm(`Remove all ${model.nodes.length} nodes from the canvas? (Undo brings them back.)`)) return;
    apply(removeNodes(model, model.nodes.map((n) => n.key)));
    setSelected(new Set());
    setSelectedEdges(new Set());
    say('Cleared the canvas; Undo restores it');
  };

  const selectAll = (): void => {
    setSelected(new Set(model.nodes.map((n) => n.key)));
    setSelectedEdges(new Set());
  };

  const autoLayout = (): void => {
    apply(layoutModel(model));
    window.setTimeout(() => void instance.current?.fitView({ padding: 0.2, duration: 200, maxZoom: 1 }), 50);
  };

  // Keyboard shortcuts (not while typing in a field).
  const keys = useRef({ doUndo, doRedo, duplicate, selectAll, setHelp });
  keys.current = { doUndo, doRedo, duplicate, selectAll, setHelp };
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') {
        setHelp(false);
        setImportOpen(false);
        if (!isTyping(e.target)) {
          setSelected(new Set());
          setSelectedEdges(new Set());
        }
        return;
      }
      if (isTyping(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      if (mod && k === 'z' && !e.shiftKey) {
        e.preventDefault();
        keys.current.doUndo();
      } else if (mod && ((k === 'z' && e.shiftKey) || k === 'y')) {
        e.preventDefault();
        keys.current.doRedo();
      } else if (mod && k === 'd') {
        e.preventDefault();
        keys.current.duplicate();
      } else if (mod && k === 'a') {
        e.preventDefault();
        keys.current.selectAll();
      } else if (e.key === '?') {
        e.preventDefault();
        keys.current.setHelp((h) => !h);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // ---- React Flow ----
  const nodes: FlowNode[] = useMemo(() => {
    const counts = new Map<string, { errors: number; warnings: number }>();
    for (const i of issues) {
      if (!i.key) continue;
      const c = counts.get(i.key) ?? { errors: 0, warnings: 0 };
      if (i.level === 'error') c.errors++;
      else c.warnings++;
      counts.set(i.key, c);
    }
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
      model.edges.map((e: CEdge) => {
        const id = `${e.source}>${e.target}`;
        return { id, source: e.source, target: e.target, selected: selectedEdges.has(id), markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 }, className: 'c-edge' };
      }),
    [model.edges, selectedEdges],
  );

  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    const positions = new Map<string, { x: number; y: number }>();
    let selChanged = false;
    const sel = new Map<string, boolean>();
    for (const c of changes) {
      if (c.type === 'position' && c.position) positions.set(c.id, c.position);
      if (c.type === 'select') {
        selChanged = true;
        sel.set(c.id, c.selected);
      }
    }
    if (positions.size > 0) {
      // Outside a mouse drag a move comes from the arrow keys: one undo step per run of presses.
      const byKeys = dragStart.current === null;
      const step = byKeys && lastEdit.current !== 'keys:move';
      setHistory((h) => (step ? commit : replacePresent)(h, moveNodes(h.present, positions)));
      lastEdit.current = byKeys ? 'keys:move' : '';
    }
    if (selChanged)
      setSelected((prev) => {
        const next = new Set(prev);
        for (const [k, v] of sel) {
          if (v) next.add(k);
          else next.delete(k);
        }
        return next;
      });
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange<Edge>[]) => {
    const sel = new Map<string, boolean>();
    for (const c of changes) if (c.type === 'select') sel.set(c.id, c.selected);
    if (sel.size > 0)
      setSelectedEdges((prev) => {
        const next = new Set(prev);
        for (const [k, v] of sel) {
          if (v) next.add(k);
          else next.delete(k);
        }
        return next;
      });
  }, []);

  const onConnect = (c: Connection): void => {
    const r = connect(model, c.source, c.target);
    if (r.error) {
      say(`Refused: ${r.error}`, 'error');
      return;
    }
    apply(r.model);
    const s = model.nodes.find((n) => n.key === c.source)?.id;
    const t = model.nodes.find((n) => n.key === c.target)?.id;
    say(`${t} now depends on ${s}`, 'good');
  };

  // ---- node editor ----
  const selectedNode = selected.size === 1 ? model.nodes.find((n) => selected.has(n.key)) : undefined;

  const editNode = (key: string, field: string, patch: Parameters<typeof updateNode>[2]): void => {
    const tag = `${key}:${field}`;
    const next = updateNode(model, key, patch);
    if (lastEdit.current === tag) setHistory((h) => replacePresent(h, next));
    else setHistory((h) => commit(h, next));
    lastEdit.current = tag;
  };
  const editPipeline = (field: 'name' | 'tags' | 'schedule', value: string): void => {
    const tag = `pipeline:${field}`;
    const next = { ...model, [field]: value };
    if (lastEdit.current === tag) setHistory((h) => replacePresent(h, next));
    else setHistory((h) => commit(h, next));
    lastEdit.current = tag;
  };

  // ---- code ----
  const code = useMemo(() => (tab === 'yaml' ? toYaml(model) : tab === 'python' ? toPython(model) : toTypeScript(model)), [model, tab]);
  const copy = (): void => {
    navigator.clipboard
      .writeText(code)
      .then(() => say('Copied to the clipboard', 'good'))
      .catch(() => say('The browser refused the clipboard: select the text and copy it', 'error'));
  };

  // ---- validate, deploy, import ----
  const errors = issues.filter((i) => i.level === 'error');
  const runValidate = async (): Promise<boolean> => {
    if (errors.length > 0) {
      say(`${errors.length} problem${errors.length > 1 ? 's' : ''}: ${errors[0]?.message ?? ''}`, 'error');
      return false;
    }
    try {
      await apiPost('/api/pipelines/parse', { yaml: toYaml(model) });
      const warnings = issues.filter((i) => i.level === 'warning');
      say(warnings.length > 0 ? `Valid, with warnings: ${warnings.map((w) => w.message).join('; ')}` : 'Valid: the master accepts this pipeline', 'good');
      return true;
    } catch (err) {
      say(`The master refused it: ${errorText(err)}`, 'error');
      return false;
    }
  };

  const deploy = async (): Promise<void> => {
    setBusy(true);
    try {
      if (!(await runValidate())) return;
      const r = await apiPost<{ runId?: string; schedule?: unknown; nextAt?: number | string | null }>('/api/pipelines/deploy', { yaml: toYaml(model) });
      if (r.runId) {
        navigate(`/runs/${encodeURIComponent(r.runId)}`);
        return;
      }
      say(`Schedule registered${r.nextAt ? `; next run at ${new Date(r.nextAt).toISOString()}` : ''}`, 'good');
    } catch (err) {
      say(`Deploy failed: ${errorText(err)}`, 'error');
    } finally {
      setBusy(false);
    }
  };

  // `?run=<runId>`: a past run opened on the canvas, to edit and deploy again.
  const [runParam, setRunParam] = useSearchParam('run');
  useEffect(() => {
    if (!runParam) return;
    apiGet<RunView>(apiPath('runs', runParam))
      .then((view) => {
        const next = layoutModel(fromPipeline(pipelineOfRun(view.run, view.jobs.map((j) => j.spec))));
        apply(next);
        setSelected(new Set());
        say(`Opened run ${runParam} (${next.nodes.length} job${next.nodes.length === 1 ? '' : 's'}); deploy submits it as a new run`, 'good');
        window.setTimeout(() => void instance.current?.fitView({ padding: 0.2, duration: 200, maxZoom: 1 }), 50);
      })
      .catch((err: unknown) => say(`Cannot open run ${runParam}: ${errorText(err)}`, 'error'))
      .finally(() => setRunParam(null));
    // Opened once per address; the canvas is the user's afterwards.
  }, [runParam]);

  const importYaml = async (yaml: string): Promise<void> => {
    try {
      const r = await apiPost<{ pipeline: ParsedPipeline }>('/api/pipelines/parse', { yaml });
      const next = layoutModel(fromPipeline(r.pipeline));
      apply(next);
      setSelected(new Set());
      setImportOpen(false);
      say(`Imported ${next.nodes.length} job${next.nodes.length === 1 ? '' : 's'}`, 'good');
      window.setTimeout(() => void instance.current?.fitView({ padding: 0.2, duration: 200, maxZoom: 1 }), 50);
    } catch (err) {
      say(`Import failed: ${errorText(err)}`, 'error');
    }
  };

  // ---- drafts UI ----
  const [nameInput, setNameInput] = useState('');
  const saveAs = async (): Promise<void> => {
    const name = nameInput.trim() || draftName;
    if (!DRAFT_NAME.test(name)) {
      say('A draft name holds letters, digits and _ - . (at most 100)', 'error');
      return;
    }
    try {
      await saveDraft(name, model);
      setDraftName(name);
      setSavedModel(model);
      say(`Saved draft ${name}`, 'good');
      refreshDrafts();
    } catch (err) {
      say(`Save failed: ${errorText(err)}`, 'error');
    }
  };
  const open = async (name: string): Promise<void> => {
    try {
      const m = await loadDraft(name);
      setHistory(historyOf(m));
      setSavedModel(m);
      setDraftName(name);
      setNameInput(name);
      setSelected(new Set());
      say(`Loaded draft ${name}`, 'good');
      window.setTimeout(() => void instance.current?.fitView({ padding: 0.2, duration: 200, maxZoom: 1 }), 50);
    } catch (err) {
      say(`Load failed: ${errorText(err)}`, 'error');
    }
  };
  const rename = async (): Promise<void> => {
    const to = nameInput.trim();
    if (!draftName || !DRAFT_NAME.test(to) || to === draftName) {
      say('Load a draft, then type its new name', 'error');
      return;
    }
    try {
      await renameDraft(draftName, to);
      setDraftName(to);
      say(`Renamed to ${to}`, 'good');
      refreshDrafts();
    } catch (err) {
      say(`Rename failed: ${errorText(err)}`, 'error');
    }
  };
  const remove = async (name: string): Promise<void> => {
    if (!window.confirm(`Delete the draft ${name}?`)) return;
    try {
      await deleteDraft(name);
      if (name === draftName) {
        setDraftName('');
        setSavedModel(null);
      }
      say(`Deleted draft ${name}`, 'good');
      refreshDrafts();
    } catch (err) {
      say(`Delete failed: ${errorText(err)}`, 'error');
    }
  };

  return (
    <div className="page constructor-page">
      <PageHeader
        title={
          <>
            Constructor{' '}
            <span className="c-draft-title">
              {draftName ? draftName : 'unsaved'}
              {dirty && (
                <span className="c-dirty" title="Changes not saved" aria-label="unsaved changes">
                  {' '}
                  ●
                </span>
              )}
            </span>
          </>
        }
        subtitle="Draw a pipeline: jobs, dependencies, then validate and deploy it."
      />

      <div className="c-toolbar" role="toolbar" aria-label="Constructor">
        <button type="button" className="btn btn-small" onClick={() => add('run')}>
          + Task
        </button>
        <button type="button" className="btn btn-small" onClick={() => add('service')}>
          + Service
        </button>
        <button type="button" className="btn btn-small" onClick={() => add('approval')}>
          + Approval
        </button>
        <span className="c-sep" />
        <button type="button" className="btn btn-small" onClick={doUndo} disabled={history.past.length === 0} title="Ctrl+Z">
          Undo
        </button>
        <button type="button" className="btn btn-small" onClick={doRedo} disabled={history.future.length === 0} title="Ctrl+Shift+Z">
          Redo
        </button>
        <button type="button" className="btn btn-small" onClick={duplicate} disabled={selected.size === 0} title="Ctrl+D">
          Duplicate
        </button>
        <button type="button" className="btn btn-small" onClick={removeSelection} disabled={selected.size === 0 && selectedEdges.size === 0} title="Delete">
          Delete
        </button>
        <button type="button" className="btn btn-small" onClick={autoLayout} disabled={model.nodes.length === 0}>
          Auto-layout
        </button>
        <button type="button" className="btn btn-small" onClick={clearCanvas} disabled={model.nodes.length === 0}>
          Clear
        </button>
        <span className="c-sep" />
        <button type="button" className="btn btn-small" onClick={() => setImportOpen(true)}>
          Import YAML
        </button>
        <button type="button" className="btn btn-small" onClick={() => void runValidate()}>
          Validate
        </button>
        <button type="button" className="btn btn-small btn-primary" onClick={() => void deploy()} disabled={busy}>
          {model.schedule.trim() ? 'Deploy schedule' : 'Deploy'}
        </button>
        <button type="button" className="btn btn-small btn-ghost" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts" title="Shortcuts (?)">
          ?
        </button>
      </div>

      <div className="c-drafts">
        <label htmlFor="c-draft-name">Draft</label>
        <input id="c-draft-name" type="text" value={nameInput} onChange={(e) => setNameInput(e.target.value)} placeholder="name" />
        <button type="button" className="btn btn-small" onClick={() => void saveAs()}>
          Save
        </button>
        <button type="button" className="btn btn-small" onClick={() => void rename()} disabled={!draftName}>
          Rename
        </button>
        <span className="c-draft-list" aria-label="Drafts">
          {drafts.map((d) => (
            <span key={d.name} className="c-draft-item">
              <button type="button" className="btn btn-small btn-ghost" onClick={() => void open(d.name)} title={`Load ${d.name}`}>
                {d.name}
              </button>
              <button type="button" className="btn btn-small btn-ghost" onClick={() => void remove(d.name)} aria-label={`Delete draft ${d.name}`}>
                ×
              </button>
            </span>
          ))}
        </span>
        <span className="c-hint c-counts" data-testid="c-counts">
          {model.nodes.length} node{model.nodes.length === 1 ? '' : 's'} · {model.edges.length} edge{model.edges.length === 1 ? '' : 's'}
        </span>
      </div>

      <p className={`c-status c-status-${status?.tone ?? 'info'}`} role="status" aria-live="polite" data-testid="c-status">
        {status?.text ?? 'Add nodes from the toolbar, connect them by dragging from a right handle to a left handle.'}
      </p>

      <div className="c-main">
        <div className="c-canvas">
          <ReactFlow<FlowNode, Edge>
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onInit={(i) => {
              instance.current = i;
            }}
            onNodeDragStart={startDrag}
            onNodeDragStop={endDrag}
            onSelectionDragStart={startDrag}
            onSelectionDragStop={endDrag}
            onDelete={({ nodes: ns, edges: es }) => {
              let next = removeNodes(
                model,
                ns.map((n) => n.id),
              );
              next = removeEdges(
                next,
                es.map((e) => ({ source: e.source, target: e.target })),
              );
              apply(next);
              setSelected(new Set());
              setSelectedEdges(new Set());
            }}
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

        <aside className="c-side" aria-label="Editor">
          {selectedNode ? (
            <NodeEditor node={selectedNode} issues={issues.filter((i) => i.key === selectedNode.key)} pools={pools} scriptsVersion={scriptsVersion} onUploaded={() => setScriptsVersion((v) => v + 1)} onEdit={editNode} />
          ) : (
            <PipelineEditor model={model} issues={issues} onEdit={editPipeline} selectedCount={selected.size} />
          )}
        </aside>
      </div>

      <div className="c-bottom">
        <section className="c-code" aria-label="Generated code">
          <div className="c-tabs" role="tablist">
            {(
              [
                ['yaml', 'YAML'],
                ['python', 'Python SDK'],
                ['typescript', 'TypeScript SDK'],
              ] as const
            ).map(([id, label]) => (
              <button key={id} type="button" role="tab" aria-selected={tab === id} className={`c-tab${tab === id ? ' active' : ''}`} onClick={() => setTab(id)}>
                {label}
              </button>
            ))}
            <span className="c-sep" />
            <button type="button" className="btn btn-small" onClick={copy}>
              Copy
            </button>
          </div>
          <pre className="c-code-text" data-testid="c-code">
            {code}
          </pre>
        </section>
        <ScriptLibrary version={scriptsVersion} onUploaded={() => setScriptsVersion((v) => v + 1)} />
      </div>

      {help && (
        <div className="c-overlay" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" onClick={() => setHelp(false)}>
          <div className="c-dialog" onClick={(e) => e.stopPropagation()}>
            <h2>Shortcuts</h2>
            <table className="c-help">
              <tbody>
                {SHORTCUTS.map(([k, what]) => (
                  <tr key={k}>
                    <th scope="row">{k}</th>
                    <td>{what}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <button type="button" className="btn" onClick={() => setHelp(false)}>
              Close
            </button>
          </div>
        </div>
      )}
      {importOpen && <ImportDialog onImport={(y) => void importYaml(y)} onClose={() => setImportOpen(false)} />}
    </div>
  );
}

function ImportDialog({ onImport, onClose }: { onImport: (yaml: string) => void; onClose: () => void }) {
  const [text, setText] = useState('');
  return (
    <div className="c-overlay" role="dialog" aria-modal="true" aria-label="Import YAML">
      <div className="c-dialog">
        <h2>Import YAML</h2>
        <label htmlFor="c-import">Paste a pipeline (it replaces the canvas; Undo brings it back)</label>
        <textarea id="c-import" className="c-import" value={text} onChange={(e) => setText(e.target.value)} rows={14} spellCheck={false} />
        <div className="c-dialog-actions">
          <button type="button" className="btn btn-primary" onClick={() => onImport(text)} disabled={text.trim() === ''}>
            Import
          </button>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}

function FieldError({ issues, field }: { issues: Issue[]; field: Issue['field'] }) {
  const mine = issues.filter((i) => i.field === field);
  if (mine.length === 0) return null;
  return (
    <>
      {mine.map((i) => (
        <span key={i.message} className={`c-field-${i.level}`} role={i.level === 'error' ? 'alert' : undefined}>
          {i.message}
        </span>
      ))}
    </>
  );
}

function PipelineEditor({ model, issues, onEdit, selectedCount }: { model: Model; issues: Issue[]; onEdit: (f: 'name' | 'tags' | 'schedule', v: string) => void; selectedCount: number }) {
  const general = issues.filter((i) => !i.key && !i.field);
  return (
    <div className="c-editor">
      <h2>Pipeline</h2>
      {selectedCount > 1 && <p className="c-hint">{selectedCount} nodes selected (select one to edit it).</p>}
      <div className="field">
        <label htmlFor="c-p-name">Name</label>
        <input id="c-p-name" type="text" value={model.name} onChange={(e) => onEdit('name', e.target.value)} />
        <FieldError issues={issues} field="name" />
      </div>
      <div className="field">
        <label htmlFor="c-p-tags">Tags</label>
        <input id="c-p-tags" type="text" value={model.tags} onChange={(e) => onEdit('tags', e.target.value)} placeholder="nightly, team=data" />
        <FieldError issues={issues} field="tags" />
      </div>
      <div className="field">
        <label htmlFor="c-p-schedule">Schedule (cron, UTC)</label>
        <input id="c-p-schedule" type="text" value={model.schedule} onChange={(e) => onEdit('schedule', e.target.value)} placeholder="0 2 * * *  (empty: run once)" />
        <FieldError issues={issues} field="schedule" />
      </div>
      <h3>Problems</h3>
      {issues.length === 0 ? (
        <p className="c-hint">None.</p>
      ) : (
        <ul className="c-issues">
          {[...general, ...issues.filter((i) => i.key || i.field)].slice(0, 30).map((i, n) => (
            <li key={n} className={`c-field-${i.level}`}>
              {i.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function NodeEditor({
  node,
  issues,
  pools,
  scriptsVersion,
  onUploaded,
  onEdit,
}: {
  node: CNode;
  issues: Issue[];
  pools: string[];
  scriptsVersion: number;
  onUploaded: () => void;
  onEdit: (key: string, field: string, patch: Parameters<typeof updateNode>[2]) => void;
}) {
  const scripts = useApi<{ scripts: { name: string }[] }>('/api/scripts', [scriptsVersion]);
  const [uploadMessage, setUploadMessage] = useState('');
  const f = node.fields;
  const set = (field: keyof NodeFields, value: string): void => onEdit(node.key, field, { fields: { [field]: value } });
  // An upload from the editor becomes this node's script at once.
  const upload = async (file: File | undefined): Promise<void> => {
    if (!file) return;
    try {
      await uploadScript(file.name, file);
      set('file', file.name);
      setUploadMessage(`Uploaded ${file.name}`);
      onUploaded();
    } catch (err) {
      setUploadMessage(`Upload failed: ${errorText(err)}`);
    }
  };
  const text = (field: keyof NodeFields, label: string, placeholder = '', list?: string) => (
    <div className="field">
      <label htmlFor={`c-f-${field}`}>{label}</label>
      <input id={`c-f-${field}`} type="text" value={f[field]} placeholder={placeholder} list={list} onChange={(e) => set(field, e.target.value)} aria-invalid={issues.some((i) => i.field === field && i.level === 'error')} />
      <FieldError issues={issues} field={field} />
    </div>
  );
  return (
    <div className="c-editor">
      <h2>
        {KIND_LABEL[node.kind]} <span className="c-hint">{node.id}</span>
      </h2>
      <div className="field">
        <label htmlFor="c-f-id">Id</label>
        <input id="c-f-id" type="text" value={node.id} onChange={(e) => onEdit(node.key, 'id', { id: e.target.value })} aria-invalid={issues.some((i) => i.field === 'id')} />
        <FieldError issues={issues} field="id" />
      </div>
      <div className="field">
        <label htmlFor="c-f-kind">Type</label>
        <select id="c-f-kind" value={node.kind} onChange={(e) => onEdit(node.key, 'kind', { kind: e.target.value as NodeKind })}>
          <option value="run">run (task)</option>
          <option value="service">service</option>
          <option value="approval">approval</option>
        </select>
      </div>
      {node.kind !== 'approval' && (
        <>
          {text('file', 'Script (from the library)', 'extract.py', 'c-scripts')}
          <label className="btn btn-small c-upload">
            Upload a script for this node…
            <input type="file" className="visually-hidden" data-testid="c-node-upload" onChange={(e) => void upload(e.target.files?.[0]).finally(() => (e.target.value = ''))} />
          </label>
          {uploadMessage && (
            <span className="c-hint" role="status">
              {uploadMessage}
            </span>
          )}
          {scripts.data && f.file.trim() !== '' && !scripts.data.scripts.some((x) => x.name === f.file.trim()) && (
            <span className="c-field-warning">{f.file.trim()} is not in the library: upload it before deploying</span>
          )}
          <datalist id="c-scripts">
            {(scripts.data?.scripts ?? []).map((s) => (
              <option key={s.name} value={s.name} />
            ))}
          </datalist>
          {text('args', 'Arguments', "--day 2026-11-24 --label 'two words'")}
          {text('requirement', 'Requirement (capability)', DEFAULT_CAPABILITY, 'c-pools')}
          <datalist id="c-pools">
            {pools.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
          {text('priority', 'Priority', String(DEFAULT_PRIORITY))}
          {text('delay', 'Delay (s)', '0')}
          {text('retries', 'Retries', String(DEFAULT_RETRIES))}
          {node.kind === 'run' && text('timeout', 'Timeout (s)', 'none')}
          {node.kind === 'service' && text('port', 'Port', 'assigned')}
          <div className="field">
            <label htmlFor="c-f-affinity">Affinity</label>
            <select id="c-f-affinity" value={f.affinity} onChange={(e) => set('affinity', e.target.value)}>
              <option value="">none</option>
              <option value="true">prefer the first parent’s worker</option>
              <option value="required">required</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="c-f-env">Environment (NAME=value a line)</label>
            <textarea id="c-f-env" rows={3} value={f.env} onChange={(e) => set('env', e.target.value)} spellCheck={false} />
            <FieldError issues={issues} field="env" />
          </div>
          {node.kind === 'run' && text('hitlMessage', 'Approval after it (hitl_message)', '')}
        </>
      )}
      {node.kind === 'approval' && (
        <>
          {text('message', 'Message', 'Deploy to production?')}
          {text('maxWaitSeconds', 'Max wait (s)', String(DEFAULT_GATE_WAIT_MS / 1000))}
        </>
      )}
    </div>
  );
}
