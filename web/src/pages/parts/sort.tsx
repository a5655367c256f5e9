/**
 * Sortable tables: `useSort` keeps the sort column and direction and sorts rows by the column's
 * key function; `SortTh` is a header cell whose button toggles it (aria-sort tells screen readers).
 */
import { useMemo, useState, type ReactNode } from 'react';

export type SortValue = string | number | boolean | null | undefined;
export type SortKeys<T> = Record<string, (row: T) => SortValue>;

export interface SortState {
  key: string;
  dir: 'asc' | 'desc';
}

export interface Sorter<T> {
  rows: T[];
  state: SortState;
  toggle: (key: string) => void;
}

function compare(a: SortValue, b: SortValue): number {
  // Missing values sort last whatever the direction is.
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

export function useSort<T>(rows: readonly T[], keys: SortKeys<T>, initial: SortState): Sorter<T> {
  const [state, setState] = useState<SortState>(initial);
  const sorted = useMemo(() => {
    const by = keys[state.key];
    if (!by) return [...rows];
    const sign = state.dir === 'asc' ? 1 : -1;
    return rows
      .map((row, i) => ({ row, i, v: by(row) }))
      .sort((x, y) => {
        const missing = (x.v === null || x.v === undefined) !== (y.v === null || y.v === undefined);
        const c = missing ? compare(x.v, y.v) : sign * compare(x.v, y.v);
        return c !== 0 ? c : x.i - y.i;
      })
      .map((x) => x.row);
    // `keys` is a fresh object on every render; the sort depends only on the state and the rows.
  }, [rows, state]);
  const toggle = (key: string): void =>
    setState((s) => (s.key === key ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: 'asc' }));
  return { rows: sorted, state, toggle };
}

/** A header cell that sorts its table by `sortKey`. */
export function SortTh<T>({ sorter, sortKey, children, className }: { sorter: Sorter<T>; sortKey: string; children: ReactNode; className?: string }) {
  const active = sorter.state.key === sortKey;
  const dir = active ? sorter.state.dir : undefined;
  return (
    <th scope="col" className={className} aria-sort={dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none'}>
      <button type="button" className="pg-sort" onClick={() => sorter.toggle(sortKey)}>
        {children}
        <span className="pg-sort-mark" aria-hidden="true">
          {dir === 'asc' ? '▲' : dir === 'desc' ? '▼' : '↕'}
        </span>
      </button>
    </th>
  );
}
