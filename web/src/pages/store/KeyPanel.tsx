/** The open key: its value (formatted when it is JSON), its facts, edit and delete. */
import { useEffect, useState } from 'react';
import { apiDelete, type KvKeyInfo, useApi } from '../../api.ts';
import { Ago, Empty, ErrorBox, Loading, errorText } from '../../components/ui.tsx';
import { formatBytes } from '../../format.ts';
import { ConfirmDialog } from '../parts/confirm.tsx';
import KeyEditor from './KeyEditor.tsx';
import { kvUrl, type KvValue, prettyJson } from './keys.ts';

export default function KeyPanel({
  keyName,
  info,
  listReady,
  onChanged,
  onDeleted,
  onClose,
}: {
  keyName: string;
  info: KvKeyInfo | undefined;
  /** Whether the key list has answered: until then the key's type is unknown. */
  listReady: boolean;
  onChanged: (message: string) => void;
  onDeleted: (message: string) => void;
  onClose: () => void;
}) {
  // A set's value cannot be read as a string: once the listing said "set", remember it (a new
  // prefix may list other keys), and wait for the listing before asking, to ask only for strings.
  const [knownSet, setKnownSet] = useState(false);
  useEffect(() => {
    if (info?.type === 'set') setKnownSet(true);
  }, [info?.type]);
  const isSet = knownSet || info?.type === 'set';
  const entry = useApi<KvValue>(isSet || !listReady ? null : kvUrl(keyName));
  const [editing, setEditing] = useState(false);
  const [formatted, setFormatted] = useState(true);
  const [deleting, setDeleting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  const remove = async (): Promise<void> => {
    setBusy(true);
    setDeleteError(null);
    try {
      const r = await apiDelete<{ deleted: number }>(kvUrl(keyName));
      setDeleting(false);
      onDeleted(r.deleted > 0 ? `Deleted ${keyName}.` : `${keyName} was already gone.`);
    } catch (err) {
      setDeleteError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const value = entry.data?.value ?? null;
  const pretty = value !== null ? prettyJson(value) : null;
  const wrongType = entry.error?.status === 409 || entry.error?.code === 'WRONG_TYPE';
  const missing = entry.error?.status === 404;

  return (
    <div className="pg-keypanel">
      <div className="pg-keypanel-head">
        <h2 className="pg-keyname">
          <code>{keyName}</code>
        </h2>
        <button type="button" className="btn btn-small btn-ghost" onClick={onClose} aria-label="Close the key">
          Close
        </button>
      </div>
      {isSet || wrongType ? (
        <div className="pg-note">
          <p>
            This key is a <strong>set</strong>
            {info ? ` (version ${info.version})` : ''}. The dashboard shows and edits string values only; read its members with the SDK (<code>client.smembers('{keyName}')</code>).
          </p>
          <div className="pg-actions">
            <button type="button" className="btn btn-bad-outline" onClick={() => setDeleting(true)}>
              Delete…
            </button>
          </div>
        </div>
      ) : missing ? (
        <Empty>This key does not exist (any more): it was deleted or it expired.</Empty>
      ) : entry.error ? (
        <ErrorBox error={entry.error} onRetry={() => void entry.reload()} />
      ) : !entry.data ? (
        <Loading />
      ) : editing ? (
        <KeyEditor
          initialKey={keyName}
          fixedKey
          initial={entry.data}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            void entry.reload();
            onChanged(`Saved ${keyName}.`);
          }}
        />
      ) : (
        <>
          <dl className="pg-facts">
            <div>
              <dt>Version</dt>
              <dd>{entry.data.version}</dd>
            </div>
            <div>
              <dt>Size</dt>
              <dd>{formatBytes(new TextEncoder().encode(value ?? '').length)}</dd>
            </div>
            <div>
              <dt>Expires</dt>
              <dd>{entry.data.expiresAt !== null ? <Ago at={entry.data.expiresAt} /> : 'never'}</dd>
            </div>
          </dl>
          <div className="pg-value-head">
            <h3 className="small">Value</h3>
            {pretty !== null ? (
              <label className="check small">
                <input type="checkbox" checked={formatted} onChange={(e) => setFormatted(e.target.checked)} />
                Format JSON
              </label>
            ) : null}
          </div>
          <pre className="pg-value" tabIndex={0} aria-label={`Value of ${keyName}`}>
            {value === '' ? <span className="muted">(empty string)</span> : formatted && pretty !== null ? pretty : value}
          </pre>
          <div className="pg-actions">
            <button type="button" className="btn btn-primary" onClick={() => setEditing(true)}>
              Edit
            </button>
            <button type="button" className="btn" onClick={() => void entry.reload()}>
              Reload
            </button>
            <button
              type="button"
              className="btn btn-bad-outline"
              onClick={() => {
                setDeleteError(null);
                setDeleting(true);
              }}
            >
              Delete…
            </button>
          </div>
        </>
      )}
      {deleting ? (
        <ConfirmDialog title={`Delete ${keyName}?`} confirmLabel="Delete key" danger busy={busy} error={deleteError} onConfirm={() => void remove()} onCancel={() => setDeleting(false)}>
          <p>
            The key <code>{keyName}</code> and its value are removed from the store. Jobs that read it will find nothing.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

