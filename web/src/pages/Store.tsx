/**
 * The store (the data bus's keys): browse by prefix (with the next key segments as shortcuts),
 * search the listed keys, view a key's value (formatted when it is JSON), edit it with an optional
 * TTL, create keys and delete them (confirmed). The prefix and the open key are in the URL
 * (`?prefix=&key=`), so a view can be linked. A save warns when the key changed since it was opened.
 */
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { DATA_LIMITS, KV_KEY_CHARS_TEXT, KV_KEY_PATTERN, KV_PREFIX_PATTERN } from '../../../src/core/data-rules.ts';
import { ApiError, apiDelete, apiGet, apiPut, query, useApi, type KvKeyInfo } from '../api.ts';
import { Ago, Empty, ErrorBox, Loading, PageHeader, errorText } from '../components/ui.tsx';
import { formatBytes, formatDuration } from '../format.ts';
import { useSearchParam } from '../router.tsx';
import { Outcome, keyPath, plural } from './parts/common.tsx';
import { ConfirmDialog } from './parts/confirm.tsx';
import { SortTh, useSort } from './parts/sort.tsx';
import './pages.css';

interface KeysAnswer {
  keys: KvKeyInfo[];
  truncated: boolean;
}

interface KvValue {
  key: string;
  value: string | null;
  version: number;
  expiresAt: number | null;
}

const MAX_KEY = DATA_LIMITS.maxKeyLength;
const MAX_TTL_S = DATA_LIMITS.maxTtlMs / 1000;
const LIMITS = [100, 500, 1000, 5000] as const;

const kvUrl = (key: string): string => `/api/kv/${keyPath(key)}`;

function keyProblem(key: string): string | null {
  if (key === '') return 'enter a key';
  if (key.length > MAX_KEY) return `a key has at most ${MAX_KEY} characters`;
  if (!KV_KEY_PATTERN.test(key)) return `a key may contain only ${KV_KEY_CHARS_TEXT}`;
  return null;
}

export default function Store() {
  const [prefix, setPrefix] = useSearchParam('prefix');
  const [selected, setSelected] = useSearchParam('key');
  const [limit, setLimit] = useState<number>(500);
  const [creating, setCreating] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const applied = prefix ?? '';
  const list = useApi<KeysAnswer>(`/api/kv${query({ prefix: applied, limit })}`);

  const open = (key: string | null): void => {
    setCreating(false);
    setSelected(key, { push: true });
  };
  const browse = (p: string): void => {
    setCreating(false);
    setPrefix(p === '' ? null : p, { push: true });
  };

  const info = list.data?.keys.find((k) => k.key === selected);

  return (
    <div className="page">
      <PageHeader title="Store" subtitle="The data bus: keys and values jobs share (strings and sets).">
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => {
            setSelected(null);
            setCreating(true);
          }}
        >
          New key
        </button>
        <button type="button" className="btn" onClick={() => void list.reload()}>
          Refresh
        </button>
      </PageHeader>
      <Outcome done={done} onDismiss={() => setDone(null)} />
      <div className="pg-split">
        <section className="pg-pane" aria-label="Keys">
          <PrefixForm applied={applied} onApply={browse} />
          <ErrorBox error={list.error} onRetry={() => void list.reload()} />
          {!list.data ? !list.error && <Loading /> : <KeyList answer={list.data} prefix={applied} limit={limit} onLimit={setLimit} selected={selected} onOpen={open} onBrowse={browse} />}
        </section>
        <section className="pg-pane pg-detail" aria-label={creating ? 'New key' : selected ? `Key ${selected}` : 'Key'}>
          {creating ? (
            <KeyEditor
              key="new"
              initialKey={applied}
              onCancel={() => setCreating(false)}
              onSaved={(key) => {
                setDone(`Saved ${key}.`);
                void list.reload();
                open(key);
              }}
            />
          ) : selected ? (
            <KeyPanel
              key={selected}
              keyName={selected}
              info={info}
              listReady={list.data !== undefined || list.error !== undefined}
              onChanged={(message) => {
                setDone(message);
                void list.reload();
              }}
              onDeleted={(message) => {
                setDone(message);
                void list.reload();
                setSelected(null);
              }}
              onClose={() => open(null)}
            />
          ) : (
            <Empty>Select a key to see its value, or create one with “New key”.</Empty>
          )}
        </section>
      </div>
    </div>
  );
}

function PrefixForm({ applied, onApply }: { applied: string; onApply: (p: string) => void }) {
  const [text, setText] = useState(applied);
  const id = useId();
  useEffect(() => setText(applied), [applied]);
  const problem = KV_PREFIX_PATTERN.test(text) ? null : `a prefix may contain only ${KV_KEY_CHARS_TEXT}`;
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!problem) onApply(text);
  };
  return (
    <form className="filters" onSubmit={submit} role="search" aria-label="Browse keys by prefix">
      <div className="field field-inline pg-grow">
        <label htmlFor={`${id}-prefix`}>Key prefix</label>
        <input
          id={`${id}-prefix`}
          type="text"
          value={text}
          placeholder="e.g. user: or reports/"
          spellCheck={false}
          autoComplete="off"
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-problem` : undefined}
          onChange={(e) => setText(e.target.value)}
        />
      </div>
      <button type="submit" className="btn" disabled={problem !== null}>
        Browse
      </button>
      {applied ? (
        <button type="button" className="btn btn-ghost" onClick={() => onApply('')}>
          All keys
        </button>
      ) : null}
      {problem ? (
        <p id={`${id}-problem`} className="pg-field-error small" role="alert">
          {problem}
        </p>
      ) : null}
    </form>
  );
}

/** Splits a prefix into cumulative crumbs at "/" and ":" (`a:b/c` → `a:`, `a:b/`, `a:b/c`). */
function crumbsOf(prefix: string): string[] {
  const crumbs: string[] = [];
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix[i];
    if (c === '/' || c === ':') crumbs.push(prefix.slice(0, i + 1));
  }
  if (prefix !== '' && crumbs[crumbs.length - 1] !== prefix) crumbs.push(prefix);
  return crumbs;
}

/** The next segments below `prefix` among `keys` (up to and including the next "/" or ":"), with counts. */
function groupsOf(keys: KvKeyInfo[], prefix: string): [string, number][] {
  const groups = new Map<string, number>();
  for (const { key } of keys) {
    const rest = key.slice(prefix.length);
    const m = /[/:]/.exec(rest);
    if (!m || m.index === rest.length - 1) continue;
    const g = prefix + rest.slice(0, m.index + 1);
    groups.set(g, (groups.get(g) ?? 0) + 1);
  }
  return [...groups].sort(([a], [b]) => a.localeCompare(b));
}

function KeyList({
  answer,
  prefix,
  limit,
  onLimit,
  selected,
  onOpen,
  onBrowse,
}: {
  answer: KeysAnswer;
  prefix: string;
  limit: number;
  onLimit: (n: number) => void;
  selected: string | null;
  onOpen: (key: string) => void;
  onBrowse: (prefix: string) => void;
}) {
  const [search, setSearch] = useState('');
  const id = useId();
  const needle = search.trim().toLowerCase();
  const shown = useMemo(() => (needle ? answer.keys.filter((k) => k.key.toLowerCase().includes(needle)) : answer.keys), [answer.keys, needle]);
  const groups = useMemo(() => groupsOf(answer.keys, prefix).filter(([, n]) => n > 1), [answer.keys, prefix]);
  const sorter = useSort(
    shown,
    { key: (k) => k.key, type: (k) => k.type, version: (k) => k.version, expiresAt: (k) => k.expiresAt },
    { key: 'key', dir: 'asc' },
  );
  const crumbs = crumbsOf(prefix);

  return (
    <>
      <nav className="pg-crumbs" aria-label="Prefix">
        <ol>
          <li>
            {prefix === '' ? (
              <span aria-current="location">All keys</span>
            ) : (
              <button type="button" className="link-button" onClick={() => onBrowse('')}>
                All keys
              </button>
            )}
          </li>
          {crumbs.map((c, i) => (
            <li key={c}>
              {i === crumbs.length - 1 ? (
                <code aria-current="location">{c.slice((crumbs[i - 1] ?? '').length)}</code>
              ) : (
                <button type="button" className="link-button" onClick={() => onBrowse(c)}>
                  <code>{c.slice((crumbs[i - 1] ?? '').length)}</code>
                </button>
              )}
            </li>
          ))}
        </ol>
      </nav>
      {groups.length > 0 ? (
        <div className="pg-groups">
          <span className="muted small">Narrow to:</span>
          <ul className="pg-group-list">
            {groups.map(([g, n]) => (
              <li key={g}>
                <button type="button" className="btn btn-small btn-ghost" onClick={() => onBrowse(g)} title={`Browse the keys starting with ${g}`}>
                  <code>{g.slice(prefix.length)}</code> <span className="muted">({n})</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <div className="pg-listbar">
        <div className="field field-inline pg-search">
          <label htmlFor={`${id}-search`}>Search</label>
          <input id={`${id}-search`} type="search" value={search} onChange={(e) => setSearch(e.target.value)} spellCheck={false} autoComplete="off" placeholder="part of a listed key" />
        </div>
        <div className="field field-inline">
          <label htmlFor={`${id}-limit`}>At most</label>
          <select id={`${id}-limit`} value={limit} onChange={(e) => onLimit(Number(e.target.value))}>
            {LIMITS.map((n) => (
              <option key={n} value={n}>
                {n} keys
              </option>
            ))}
          </select>
        </div>
      </div>
      <p className="muted small" aria-live="polite">
        {needle ? `${shown.length} of ` : ''}
        {plural(answer.keys.length, 'key')}
        {prefix ? ` starting with “${prefix}”` : ''}
        {answer.truncated ? ` (the first ${limit}; narrow the prefix or raise the limit to see more)` : ''}
      </p>
      {shown.length === 0 ? (
        <Empty>{answer.keys.length === 0 ? (prefix ? 'No key starts with this prefix.' : 'The store is empty.') : 'No listed key matches the search.'}</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table pg-table pg-keys">
            <thead>
              <tr>
                <SortTh sorter={sorter} sortKey="key">
                  Key
                </SortTh>
                <SortTh sorter={sorter} sortKey="type">
                  Type
                </SortTh>
                <SortTh sorter={sorter} sortKey="version" className="pg-num">
                  Version
                </SortTh>
                <SortTh sorter={sorter} sortKey="expiresAt">
                  Expires
                </SortTh>
              </tr>
            </thead>
            <tbody>
              {sorter.rows.map((k) => (
                <tr key={k.key} className={k.key === selected ? 'row-selected' : undefined} aria-selected={k.key === selected}>
                  <th scope="row">
                    <button type="button" className="link-button pg-key" onClick={() => onOpen(k.key)} aria-current={k.key === selected ? 'true' : undefined}>
                      <code>{k.key}</code>
                    </button>
                  </th>
                  <td>{k.type}</td>
                  <td className="pg-num">{k.version}</td>
                  <td>{k.expiresAt !== null ? <Ago at={k.expiresAt} /> : <span className="muted">never</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** Pretty JSON of a value when it is a JSON object or array; null otherwise. */
function prettyJson(value: string): string | null {
  const t = value.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return null;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return null;
  }
}

function KeyPanel({
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

/** Creates a key (`fixedKey` false) or edits one; the TTL field is seconds from now, empty for none. */
function KeyEditor({
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
      {error ? (
        <p className="error-box" role="alert">
          {error}
        </p>
      ) : null}
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
