import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Column, DataTableProps } from './DataTable.tsx';

// The router (row links) listens to the window when it loads; rendering to a string needs no more.
vi.stubGlobal('window', { addEventListener: () => undefined });
let table: typeof import('./DataTable.tsx');
beforeAll(async () => {
  table = await import('./DataTable.tsx');
});

interface Row {
  name: string;
  size: number | null;
}

const columns: Column<Row>[] = [
  { id: 'name', header: 'Name', cell: (r) => r.name, sortValue: (r) => r.name, rowHeader: true },
  { id: 'size', header: 'Size', cell: (r) => r.size ?? '—', sortValue: (r) => r.size, className: 'pg-num' },
  { id: 'note', header: 'Note', cell: () => 'x' },
];
const rows: Row[] = [
  { name: 'b10', size: 2 },
  { name: 'a', size: null },
  { name: 'b9', size: 1 },
];

const render = (props: Partial<DataTableProps<Row>>): string => renderToStaticMarkup(createElement(table.DataTable<Row>, { rows, columns, rowKey: (r) => r.name, empty: 'Nothing here.', ...props }));
/** The row headers' texts, in the order shown. */
const order = (html: string): string[] => [...html.matchAll(/<th scope="row"[^>]*>([^<]*)<\/th>/g)].map((m) => m[1] ?? '');

describe('DataTable', () => {
  it('sorts by the initial column, text in natural order, and marks that header', () => {
    const html = render({ initialSort: { id: 'name', dir: 'asc' } });
    expect(order(html)).toEqual(['a', 'b9', 'b10']);
    expect(html).toMatch(/<th scope="col" aria-sort="ascending"><button type="button" class="pg-sort">Name<svg [^>]*class="lucide lucide-chevron-up icon pg-sort-mark" aria-hidden="true"[^>]*>.*?<\/svg><\/button><\/th>/);
    expect(html).toContain('<th scope="col" class="pg-num" aria-sort="none">');
    // A column without a sort value has a plain header.
    expect(html).toContain('<th scope="col">Note</th>');
  });

  it('keeps missing values last in either direction', () => {
    expect(order(render({ initialSort: { id: 'size', dir: 'asc' } }))).toEqual(['b9', 'b10', 'a']);
    expect(order(render({ initialSort: { id: 'size', dir: 'desc' } }))).toEqual(['b10', 'b9', 'a']);
  });

  it('keeps the given order without a sort, and shows the empty state without rows', () => {
    expect(order(render({}))).toEqual(['b10', 'a', 'b9']);
    const empty = render({ rows: [] });
    expect(empty).toBe('<p class="empty muted">Nothing here.</p>');
  });

  it('labels every cell with its column, for the cards of small windows', () => {
    const html = render({});
    expect(html).toContain('<th scope="row" data-label="Name">b10</th>');
    expect(html).toContain('<td class="pg-num" data-label="Size">2</td>');
    expect(html).toContain('<td data-label="Note">x</td>');
    expect(html).toContain('<div class="table-wrap table-cards">');
  });

  it('marks rows with a link', () => {
    expect(render({ rowLink: (r) => `/x/${r.name}`, rowProps: (r) => ({ className: r.name === 'a' ? 'row-selected' : undefined }) })).toContain('<tr class="row-selected row-link">');
  });

  it('compares numbers, booleans and text', () => {
    expect(table.compareValues(2, 10)).toBeLessThan(0);
    expect(table.compareValues(true, false)).toBeGreaterThan(0);
    expect(table.compareValues('item2', 'Item10')).toBeLessThan(0);
  });
});
