/**
 * Every script the cluster knows (the library, the uploads, past runs' scripts), newest first, each
 * with its source to view and a "Use" that puts it in a node; an upload (input type=file) to the library.
 */
import { useState } from 'react';
import { errorText } from '../../components/ui.tsx';
import { formatBytes, formatTime } from '../../format.ts';
import { type KnownScript, scriptSource, uploadScript } from './drafts.ts';
import type { KnownScripts } from './useKnownScripts.ts';

const SOURCE_LABEL: Record<KnownScript['source'], string> = { library: 'library', upload: 'upload', run: 'run' };

/** When the script was written, and for a run's script which run carried it last. */
function origin(s: KnownScript): string {
  const when = formatTime(s.at);
  return s.source === 'run' ? `run ${s.runName ?? ''} (${s.runId ?? ''}) · ${when}` : `written ${when}`;
}

export default function ScriptLibrary({ known, onUploaded, onUse }: { known: KnownScripts; onUploaded: () => void; onUse: (name: string) => void }) {
  const [viewing, setViewing] = useState<{ name: string; text: string } | null>(null);
  const [message, setMessage] = useState('');

  const upload = async (files: FileList | null): Promise<void> => {
    if (!files || files.length === 0) return;
    try {
      for (const file of Array.from(files)) await uploadScript(file.name, file);
      setMessage(`Uploaded ${Array.from(files).map((f) => f.name).join(', ')}`);
      onUploaded();
    } catch (err) {
      setMessage(`Upload failed: ${errorText(err)}`);
    }
  };

  const view = async (s: KnownScript): Promise<void> => {
    try {
      setViewing({ name: s.name, text: await scriptSource(s.name, s.sha256) });
    } catch (err) {
      setMessage(`Cannot read ${s.name}: ${errorText(err)}`);
    }
  };

  /** An older version of a name is put in the library first, so that the node deploys it. */
  const use = async (s: KnownScript): Promise<void> => {
    if (!s.current) {
      if (!window.confirm(`Put this version of ${s.name} in the library? Nodes naming ${s.name} then deploy it.`)) return;
      try {
        await uploadScript(s.name, await scriptSource(s.name, s.sha256));
        onUploaded();
      } catch (err) {
        setMessage(`Cannot use ${s.name}: ${errorText(err)}`);
        return;
      }
    }
    onUse(s.name);
  };

  return (
    <section className="c-library" aria-label="Script library">
      <div className="c-library-head">
        <h2>Scripts</h2>
        <label className="btn btn-small c-upload">
          Upload…
          <input type="file" multiple className="visually-hidden" data-testid="c-upload" onChange={(e) => void upload(e.target.files).finally(() => (e.target.value = ''))} />
        </label>
      </div>
      {message && <p className="c-hint" role="status">{message}</p>}
      {known.error && <p className="c-field-error">{errorText(known.error)}</p>}
      {known.list.length === 0 && !known.loading && <p className="c-hint">No scripts yet: upload one, or run a pipeline (<code>titan run script.py</code>, <code>titan submit pipeline.yaml</code>).</p>}
      <ul className="c-script-list">
        {known.list.map((s) => (
          <li key={`${s.name} ${s.sha256}`} data-testid={`script-${s.name}`} className={s.current ? undefined : 'c-script-shadowed'}>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => void view(s)} title="View the source" disabled={!s.available}>
              {s.name}
            </button>
            <span className={`c-script-source c-source-${s.source}`}>{SOURCE_LABEL[s.source]}</span>
            <span className="c-hint c-script-origin" title={`sha256 ${s.sha256}`}>
              {s.size === null ? 'content gone from the blob store' : formatBytes(s.size)} · {origin(s)}
              {s.available && !s.current && ' · an older version'}
            </span>
            {s.available && (
              <button type="button" className="btn btn-small" title={s.current ? `Use ${s.name} in the selected node (or a new one)` : `Put this version of ${s.name} in the library and use it`} onClick={() => void use(s)}>
                {s.current ? 'Use' : 'Use this version'}
              </button>
            )}
          </li>
        ))}
      </ul>
      {known.truncated && <p className="c-hint">Only the newest {known.list.length} scripts are listed.</p>}
      {viewing && (
        <div className="c-script-view">
          <div className="c-library-head">
            <h3>{viewing.name}</h3>
            <button type="button" className="btn btn-small" onClick={() => setViewing(null)}>
              Close
            </button>
          </div>
          <pre className="c-code-text">{viewing.text}</pre>
        </div>
      )}
    </section>
  );
}
