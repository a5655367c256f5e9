/**
 * The pipeline constructor's model: nodes (jobs) and edges (dependencies), the edits the canvas
 * makes, and the readers of the fields as typed. Pure, unit-tested. The YAML it emits is in
 * yaml.ts, the reverse in pipeline.ts, validation in validate.ts, undo/redo in history.ts.
 */

export type NodeKind = 'run' | 'service' | 'approval';
export const NODE_KINDS: readonly NodeKind[] = ['run', 'service', 'approval'];

/** Every field as the user typed it (strings), converted when the YAML is written. */
export interface NodeFields {
  file: string;
  /** Titan's string form: split like a shell would. */
  args: string;
  requirement: string;
  priority: string;
  /** Seconds. */
  delay: string;
  retries: string;
  /** Seconds. */
  timeout: string;
  affinity: '' | 'true' | 'required';
  port: string;
  /** One `NAME=value` a line. */
  env: string;
  /** Names of the cluster's secrets the job receives as environment variables, separated by commas or spaces. */
  secrets: string;
  message: string;
  hitlMessage: string;
  maxWaitSeconds: string;
  /** Flow control (core/flow-spec.ts): the concurrency key and its limit (empty: the cluster's). */
  concurrencyKey: string;
  concurrencyLimit: string;
  /** The rate limit's key, starts per period, period (empty: the master's default) and burst. */
  rateKey: string;
  rateLimit: string;
  ratePer: string;
  rateBurst: string;
}

export const EMPTY_FIELDS: NodeFields = {
  file: '',
  args: '',
  requirement: '',
  priority: '',
  delay: '',
  retries: '',
  timeout: '',
  affinity: '',
  port: '',
  env: '',
  secrets: '',
  message: '',
  hitlMessage: '',
  maxWaitSeconds: '',
  concurrencyKey: '',
  concurrencyLimit: '',
  rateKey: '',
  rateLimit: '',
  ratePer: '',
  rateBurst: '',
};

export interface CNode {
  /** Internal, stable key (edges refer to it, so renaming the id keeps them). */
  key: string;
  /** The job id written to the YAML. */
  id: string;
  kind: NodeKind;
  x: number;
  y: number;
  fields: NodeFields;
}

export interface CEdge {
  /** The dependency's key. */
  source: string;
  /** The dependent's key. */
  target: string;
}

export interface Model {
  name: string;
  /** Comma or space separated. */
  tags: string;
  /** A cron expression; empty: none. */
  schedule: string;
  nodes: CNode[];
  edges: CEdge[];
}

export function emptyModel(): Model {
  return { name: 'pipeline', tags: '', schedule: '', nodes: [], edges: [] };
}

let keySeq = 0;
export function newKey(): string {
  keySeq += 1;
  return `n${Date.now().toString(36)}${keySeq.toString(36)}`;
}

/** `base`, or `base-2`, `base-3` … the first id no node uses. */
export function freeId(model: Model, base: string): string {
  const used = new Set(model.nodes.map((n) => n.id));
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}-${i}`)) return `${base}-${i}`;
}

const KIND_BASE: Record<NodeKind, string> = { run: 'task', service: 'service', approval: 'approval' };

export function addNode(model: Model, kind: NodeKind, at: { x: number; y: number } = { x: 0, y: 0 }, fields: Partial<NodeFields> = {}): { model: Model; key: string } {
  const key = newKey();
  const node: CNode = { key, id: freeId(model, KIND_BASE[kind]), kind, x: at.x, y: at.y, fields: { ...EMPTY_FIELDS, ...fields } };
  return { model: { ...model, nodes: [...model.nodes, node] }, key };
}

export function removeNodes(model: Model, keys: Iterable<string>): Model {
  const gone = new Set(keys);
  return { ...model, nodes: model.nodes.filter((n) => !gone.has(n.key)), edges: model.edges.filter((e) => !gone.has(e.source) && !gone.has(e.target)) };
}

export function removeEdges(model: Model, edges: readonly CEdge[]): Model {
  const gone = new Set(edges.map((e) => `${e.source}>${e.target}`));
  return { ...model, edges: model.edges.filter((e) => !gone.has(`${e.source}>${e.target}`)) };
}

/** Copies of the nodes (offset), with the edges between copied nodes copied too. */
export function duplicateNodes(model: Model, keys: Iterable<string>, offset = 40): { model: Model; keys: string[] } {
  const wanted = new Set(keys);
  let next = model;
  const map = new Map<string, string>();
  for (const n of model.nodes) {
    if (!wanted.has(n.key)) continue;
    const key = newKey();
    map.set(n.key, key);
    const copy: CNode = { ...n, key, id: freeId(next, `${n.id}-copy`), x: n.x + offset, y: n.y + offset, fields: { ...n.fields } };
    next = { ...next, nodes: [...next.nodes, copy] };
  }
  const edges = model.edges.flatMap((e) => {
    const s = map.get(e.source);
    const t = map.get(e.target);
    return s && t ? [{ source: s, target: t }] : [];
  });
  return { model: { ...next, edges: [...next.edges, ...edges] }, keys: [...map.values()] };
}

export function updateNode(model: Model, key: string, patch: Partial<Omit<CNode, 'key' | 'fields'>> & { fields?: Partial<NodeFields> }): Model {
  return {
    ...model,
    nodes: model.nodes.map((n) => (n.key === key ? { ...n, ...patch, key: n.key, fields: { ...n.fields, ...(patch.fields ?? {}) } } : n)),
  };
}

export function moveNodes(model: Model, positions: ReadonlyMap<string, { x: number; y: number }>): Model {
  return { ...model, nodes: model.nodes.map((n) => (positions.has(n.key) ? { ...n, ...(positions.get(n.key) as { x: number; y: number }) } : n)) };
}

/** True when `to` can be reached from `from` following edges source → target. */
function reaches(model: Model, from: string, to: string): boolean {
  const out = new Map<string, string[]>();
  for (const e of model.edges) out.set(e.source, [...(out.get(e.source) ?? []), e.target]);
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const k = stack.pop() as string;
    if (k === to) return true;
    if (seen.has(k)) continue;
    seen.add(k);
    stack.push(...(out.get(k) ?? []));
  }
  return false;
}

/** Why `source → target` cannot be added, or null when it can. */
export function connectProblem(model: Model, source: string, target: string): string | null {
  const s = model.nodes.find((n) => n.key === source);
  const t = model.nodes.find((n) => n.key === target);
  if (!s || !t) return 'both ends must be nodes of the pipeline';
  if (source === target) return `${s.id} cannot depend on itself`;
  if (model.edges.some((e) => e.source === source && e.target === target)) return `${t.id} already depends on ${s.id}`;
  if (reaches(model, target, source)) return `${t.id} cannot depend on ${s.id}: that would close a cycle (${s.id} already depends on ${t.id})`;
  return null;
}

export function connect(model: Model, source: string, target: string): { model: Model; error: string | null } {
  const error = connectProblem(model, source, target);
  if (error) return { model, error };
  return { model: { ...model, edges: [...model.edges, { source, target }] }, error: null };
}

// ---- the fields as typed ----

/** A numeric field's value; undefined when empty or not a number. */
export function num(s: string): number | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

export function splitTags(tags: string): string[] {
  return tags.split(/[\s,]+/).filter((t) => t !== '');
}

/** The secret names as a job declares them: in the order given, each once. */
export function parseSecrets(secrets: string): string[] {
  return [...new Set(secrets.split(/[\s,]+/).filter((s) => s !== ''))];
}

/** `NAME=value` lines as pairs (blank lines skipped; a line without `=` gives an empty value). */
export function parseEnv(env: string): [string, string][] {
  const out: [string, string][] = [];
  for (const raw of env.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    out.push(eq < 0 ? [line, ''] : [line.slice(0, eq).trim(), line.slice(eq + 1)]);
  }
  return out;
}

/** The node's dependencies' ids, in the order of the nodes. */
export function dependsOnIds(model: Model, key: string): string[] {
  const parents = new Set(model.edges.filter((e) => e.target === key).map((e) => e.source));
  return model.nodes.filter((n) => parents.has(n.key)).map((n) => n.id);
}

/** A value of a flow setting as typed: a number where it reads as one, else the trimmed text. */
const flowValue = (s: string): number | string => num(s) ?? s.trim();

/** The node's flow settings as a job declares them (the YAML's and the SDKs' field values); empty fields are left out. */
export function flowSettings(f: NodeFields): { concurrency?: Record<string, string | number>; rateLimit?: Record<string, string | number> } {
  const pick = (entries: [string, string][]): Record<string, string | number> =>
    Object.fromEntries(entries.filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, k === 'key' || k === 'per' ? v.trim() : flowValue(v)]));
  return {
    ...(f.concurrencyKey.trim() !== '' && { concurrency: pick([['key', f.concurrencyKey], ['limit', f.concurrencyLimit]]) }),
    ...(f.rateKey.trim() !== '' && { rateLimit: pick([['key', f.rateKey], ['limit', f.rateLimit], ['per', f.ratePer], ['burst', f.rateBurst]]) }),
  };
}
