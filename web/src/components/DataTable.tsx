/**
 * The dashboard's one table of records (TanStack Table): columns declared once, headers that sort
 * (a button per sortable column; aria-sort tells screen readers), missing values last in either
 * direction, an empty state, and optional row links (a click anywhere on the row that is not on
 * a control opens the row's page). On small windows (≤ 640 px, styles.css) each row is a card of
 * label/value pairs: every cell carries its column's label for that.
 */
import { type ColumnDef, getCoreRowModel, getSortedRowModel, type SortingState, useReactTable } from '@tanstack/react-table';
import { type HTMLAttributes, type MouseEvent, type ReactNode, useMemo, useState } from 'react';
import { ACTION_ICONS, Icon } from '../icons.ts';
import { navigate } from '../router.tsx';
import { Empty } from './ui.tsx';

export type SortValue = string | number | boolean | null | undefined;

export interface Column<T> {
  id: string;
  header: ReactNode;
  /** The column's name beside each value on small windows, when the header is not plain text. */
  label?: string;
  cell: (row: T) => ReactNode;
  /** Makes the column sortable by this value. */
  sortValue?: (row: T) => SortValue;
  /** On the header and every cell (e.g. `pg-num`). */
  className?: string;
  /** On every cell only. */
  cellClassName?: string;
  /** The cell is the row's header (`<th scope="row">`). */
  rowHeader?: boolean;
  /** A tooltip of the cell. */
  title?: (row: T) => string | undefined;
}

export interface Sort {
  id: string;
  dir: 'asc' | 'desc';
}

export interface DataTableProps<T> {
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  /** Shown instead of the table when there are no rows. */
  empty: ReactNode;
  initialSort?: Sort;
  /** Classes of the `<table>` besides `table`. */
  className?: string;
  /** For screen readers: what the table lists. */
  caption?: string;
  /** Where a click on the row leads. */
  rowLink?: (row: T) => string;
  rowProps?: (row: T) => HTMLAttributes<HTMLTableRowElement>;
}

/** Orders two present values: numbers and booleans by value, the rest as text in natural order. */
export function compareValues(a: NonNullable<SortValue>, b: NonNullable<SortValue>): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

/** The column's name for the cards of small windows: its label, else its header when that is text. */
export function labelOf<T>(col: Column<T>): string | undefined {
  if (col.label !== undefined) return col.label || undefined;
  return typeof col.header === 'string' || typeof col.header === 'number' ? String(col.header) || undefined : undefined;
}

/** A click on the row itself, not on a link, button or field inside it. */
function onRowItself(e: MouseEvent<HTMLTableRowElement>): boolean {
  const target = e.target as HTMLElement;
  return e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey && target.closest('a, button, input, select, textarea, label, summary') === null;
}

export function DataTable<T>({ rows, columns, rowKey, empty, initialSort, className, caption, rowLink, rowProps }: DataTableProps<T>) {
  const [sorting, setSorting] = useState<SortingState>(initialSort ? [{ id: initialSort.id, desc: initialSort.dir === 'desc' }] : []);
  const defs = useMemo(
    () =>
      columns.map((c): ColumnDef<T, SortValue> => ({
        id: c.id,
        // Missing values are undefined to TanStack, which keeps them last whatever the direction.
        accessorFn: (row) => c.sortValue?.(row) ?? undefined,
        enableSorting: c.sortValue !== undefined,
        sortUndefined: 'last',
        sortingFn: (a, b, id) => compareValues(a.getValue<NonNullable<SortValue>>(id), b.getValue<NonNullable<SortValue>>(id)),
      })),
    [columns],
  );
  const table = useReactTable<T>({
    data: rows as T[],
    columns: defs,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    getRowId: (row) => rowKey(row),
    sortDescFirst: false,
    enableSortingRemoval: false,
    enableMultiSort: false,
  });
  if (rows.length === 0) return <Empty>{empty}</Empty>;
  const byId = new Map(columns.map((c) => [c.id, c]));
  return (
    <div className="table-wrap table-cards">
      <table className={className ? `table ${className}` : 'table'}>
        {caption ? <caption className="visually-hidden">{caption}</caption> : null}
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((h) => {
                const col = byId.get(h.column.id) as Column<T>;
                if (!h.column.getCanSort())
                  return (
                    <th key={h.id} scope="col" className={col.className}>
                      {col.header}
                    </th>
                  );
                const dir = h.column.getIsSorted();
                return (
                  <th key={h.id} scope="col" className={col.className} aria-sort={dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none'}>
                    <button type="button" className="pg-sort" onClick={h.column.getToggleSortingHandler()}>
                      {col.header}
                      <Icon icon={dir === 'asc' ? ACTION_ICONS.sortAscending : dir === 'desc' ? ACTION_ICONS.sortDescending : ACTION_ICONS.sortable} className="pg-sort-mark" />
                    </button>
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => {
            const link = rowLink?.(row.original);
            const extra = rowProps?.(row.original) ?? {};
            return (
              <tr
                key={row.id}
                {...extra}
                className={link ? [extra.className, 'row-link'].filter(Boolean).join(' ') : extra.className}
                onClick={
                  link
                    ? (e) => {
                        if (onRowItself(e)) navigate(link);
                      }
                    : extra.onClick
                }
              >
                {row.getVisibleCells().map((cell) => {
                  const col = byId.get(cell.column.id) as Column<T>;
                  const props = { className: [col.className, col.cellClassName].filter(Boolean).join(' ') || undefined, title: col.title?.(row.original), 'data-label': labelOf(col) };
                  const content = col.cell(row.original);
                  return col.rowHeader ? (
                    <th key={cell.id} scope="row" {...props}>
                      {content}
                    </th>
                  ) : (
                    <td key={cell.id} {...props}>
                      {content}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
