/**
 * The pipeline constructor: a canvas of jobs and dependencies, a node editor, the generated YAML /
 * Python / TypeScript, import, drafts, validate and deploy, and the script library. This page
 * composes them; the state and its edits live in useConstructorModel.
 */
import '@xyflow/react/dist/style.css';
import './constructor.css';
import { useEffect, useMemo, useRef, useState } from 'react';
import { apiGet, apiPath, apiPost, type RunView, type Stats, useApi } from '../../api.ts';
import { errorText, PageHeader } from '../../components/ui.tsx';
import { Icon, STATE_ICONS } from '../../icons.ts';
import { navigate, useSearchParam } from '../../router.tsx';
import { NODE_HEIGHT, NODE_WIDTH } from '../../graph.ts';
import { useTheme } from '../../theme.ts';
import Canvas, { type FlowInstance } from './Canvas.tsx';
import CodePreview from './CodePreview.tsx';
import { ImportDialog, ShortcutsDialog } from './Dialogs.tsx';
import DraftsBar from './DraftsBar.tsx';
import { layoutModel, placeNode } from './layout.ts';
import type { NodeFields, NodeKind } from './model.ts';
import NodeEditor from './NodeEditor.tsx';
import { fromPipeline, type ParsedPipeline, pipelineOfRun } from './pipeline.ts';
import PipelineEditor from './PipelineEditor.tsx';
import ScriptLibrary from './ScriptLibrary.tsx';
import Toolbar from './Toolbar.tsx';
import { useConstructorModel } from './useConstructorModel.ts';
import { useDrafts } from './useDrafts.ts';
import { useKnownScripts } from './useKnownScripts.ts';
import { useShortcuts } from './useShortcuts.ts';
import { validate } from './validate.ts';
import { toYaml } from './yaml.ts';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export default function Constructor() {
  const [theme] = useTheme();
  const c = useConstructorModel();
  const { model, say } = c;
  const [help, setHelp] = useState(false);
  const [importOpen, setImportOpen] = useState(false);
  const [importError, setImportError] = useState('');
  const [busy, setBusy] = useState(false);
  const [scriptsVersion, setScriptsVersion] = useState(0);
  const instance = useRef<FlowInstance | null>(null);

  const stats = useApi<Stats>('/api/stats');
  const pools = useMemo(() => Object.keys(stats.data?.pools ?? {}).sort(), [stats.data]);
  const known = useKnownScripts(scriptsVersion);
  const issues = useMemo(() => validate(model, pools, known.deployable), [model, pools, known.deployable]);

  const fitSoon = (): void => {
    window.setTimeout(() => void instance.current?.fitView({ padding: 0.2, duration: 200, maxZoom: 1 }), 50);
  };

  const drafts = useDrafts(model, say, (m) => {
    c.reset(m);
    fitSoon();
  });

  useShortcuts({
    undo: c.undo,
    redo: c.redo,
    duplicate: c.duplicate,
    selectAll: c.selectAll,
    toggleHelp: () => setHelp((h) => !h),
    escape: (typing) => {
      setHelp(false);
      setImportOpen(false);
      if (!typing) c.clearSelection();
    },
  });

  /** A new node beside the selected one, or in the middle of the visible canvas; where no other node is, and scrolled into view. */
  const add = (kind: NodeKind, fields: Partial<NodeFields> = {}): void => {
    const flow = instance.current;
    const box = document.querySelector('.c-canvas')?.getBoundingClientRect();
    const centre = flow && box ? flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 }) : null;
    const at = placeNode(model, c.selectedNode ?? null, centre);
    c.add(kind, at, fields);
    if (!flow || !box) return;
    const topLeft = flow.flowToScreenPosition(at);
    const bottomRight = flow.flowToScreenPosition({ x: at.x + NODE_WIDTH, y: at.y + NODE_HEIGHT });
    const inView = topLeft.x >= box.left && topLeft.y >= box.top && bottomRight.x <= box.right && bottomRight.y <= box.bottom;
    if (!inView) void flow.setCenter(at.x + NODE_WIDTH / 2, at.y + NODE_HEIGHT / 2, { zoom: flow.getZoom(), duration: 200 });
  };

  /** A known script, put in the selected node, or in a new task beside it. */
  const putScript = (name: string): void => {
    const node = c.selectedNode;
    if (node && node.kind !== 'approval') {
      c.editNode(node.key, 'file', { fields: { file: name } });
      say(`${node.id} now runs ${name}`, 'good');
    } else add('run', { file: name });
  };

  const autoLayout = (): void => {
    c.apply(layoutModel(model));
    fitSoon();
  };

  const onConnect = (source: string, target: string): void => {
    const r = c.connect(source, target);
    if (r.error) say(`Refused: ${r.error}`, 'error');
    else say(`${r.target} now depends on ${r.source}`, 'good');
  };

  // ---- validate, deploy, import ----
  const errors = issues.filter((i) => i.level === 'error');
  const runValidate = async (): Promise<boolean> => {
    if (model.nodes.length === 0) {
      say('Nothing to check yet: add a job with + Task first');
      return false;
    }
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
        c.replace(next);
        say(`Opened run ${runParam} (${plural(next.nodes.length, 'job')}); deploy submits it as a new run`, 'good');
        fitSoon();
      })
      .catch((err: unknown) => say(`Cannot open run ${runParam}: ${errorText(err)}`, 'error'))
      .finally(() => setRunParam(null));
    // Opened once per address; the canvas is the user's afterwards.
  }, [runParam]);

  /** A refused import stays in its dialog, its reason beside the text. */
  const importYaml = async (yaml: string): Promise<void> => {
    setImportError('');
    try {
      const r = await apiPost<{ pipeline: ParsedPipeline }>('/api/pipelines/parse', { yaml });
      const next = layoutModel(fromPipeline(r.pipeline));
      c.replace(next);
      setImportOpen(false);
      say(`Imported ${plural(next.nodes.length, 'job')}`, 'good');
      fitSoon();
    } catch (err) {
      setImportError(errorText(err));
    }
  };

  const uploaded = (): void => setScriptsVersion((v) => v + 1);

  return (
    <div className="page constructor-page">
      <PageHeader
        title={
          <>
            Constructor{' '}
            <span className="c-draft-title">
              {drafts.draftName ? drafts.draftName : 'unsaved'}
              {drafts.dirty && (
                <span className="c-dirty" title="Changes not saved" aria-label="unsaved changes">
                  {' '}
                  <Icon icon={STATE_ICONS.unsaved} />
                </span>
              )}
            </span>
          </>
        }
        subtitle="Draw a pipeline: jobs, dependencies, then validate and deploy it."
      />

      <Toolbar
        canUndo={c.history.past.length > 0}
        canRedo={c.history.future.length > 0}
        hasSelection={c.selected.size > 0}
        hasEdgeSelection={c.selectedEdges.size > 0}
        empty={model.nodes.length === 0}
        scheduled={model.schedule.trim() !== ''}
        busy={busy}
        onAdd={(kind) => add(kind)}
        onUndo={c.undo}
        onRedo={c.redo}
        onDuplicate={c.duplicate}
        onDelete={c.removeSelection}
        onLayout={autoLayout}
        onClear={c.clearCanvas}
        onImport={() => {
          setImportError('');
          setImportOpen(true);
        }}
        onValidate={() => void runValidate()}
        onDeploy={() => void deploy()}
        onHelp={() => setHelp(true)}
      />

      <DraftsBar drafts={drafts} model={model} />

      <p className={`c-status c-status-${c.status?.tone ?? 'info'}`} role="status" aria-live="polite" data-testid="c-status">
        {c.status?.text ?? 'Add nodes from the toolbar, connect them by dragging from a right handle to a left handle.'}
      </p>

      <div className="c-main">
        <Canvas
          model={model}
          issues={issues}
          selected={c.selected}
          selectedEdges={c.selectedEdges}
          theme={theme}
          onInit={(i) => {
            instance.current = i;
          }}
          onMove={c.moveOnCanvas}
          onSelectNodes={c.selectNodes}
          onSelectEdges={c.selectEdges}
          onConnect={onConnect}
          onDelete={c.removeFromCanvas}
          onDragStart={c.startDrag}
          onDragStop={c.endDrag}
        />

        <aside className="c-side" aria-label="Editor">
          {c.selectedNode ? (
            <NodeEditor node={c.selectedNode} issues={issues.filter((i) => i.key === c.selectedNode?.key)} pools={pools} known={known} onUploaded={uploaded} onEdit={c.editNode} />
          ) : (
            <PipelineEditor model={model} issues={issues} onEdit={c.editPipeline} selectedCount={c.selected.size} />
          )}
        </aside>
      </div>

      <div className="c-bottom">
        <CodePreview model={model} say={say} />
        <ScriptLibrary known={known} onUploaded={uploaded} onUse={putScript} />
      </div>

      {help && <ShortcutsDialog onClose={() => setHelp(false)} />}
      {importOpen && (
        <ImportDialog
          error={importError}
          onImport={(y) => void importYaml(y)}
          onClose={() => {
            setImportOpen(false);
            setImportError('');
          }}
        />
      )}
    </div>
  );
}
