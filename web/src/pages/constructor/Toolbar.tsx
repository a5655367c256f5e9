/** The constructor's toolbar: add nodes, edit the selection, lay out, import, validate and deploy. */
import type { NodeKind } from './model.ts';

export interface ToolbarProps {
  canUndo: boolean;
  canRedo: boolean;
  hasSelection: boolean;
  hasEdgeSelection: boolean;
  empty: boolean;
  scheduled: boolean;
  busy: boolean;
  onAdd: (kind: NodeKind) => void;
  onUndo: () => void;
  onRedo: () => void;
  onDuplicate: () => void;
  onDelete: () => void;
  onLayout: () => void;
  onClear: () => void;
  onImport: () => void;
  onValidate: () => void;
  onDeploy: () => void;
  onHelp: () => void;
}

export default function Toolbar(p: ToolbarProps) {
  return (
    <div className="c-toolbar" role="toolbar" aria-label="Constructor">
      <button type="button" className="btn btn-small" onClick={() => p.onAdd('run')}>
        + Task
      </button>
      <button type="button" className="btn btn-small" onClick={() => p.onAdd('service')}>
        + Service
      </button>
      <button type="button" className="btn btn-small" onClick={() => p.onAdd('approval')}>
        + Approval
      </button>
      <span className="c-sep" />
      <button type="button" className="btn btn-small" onClick={p.onUndo} disabled={!p.canUndo} title="Ctrl+Z">
        Undo
      </button>
      <button type="button" className="btn btn-small" onClick={p.onRedo} disabled={!p.canRedo} title="Ctrl+Shift+Z">
        Redo
      </button>
      <button type="button" className="btn btn-small" onClick={p.onDuplicate} disabled={!p.hasSelection} title="Ctrl+D">
        Duplicate
      </button>
      <button type="button" className="btn btn-small" onClick={p.onDelete} disabled={!p.hasSelection && !p.hasEdgeSelection} title="Delete">
        Delete
      </button>
      <button type="button" className="btn btn-small" onClick={p.onLayout} disabled={p.empty}>
        Auto-layout
      </button>
      <button type="button" className="btn btn-small" onClick={p.onClear} disabled={p.empty}>
        Clear
      </button>
      <span className="c-sep" />
      <button type="button" className="btn btn-small" onClick={p.onImport}>
        Import YAML
      </button>
      <button type="button" className="btn btn-small" onClick={p.onValidate}>
        Validate
      </button>
      <button type="button" className="btn btn-small btn-primary" onClick={p.onDeploy} disabled={p.busy}>
        {p.scheduled ? 'Deploy schedule' : 'Deploy'}
      </button>
      <button type="button" className="btn btn-small btn-ghost" onClick={p.onHelp} aria-label="Keyboard shortcuts" title="Shortcuts (?)">
        ?
      </button>
    </div>
  );
}
