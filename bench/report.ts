/** The result table: scenario | measured | target | ratio/verdict, then a column per other store measured. */
import { fmt } from './stats.js';
import { STORE_KINDS, STORE_TITLES, type StoreKind } from './stores.js';

export type Direction = 'atLeast' | 'atMost';

export interface Row {
  scenario: string;
  measured: string;
  target: string;
  verdict: string;
  /** The same measurement with the master on another store (`--store redis://…`, `postgres://…`), when taken. */
  stores?: Partial<Record<StoreKind, string>>;
}

/**
 * A row with a target. The factor is measured/target for "at least" targets and target/measured
 * for "at most" targets, so a factor of 1 or more passes in both cases.
 */
export function targetRow(scenario: string, value: number, unit: string, direction: Direction, target: number): Row {
  const factor = direction === 'atLeast' ? value / target : target / value;
  const pass = factor >= 1;
  return {
    scenario,
    measured: `${fmt(value)} ${unit}`.trim(),
    target: `${direction === 'atLeast' ? '≥' : '≤'} ${fmt(target)} ${unit}`.trim(),
    verdict: `${pass ? 'PASS' : 'MISS'} ${factor >= 100 ? '>99' : fmt(factor)}×`,
  };
}

/** A store column's cell for a row with a target: the value and its verdict. */
export function storeCell(value: number, unit: string, direction: Direction, target: number): string {
  const row = targetRow('', value, unit, direction, target);
  return `${row.measured} (${row.verdict})`;
}

/** A row reported for context only. */
export function infoRow(scenario: string, measured: string): Row {
  return { scenario, measured, target: '-', verdict: 'info' };
}

/** The table; a column per other store (Redis, PostgreSQL) that any row has a measurement for. */
export function renderTable(rows: readonly Row[]): string {
  const kinds = STORE_KINDS.filter((kind) => rows.some((r) => r.stores?.[kind] !== undefined));
  const header: Row = { scenario: 'scenario', measured: 'measured', target: 'target', verdict: 'ratio/verdict', stores: STORE_TITLES };
  const all = [header, ...rows];
  const width = (cell: (r: Row) => string): number => Math.max(...all.map((r) => cell(r).length));
  const storeCellOf = (kind: StoreKind) => (r: Row): string => r.stores?.[kind] ?? '-';
  const w = { scenario: width((r) => r.scenario), measured: width((r) => r.measured), target: width((r) => r.target), verdict: width((r) => r.verdict) };
  const storeWidths = kinds.map((kind) => width(storeCellOf(kind)));
  const tail = (r: Row): string => kinds.map((kind, i) => ` ${storeCellOf(kind)(r).padStart(storeWidths[i] ?? 0)} |`).join('');
  const line = (r: Row): string => `| ${r.scenario.padEnd(w.scenario)} | ${r.measured.padStart(w.measured)} | ${r.target.padStart(w.target)} | ${r.verdict.padEnd(w.verdict)} |${tail(r)}`;
  const rule = `|${'-'.repeat(w.scenario + 2)}|${'-'.repeat(w.measured + 1)}:|${'-'.repeat(w.target + 1)}:|${'-'.repeat(w.verdict + 2)}|${storeWidths.map((sw) => `${'-'.repeat(sw + 1)}:|`).join('')}`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
