/** The store's list of keys: crumbs of the prefix, shortcuts to narrower prefixes, search, limit, and the sortable table. */
import { useId, useMemo, useState } from 'react';
import type { KvKeyInfo } from '../../api.ts';
import { type Column, DataTable } from '../../components/DataTable.tsx';
import { Ago } from '../../components/ui.tsx';
import { plural } from '../parts/common.tsx';
import { crumbsOf, PrefixCrumbs } from '../parts/crumbs.tsx';
import { LimitSelect } from '../parts/list-parts.tsx';
import { groupsOf, type KeysAnswer, LIMITS } from './keys.ts';

export default function KeyList({
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
  const columns: Column<KvKeyInfo>[] = [
    {
      id: 'key',
      header: 'Key',
      rowHeader: true,
      sortValue: (k) => k.key,
      cell: (k) => (
        <button type="button" className="link-button pg-key" onClick={() => onOpen(k.key)} aria-current={k.key === selected ? 'true' : undefined}>
          <code>{k.key}</code>
        </button>
      ),
    },
    { id: 'type', header: 'Type', sortValue: (k) => k.type, cell: (k) => k.type },
    { id: 'version', header: 'Version', className: 'pg-num', sortValue: (k) => k.version, cell: (k) => k.version },
    { id: 'expiresAt', header: 'Expires', sortValue: (k) => k.expiresAt, cell: (k) => (k.expiresAt !== null ? <Ago at={k.expiresAt} /> : <span className="muted">never</span>) },
  ];
  return (
    <>
      <PrefixCrumbs crumbs={crumbsOf(prefix, '/:')} all="All keys" onBrowse={onBrowse} />
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
        <LimitSelect id={`${id}-limit`} label="At most" value={limit} limits={LIMITS} option={(n) => `${n} keys`} onChange={onLimit} />
      </div>
      <p className="muted small" aria-live="polite">
        {needle ? `${shown.length} of ` : ''}
        {plural(answer.keys.length, 'key')}
        {prefix ? ` starting with “${prefix}”` : ''}
        {answer.truncated ? ` (the first ${limit}; narrow the prefix or raise the limit to see more)` : ''}
      </p>
      <DataTable
        rows={shown}
        columns={columns}
        rowKey={(k) => k.key}
        className="pg-table pg-keys"
        initialSort={{ id: 'key', dir: 'asc' }}
        rowProps={(k) => ({ className: k.key === selected ? 'row-selected' : undefined, 'aria-selected': k.key === selected })}
        empty={answer.keys.length === 0 ? (
            prefix ? (
              'No key starts with this prefix.'
            ) : (
              <>
                The store is empty. Set a key with <code>titan store set greeting hello</code>.
              </>
            )
          ) : 'No listed key matches the search.'}
      />
    </>
  );
}
