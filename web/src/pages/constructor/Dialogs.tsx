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

/** `error`: why the master refused the pasted text, shown under it until the text changes. */
export function ImportDialog({ error, onImport, onClose }: { error: string; onImport: (yaml: string) => void; onClose: () => void }) {
  const [text, setText] = useState('');
  const [shownFor, setShownFor] = useState('');
  return (
    <div className="c-overlay" role="dialog" aria-modal="true" aria-label="Import YAML">
      <div className="c-dialog">
        <h2>Import YAML</h2>
        <label htmlFor="c-import">Paste a pipeline (it replaces the canvas; Undo brings it back)</label>
        <textarea id="c-import" className="c-import" value={text} onChange={(e) => setText(e.target.value)} rows={14} spellCheck={false} aria-invalid={error !== '' && shownFor === text} aria-describedby="c-import-error" />
        <p id="c-import-error" className="c-field-error c-import-error" role="alert">
          {error !== '' && shownFor === text ? `Not imported: ${error}` : ''}
        </p>
        <div className="c-dialog-actions">
          <button type="button" className="btn btn-primary" onClick={() => {
              setShownFor(text);
              onImport(text);
            }} disabled={text.trim() === ''}>
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
