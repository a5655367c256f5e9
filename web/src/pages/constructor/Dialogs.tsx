/** The constructor's dialogs: the keyboard shortcuts, and importing a pipeline's YAML. */
import { useState } from 'react';
import { SHORTCUTS } from './useShortcuts.ts';

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  return (
    <div className="c-overlay" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" onClick={onClose}>
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
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}

export function ImportDialog({ onImport, onClose }: { onImport: (yaml: string) => void; onClose: () => void }) {
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
