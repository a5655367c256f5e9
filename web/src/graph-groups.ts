/**
 * Big runs drawn small: fan-outs collapse into groups, so a 10,000-job run is laid out as a
 * handful of boxes. A group is either jobs with the same parents and the same children, or jobs
 * whose ids follow one pattern (`shard-17`, `shard-18`, …) at the same depth of the DAG. Either
 * way no edge joins two members and every edge between groups points deeper, so the graph of
 * groups is a DAG too. Pure, unit-tested.
 */
import { type Box, dagEdges, type DagNode, type EdgeState, NODE_HEIGHT, NODE_WIDTH, type Point } from './graph.ts';

/** Fewer jobs than this alike stay single nodes: a small run is drawn job by job. */
export const GROUP_MIN = 10;

export interface JobGroup {
  /** `group:<first member>`: no job id holds a colon. */
  id: string;
  /** The members' id pattern (`shard-*`), or null when they have none in common. */
  pattern: string | null;
  /** Member job ids in natural order (`shard-2` before `shard-10`). */
  members: string[];
}

export interface Grouping {
  groups: JobGroup[];
  /** The group of each grouped job. */
  groupOf: ReadonlyMap<string, string>;
  /** What is drawn: single jobs (by id) and groups (by group id), in the jobs' order. */
  units: string[];
  /** The edges between units, without duplicates. */
  edges: [string, string][];
}

const natural = new Intl.Collator(undefined, { numeric: true });

/** The id with its last number replaced by `*` (`shard-17` → `shard-*`), or null when it has no digit. */
export function idPattern(id: string): string | null {
  const m = /^(.*\D)?(\d+)(\D*)$/.exec(id);
  return m ? `${m[1] ?? ''}*${m[3] ?? ''}` : null;
}

function lastNumber(id: string): number {
  return Number(/(\d+)\D*$/.exec(id)?.[1] ?? 0);
}

/** How deep each job sits: 0 for jobs without parents, else one more than its deepest parent. */
function depths(ids: readonly string[], edges: readonly [string, string][]): Map<string, number> {
  const children = new Map<string, string[]>();
  const waiting = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const [s, t] of edges) {
    const list = children.get(s);
    if (list) list.push(t);
    else children.set(s, [t]);
    waiting.set(t, (waiting.get(t) ?? 0) + 1);
  }
  const depth = new Map<string, number>();
  const ready = ids.filter((id) => waiting.get(id) === 0);
  for (const id of ready) depth.set(id, 0);
  for (let i = 0; i < ready.length; i++) {
    const id = ready[i] as string;
    const d = depth.get(id) ?? 0;
    for (const c of children.get(id) ?? []) {
      depth.set(c, Math.max(depth.get(c) ?? 0, d + 1));
      const left = (waiting.get(c) ?? 0) - 1;
      waiting.set(c, left);
      if (left === 0) ready.push(c);
    }
  }
  return depth;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Groups the jobs (see the module's comment) and the edges between what is drawn. */
export function groupJobs(nodes: readonly DagNode[]): Grouping {
  const ids = nodes.map((n) => n.id);
  const jobEdges = dagEdges(nodes);
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const [s, t] of jobEdges) {
    push(parents, t, s);
    push(children, s, t);
  }
  const groups: JobGroup[] = [];
  const grouped = new Set<string>();
  const addGroup = (members: string[]): void => {
    const patterns = new Set(members.map(idPattern));
    const pattern = patterns.size === 1 ? ([...patterns][0] ?? null) : null;
    // One pattern: its number orders the members (and much faster than collating thousands of strings).
    if (pattern !== null) {
      const numbered = members.map((id) => ({ id, n: lastNumber(id) })).sort((a, b) => a.n - b.n || natural.compare(a.id, b.id));
      numbered.forEach((m, i) => (members[i] = m.id));
    } else members.sort(natural.compare);
    groups.push({ id: `group:${members[0]}`, pattern, members });
    for (const m of members) grouped.add(m);
  };

  // Same parents and same children: within such a class, one group per id pattern that is big enough, the rest together.
  const byNeighbours = new Map<string, string[]>();
  for (const id of ids) {
    const key = `${[...(parents.get(id) ?? [])].sort().join(',')}>${[...(children.get(id) ?? [])].sort().join(',')}`;
    push(byNeighbours, key, id);
  }
  for (const members of byNeighbours.values()) {
    if (members.length < GROUP_MIN) continue;
    const byPattern = new Map<string, string[]>();
    for (const m of members) push(byPattern, idPattern(m) ?? '', m);
    const rest: string[] = [];
    for (const [pattern, list] of byPattern) {
      if (pattern !== '' && list.length >= GROUP_MIN) addGroup(list);
      else rest.push(...list);
    }
    if (rest.length >= GROUP_MIN) addGroup(rest);
  }

  // One id pattern at one depth (e.g. `check-17` after `shard-17`): members never depend on each other.
  const depth = depths(ids, jobEdges);
  const byPatternAndDepth = new Map<string, string[]>();
  for (const id of ids) {
    const pattern = idPattern(id);
    const d = depth.get(id);
    if (grouped.has(id) || pattern === null || d === undefined) continue;
    push(byPatternAndDepth, `${d}|${pattern}`, id);
  }
  for (const members of byPatternAndDepth.values()) if (members.length >= GROUP_MIN) addGroup(members);

  const groupOf = new Map<string, string>();
  for (const g of groups) for (const m of g.members) groupOf.set(m, g.id);
  const unitOf = (id: string): string => groupOf.get(id) ?? id;
  const units: string[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    const u = unitOf(id);
    if (!seen.has(u)) {
      seen.add(u);
      units.push(u);
    }
  }
  const edgeKeys = new Set<string>();
  const edges: [string, string][] = [];
  for (const [s, t] of jobEdges) {
    const us = unitOf(s);
    const ut = unitOf(t);
    const key = `${us}\n${ut}`;
    if (us === ut || edgeKeys.has(key)) continue;
    edgeKeys.add(key);
    edges.push([us, ut]);
  }
  return { groups, groupOf, units, edges };
}

/** A collapsed group's box. */
export const GROUP_WIDTH = 230;
export const GROUP_HEIGHT = 84;
/** An expanded group shows its members a page at a time, so a 5,000-job fan-out never puts 5,000 nodes on screen. */
export const GROUP_PAGE = 120;
const CELL_GAP_X = 14;
const CELL_GAP_Y = 12;
const FRAME_PAD = 12;
/** Room for the expanded group's header (its name, counts and buttons). */
export const FRAME_HEAD = 46;

/** Columns of an expanded group's grid: about twice as tall as wide (the graph runs left to right), at most 8. */
export function gridColumns(count: number): number {
  return Math.min(8, Math.max(1, Math.ceil(Math.sqrt(count / 2))));
}

/** The size of an expanded group's frame: the same for every page, so paging never moves the graph. */
export function frameSize(memberCount: number): { width: number; height: number } {
  const shown = Math.min(memberCount, GROUP_PAGE);
  const cols = gridColumns(shown);
  const rows = Math.ceil(shown / cols);
  return {
    width: Math.max(GROUP_WIDTH, FRAME_PAD * 2 + cols * NODE_WIDTH + (cols - 1) * CELL_GAP_X),
    height: FRAME_HEAD + FRAME_PAD + rows * NODE_HEIGHT + (rows - 1) * CELL_GAP_Y,
  };
}

/** Where the member at `index` of its page sits, relative to its frame's top-left corner. */
export function memberOffset(index: number, memberCount: number): Point {
  const cols = gridColumns(Math.min(memberCount, GROUP_PAGE));
  return { x: FRAME_PAD + (index % cols) * (NODE_WIDTH + CELL_GAP_X), y: FRAME_HEAD + Math.floor(index / cols) * (NODE_HEIGHT + CELL_GAP_Y) };
}

/** The page of its group that shows a member. */
export function pageOf(group: JobGroup, jobId: string): number {
  return Math.max(0, Math.floor(group.members.indexOf(jobId) / GROUP_PAGE));
}

export function pageCount(group: JobGroup): number {
  return Math.ceil(group.members.length / GROUP_PAGE);
}

/** The boxes to lay out: single jobs, collapsed groups, and the frames of the expanded ones. */
export function unitBoxes(grouping: Grouping, expanded: ReadonlySet<string>): Box[] {
  const byId = new Map(grouping.groups.map((g) => [g.id, g]));
  return grouping.units.map((id) => {
    const g = byId.get(id);
    if (!g) return { id, width: NODE_WIDTH, height: NODE_HEIGHT };
    if (expanded.has(id)) return { id, ...frameSize(g.members.length) };
    return { id, width: GROUP_WIDTH, height: GROUP_HEIGHT };
  });
}

/** How many members of a group are in each status. */
export type StatusCounts = Partial<Record<string, number>>;

export function groupCounts(groups: readonly JobGroup[], statusOf: (jobId: string) => string | undefined): Map<string, StatusCounts> {
  const out = new Map<string, StatusCounts>();
  for (const g of groups) {
    const counts: StatusCounts = {};
    for (const m of g.members) {
      const s = statusOf(m);
      if (s !== undefined) counts[s] = (counts[s] ?? 0) + 1;
    }
    out.set(g.id, counts);
  }
  return out;
}

/** What an edge out of a group means: done once every member completed, blocked once one ended without completing. */
export function groupEdgeState(counts: StatusCounts, total: number): EdgeState {
  if ((counts.COMPLETED ?? 0) === total) return 'done';
  if ((counts.DEAD ?? 0) + (counts.CANCELLED ?? 0) + (counts.SKIPPED ?? 0) > 0) return 'blocked';
  return 'waiting';
}

/** The status a group shows as its colour: the most urgent one among its members (a death, then work under way, then waiting). */
const GROUP_STATUS_ORDER = ['DEAD', 'RUNNING', 'FAILED', 'WAITING_APPROVAL', 'QUEUED', 'PENDING', 'CANCELLED', 'SKIPPED', 'COMPLETED'];

export function groupStatus(counts: StatusCounts): string {
  return GROUP_STATUS_ORDER.find((s) => (counts[s] ?? 0) > 0) ?? 'PENDING';
}
