/** Creating or editing a key: its name, its value and an optional TTL; a save warns when the key changed since it was opened. */
import { type FormEvent, useId, useState } from 'react';
import { ApiError, apiGet, apiPut } from '../../api.ts';
import { FormError, errorText } from '../../components/ui.tsx';
import { formatBytes, formatDuration } from '../../format.ts';
import { keyProblem, kvUrl, type KvValue, MAX_KEY, MAX_TTL_S } from './keys.ts';

export default function KeyEditor({
  initialKey,
  fixedKey,
  initial,
  onCancel,
  onSaved,
}: {
  initialKey: string;
  fixedKey?: boolean;
  initial?: KvValue;
  onCancel: () => void;
  onSaved: (key: string) => void;
}) {
  const id = useId();
  const [key, setKey] = useState(initialKey);
  const [value, setValue] = useState(initial?.value ?? '');
  const remaining = initial?.expiresAt != null ? Math.max(1, Math.round((initial.expiresAt - Date.now()) / 1000)) : null;
  const [ttl, setTtl] = useState(remaining !== null ? String(remaining) : '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** Set when the key changed (or appeared) since it was opened: saving again overwrites it. */
  const [conflict, setConflict] = useState<string | null>(null);

  const keyErr = fixedKey ? null : keyProblem(key);
  const ttlNum = ttl.trim() === '' ? null : Number(ttl);
  const ttlErr = ttlNum !== null && (!Number.isInteger(ttlNum) || ttlNum < 1 || ttlNum > MAX_TTL_S) ? `a whole number of seconds from 1 to ${MAX_TTL_S} (366 days), or empty` : null;

  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (keyErr || ttlErr) return;
    setBusy(true);
    setError(null);
    try {
      if (conflict === null) {
        // Someone else may have written the key meanwhile: check before overwriting.
        const current = await apiGet<KvValue>(kvUrl(key)).catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 404) return null;
          throw err;
        });
        const expected = initial?.version ?? null;
        if (current !== null && current.version !== expected) {
          setConflict(
            expected === null
              ? `The key ${key} already exists (version ${current.version}). Save again to overwrite it.`
              : `The key changed since you opened it (version ${expected} → ${current.version}). Save again to overwrite that change.`,
          );
          return;
        }
      }
      await apiPut(kvUrl(key), ttlNum !== null ? { value, ttlMs: ttlNum * 1000 } : { value });
      onSaved(key);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setError(`${errorText(err)}. A set key cannot be overwritten with a string here; delete it first.`);
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="pg-editor" onSubmit={(e) => void save(e)} aria-label={fixedKey ? `Edit ${initialKey}` : 'New key'}>
      {fixedKey ? null : (
        <>
          <h2 className="pg-keyname">New key</h2>
          <div className="field">
            <label htmlFor={`${id}-key`}>Key</label>
            <input
              id={`${id}-key`}
              type="text"
              value={key}
              required
              maxLength={MAX_KEY}
              spellCheck={false}
              autoComplete="off"
              aria-invalid={key !== '' && keyErr ? true : undefined}
              aria-describedby={`${id}-key-help`}
              onChange={(e) => {
                setKey(e.target.value);
                setConflict(null);
              }}
              autoFocus
            />
            <p id={`${id}-key-help`} className={key !== '' && keyErr ? 'pg-field-error small' : 'muted small'}>
              {key !== '' && keyErr ? keyErr : 'Letters, digits and "_ . : / @ + = , -"; by convention a namespace first, such as user:name.'}
            </p>
          </div>
        </>
      )}
      <div className="field">
        <label htmlFor={`${id}-value`}>Value</label>
        <textarea
          id={`${id}-value`}
          className="pg-value-input"
          rows={12}
          value={value}
          spellCheck={false}
          onChange={(e) => {
            setValue(e.target.value);
          }}
          autoFocus={fixedKey}
        />
        <p className="muted small">Stored as text (at most 1 MiB); {formatBytes(new TextEncoder().encode(value).length)} now.</p>
      </div>
      <div className="field">
        <label htmlFor={`${id}-ttl`}>Expires after (seconds)</label>
        <input
          id={`${id}-ttl`}
          type="number"
          inputMode="numeric"
          min={1}
          max={MAX_TTL_S}
          step={1}
          value={ttl}
          placeholder="never"
          aria-invalid={ttlErr ? true : undefined}
          aria-describedby={`${id}-ttl-help`}
          onChange={(e) => setTtl(e.target.value)}
        />
        <p id={`${id}-ttl-help`} className={ttlErr ? 'pg-field-error small' : 'muted small'}>
          {ttlErr ?? (ttlNum !== null ? `The key is deleted ${formatDuration(ttlNum * 1000)} after saving.` : 'Empty: the key never expires.')}
        </p>
      </div>
      {conflict ? (
        <p className="pg-warning" role="alert">
          {conflict}
        </p>
      ) : null}
      <FormError error={error} />
      <div className="pg-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || keyErr !== null || ttlErr !== null}>
          {busy ? 'Saving…' : conflict ? 'Overwrite' : 'Save'}
        </button>
        <button type="button" className="btn" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
