/** The result table: scenario | measured | target | ratio/verdict. */
import { fmt } from './stats.js';

export type Direction = 'atLeast' | 'atMost';

export interface Row {
  scenario: string;
  measured: string;
  target: string;
  verdict: string;
  /** The same measurement with the master on a Redis store (`--store redis://…`), when taken. */
  redis?: string;
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

/** The Redis column's cell for a row with a target: the value and its verdict. */
export function redisCell(value: number, unit: string, direction: Direction, target: number): string {
  const row = targetRow('', value, unit, direction, target);
  return `${row.measured} (${row.verdict})`;
}

/** A row reported for context only. */
export function infoRow(scenario: string, measured: string): Row {
  return { scenario, measured, target: '-', verdict: 'info' };
}

/** The table; a last column "Redis store" when any row has a Redis measurement. */
export function renderTable(rows: readonly Row[]): string {
  const withRedis = rows.some((r) => r.redis !== undefined);
  const header: Row = { scenario: 'scenario', measured: 'measured', target: 'target', verdict: 'ratio/verdict', redis: 'Redis store' };
  const all = [header, ...rows];
  const width = (key: keyof Row): number => Math.max(...all.map((r) => (r[key] ?? '-').length));
  const w = { scenario: width('scenario'), measured: width('measured'), target: width('target'), verdict: width('verdict'), redis: width('redis') };
  const tail = (r: Row): string => (withRedis ? ` ${(r.redis ?? '-').padStart(w.redis)} |` : '');
  const line = (r: Row): string => `| ${r.scenario.padEnd(w.scenario)} | ${r.measured.padStart(w.measured)} | ${r.target.padStart(w.target)} | ${r.verdict.padEnd(w.verdict)} |${tail(r)}`;
  const rule = `|${'-'.repeat(w.scenario + 2)}|${'-'.repeat(w.measured + 1)}:|${'-'.repeat(w.target + 1)}:|${'-'.repeat(w.verdict + 2)}|${withRedis ? `${'-'.repeat(w.redis + 1)}:|` : ''}`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
