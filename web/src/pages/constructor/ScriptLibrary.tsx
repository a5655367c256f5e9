/** The script library: the scripts jobs can run, an upload (input type=file), and a script's source. */
import { useState } from 'react';
import { useApi } from '../../api.ts';
import { errorText } from '../../components/ui.tsx';
import { formatBytes } from '../../format.ts';
import { type ScriptInfo, scriptSource, uploadScript } from './drafts.ts';

export default function ScriptLibrary({ version, onUploaded }: { version: number; onUploaded: () => void }) {
  const list = useApi<{ scripts: ScriptInfo[] }>('/api/scripts', [version]);
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

  const view = async (name: string): Promise<void> => {
    try {
      setViewing({ name, text: await scriptSource(name) });
    } catch (err) {
      setMessage(`Cannot read ${name}: ${errorText(err)}`);
    }
  };

  const scripts = list.data?.scripts ?? [];
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
      {list.error && <p className="c-field-error">{errorText(list.error)}</p>}
      {scripts.length === 0 && !list.loading && <p className="c-hint">No scripts yet: upload one.</p>}
      <ul className="c-script-list">
        {scripts.map((s) => (
          <li key={s.name}>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => void view(s.name)} title="View the source">
              {s.name}
            </button>
            <span className="c-hint">{formatBytes(s.size)}</span>
          </li>
        ))}
      </ul>
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
