/**
 * The pipeline constructor's model: nodes (jobs) and edges (dependencies), the edits the canvas
 * makes, the YAML it emits (docs/pipeline-yaml.md), the reverse from the server's parse result,
 * validation, and an undo/redo history of snapshots. Pure, unit-tested.
 */

// `.js`, not `.ts`: the root tsconfig compiles this module too (test/integration/defaults.test.ts).
import { DEFAULT_CAPABILITY, DEFAULT_PRIORITY, DEFAULT_RETRIES } from '../../../../src/core/defaults.js';

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
  message: string;
  hitlMessage: string;
  maxWaitSeconds: string;
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
  message: '',
  hitlMessage: '',
  maxWaitSeconds: '',
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

// ---- YAML ----

const PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;
const NUMERIC = /^[-+]?(\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|\.\d+|0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan)$/i;

/** A YAML scalar that reads back as exactly this string: plain when safe, else double-quoted (JSON is valid YAML). */
export function yamlString(s: string): string {
  if (PLAIN.test(s) && !RESERVED.test(s) && !NUMERIC.test(s)) return s;
  return JSON.stringify(s);
}

function num(s: string): number | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

export function splitTags(tags: string): string[] {
  return tags.split(/[\s,]+/).filter((t) => t !== '');
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

export function toYaml(model: Model): string {
  const lines: string[] = [];
  lines.push(`name: ${yamlString(model.name.trim() || 'pipeline')}`);
  const tags = splitTags(model.tags);
  if (tags.length > 0) lines.push(`tags: [${tags.map(yamlString).join(', ')}]`);
  if (model.schedule.trim() !== '') lines.push(`schedule: ${JSON.stringify(model.schedule.trim())}`);
  if (model.nodes.length === 0) {
    lines.push('jobs: []');
    return `${lines.join('\n')}\n`;
  }
  lines.push('jobs:');
  for (const n of model.nodes) {
    const f = n.fields;
    const put = (key: string, value: string): void => {
      lines.push(`    ${key}: ${value}`);
    };
    lines.push(`  - id: ${yamlString(n.id)}`);
    if (n.kind !== 'run') put('type', n.kind);
    if (n.kind !== 'approval' && f.file.trim() !== '') put('file', yamlString(f.file.trim()));
    if (n.kind !== 'approval' && f.args.trim() !== '') put('args', JSON.stringify(f.args.trim()));
    const deps = dependsOnIds(model, n.key);
    if (deps.length > 0) put('depends_on', `[${deps.map(yamlString).join(', ')}]`);
    if (n.kind === 'approval') {
      if (f.message.trim() !== '') put('message', JSON.stringify(f.message));
      if (num(f.maxWaitSeconds) !== undefined) put('max_wait_seconds', String(num(f.maxWaitSeconds)));
      continue;
    }
    if (f.requirement.trim() !== '') put('requirement', yamlString(f.requirement.trim()));
    for (const [key, field] of [
      ['priority', f.priority],
      ['delay', f.delay],
      ['retries', f.retries],
    ] as const) {
      const v = num(field);
      if (v !== undefined) put(key, String(v));
    }
    if (n.kind === 'run' && num(f.timeout) !== undefined) put('timeout', String(num(f.timeout)));
    if (f.affinity === 'true') put('affinity', 'true');
    if (f.affinity === 'required') put('affinity', 'required');
    if (n.kind === 'service' && num(f.port) !== undefined) put('port', String(num(f.port)));
    const env = parseEnv(f.env);
    if (env.length > 0) put('env', `{${env.map(([k, v]) => `${yamlString(k)}: ${JSON.stringify(v)}`).join(', ')}}`);
    if (n.kind === 'run' && f.hitlMessage.trim() !== '') put('hitl_message', JSON.stringify(f.hitlMessage));
  }
  return `${lines.join('\n')}\n`;
}

// ---- from the server's parse result ----

/** A job as `POST /api/pipelines/parse` returns it (the fields the constructor uses). */
export interface ParsedJob {
  id: string;
  kind?: NodeKind;
  file?: string;
  args?: string[];
  dependsOn?: string[];
  requirement?: string;
  priority?: number;
  delayMs?: number;
  retries?: number;
  timeoutMs?: number;
  affinity?: 'none' | 'soft' | 'required';
  env?: Record<string, string>;
  message?: string;
  maxWaitMs?: number;
  service?: { port?: number };
}

export interface ParsedPipeline {
  name?: string;
  tags?: string[];
  schedule?: { cron?: string } | string;
  jobs: ParsedJob[];
}

/** The job specs of a run, as the server's run view carries them (the fields the constructor uses). */
export interface RunJobSpec extends Omit<ParsedJob, 'file' | 'maxWaitMs'> {
  script?: { name: string };
  archive?: { name: string; entry: string };
}

/**
 * A past run as a pipeline, so it can be edited and deployed again: a job's script becomes its
 * library file; a gate's timeout is its wait. Archive jobs keep their entry as the file, which
 * the library must then provide.
 */
export function pipelineOfRun(run: { name: string; tags: string[] }, specs: readonly RunJobSpec[]): ParsedPipeline {
  const jobs = specs.map(({ script, archive, timeoutMs, ...spec }): ParsedJob => {
    const job: ParsedJob = { ...spec };
    const file = script?.name ?? archive?.entry;
    if (file !== undefined) job.file = file;
    if (timeoutMs !== undefined) {
      if (spec.kind === 'approval') job.maxWaitMs = timeoutMs;
      else job.timeoutMs = timeoutMs;
    }
    return job;
  });
  return { name: run.name, tags: run.tags, jobs };
}

/** One argument in shell form: quoted when it holds anything a shell would split or interpret. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

const DEFAULTS = { priority: DEFAULT_PRIORITY, delayMs: 0, retries: DEFAULT_RETRIES, requirement: DEFAULT_CAPABILITY };

export function fromPipeline(doc: ParsedPipeline): Model {
  const keys = new Map<string, string>();
  for (const j of doc.jobs) keys.set(j.id, newKey());
  const nodes: CNode[] = doc.jobs.map((j) => {
    const kind: NodeKind = j.kind ?? 'run';
    const fields: NodeFields = {
      ...EMPTY_FIELDS,
      file: j.file ?? '',
      args: (j.args ?? []).map(shellQuote).join(' '),
      requirement: j.requirement && j.requirement !== DEFAULTS.requirement ? j.requirement : '',
      priority: j.priority !== undefined && j.priority !== DEFAULTS.priority ? String(j.priority) : '',
      delay: j.delayMs ? String(j.delayMs / 1000) : '',
      retries: j.retries !== undefined && j.retries !== DEFAULTS.retries ? String(j.retries) : '',
      timeout: j.timeoutMs !== undefined ? String(j.timeoutMs / 1000) : '',
      affinity: j.affinity === 'soft' ? 'true' : j.affinity === 'required' ? 'required' : '',
      port: j.service?.port !== undefined ? String(j.service.port) : '',
      env: Object.entries(j.env ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
      message: j.message ?? '',
      maxWaitSeconds: j.maxWaitMs !== undefined ? String(j.maxWaitMs / 1000) : '',
    };
    return { key: keys.get(j.id) as string, id: j.id, kind, x: 0, y: 0, fields };
  });
  const edges: CEdge[] = [];
  for (const j of doc.jobs) for (const d of j.dependsOn ?? []) if (keys.has(d) && d !== j.id) edges.push({ source: keys.get(d) as string, target: keys.get(j.id) as string });
  const schedule = typeof doc.schedule === 'string' ? doc.schedule : (doc.schedule?.cron ?? '');
  return { name: doc.name ?? 'pipeline', tags: (doc.tags ?? []).join(', '), schedule, nodes, edges };
}

// ---- validation ----

export interface Issue {
  level: 'error' | 'warning';
  /** The node it is about, if any. */
  key?: string;
  field?: keyof NodeFields | 'id' | 'name' | 'tags' | 'schedule';
  message: string;
}

const ID = /^[A-Za-z0-9_.-]+$/;
const CAPABILITY = /^[A-Za-z0-9_.:-]+$/;

function intIn(s: string, min: number, max: number): boolean {
  const v = num(s);
  return v !== undefined && Number.isInteger(v) && v >= min && v <= max;
}

/** Problems of one node's fields (for the editor, as the user types). */
export function validateNode(n: CNode, pools: readonly string[] = []): Issue[] {
  const out: Issue[] = [];
  const f = n.fields;
  const err = (field: Issue['field'], message: string): void => {
    out.push({ level: 'error', key: n.key, field, message });
  };
  if (n.id.trim() === '') err('id', 'the id is required');
  else if (!ID.test(n.id)) err('id', 'an id holds only letters, digits and _ - .');
  if (n.kind !== 'approval' && f.file.trim() === '') err('file', `${n.id || 'a job'}: choose a script`);
  if (f.priority.trim() !== '' && !intIn(f.priority, -1_000_000, 1_000_000)) err('priority', 'priority: an integer');
  if (f.retries.trim() !== '' && !intIn(f.retries, 0, 100)) err('retries', 'retries: an integer 0–100');
  for (const [field, label] of [
    ['delay', 'delay'],
    ['timeout', 'timeout'],
    ['maxWaitSeconds', 'max wait'],
  ] as const) {
    const v = num(f[field]);
    if (f[field].trim() !== '' && (v === undefined || v < 0)) err(field, `${label}: a number of seconds, 0 or more`);
  }
  if (f.timeout.trim() !== '' && num(f.timeout) === 0) err('timeout', 'timeout: more than 0 seconds');
  if (f.port.trim() !== '' && !intIn(f.port, 1, 65535)) err('port', 'port: an integer 1–65535');
  for (const [k] of parseEnv(f.env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) err('env', `env: "${k}" is not a variable name`);
  const req = f.requirement.trim();
  if (req !== '' && !CAPABILITY.test(req)) err('requirement', 'requirement: letters, digits and _ . : -');
  else if (req !== '' && pools.length > 0 && !pools.includes(req)) out.push({ level: 'warning', key: n.key, field: 'requirement', message: `${n.id}: no worker offers the capability ${req} now` });
  if (/\n/.test(f.file)) err('file', 'file: one line');
  return out;
}

export function validate(model: Model, pools: readonly string[] = []): Issue[] {
  const out: Issue[] = [];
  if (model.nodes.length === 0) out.push({ level: 'error', message: 'the pipeline has no jobs' });
  if (model.schedule.trim() !== '' && !ID.test(model.name.trim())) out.push({ level: 'error', field: 'name', message: 'a scheduled pipeline needs a name made of letters, digits and _ - .' });
  const cron = model.schedule.trim();
  if (cron !== '' && !cron.startsWith('@') && ![5, 6].includes(cron.split(/\s+/).length)) out.push({ level: 'error', field: 'schedule', message: 'schedule: 5 cron fields (minute hour day month weekday), 6 with seconds, or @daily …' });
  for (const t of splitTags(model.tags)) if (!/^[A-Za-z0-9_.:=-]+$/.test(t)) out.push({ level: 'error', field: 'tags', message: `tag "${t}": letters, digits and _ . : = -` });
  const seen = new Map<string, number>();
  for (const n of model.nodes) seen.set(n.id, (seen.get(n.id) ?? 0) + 1);
  for (const n of model.nodes) {
    out.push(...validateNode(n, pools));
    if (n.id !== '' && (seen.get(n.id) ?? 0) > 1) out.push({ level: 'error', key: n.key, field: 'id', message: `the id ${n.id} is used more than once` });
  }
  return out;
}

// ---- history ----

export interface History {
  past: Model[];
  present: Model;
  future: Model[];
}

export const HISTORY_LIMIT = 100;

export function historyOf(model: Model): History {
  return { past: [], present: model, future: [] };
}

/** Records `next` as a new step (no step when nothing changed). */
export function commit(h: History, next: Model): History {
  if (next === h.present) return h;
  return { past: [...h.past, h.present].slice(-HISTORY_LIMIT), present: next, future: [] };
}

/** One step from `before` to the present, for a change made in place (a drag). */
export function commitSince(h: History, before: Model): History {
  if (h.present === before) return h;
  return { past: [...h.past, before].slice(-HISTORY_LIMIT), present: h.present, future: [] };
}

/** Replaces the present without a step (e.g. while a drag is on its way). */
export function replacePresent(h: History, next: Model): History {
  return { ...h, present: next };
}

export function undo(h: History): History {
  const prev = h.past[h.past.length - 1];
  if (!prev) return h;
  return { past: h.past.slice(0, -1), present: prev, future: [h.present, ...h.future] };
}

export function redo(h: History): History {
  const next = h.future[0];
  if (!next) return h;
  return { past: [...h.past, h.present], present: next, future: h.future.slice(1) };
}

// ---- SDK code ----

function pyStr(s: string): string {
  return JSON.stringify(s);
}

const PY_TYPE: Record<NodeKind, string> = { run: 'RUN_PAYLOAD', service: 'SERVICE', approval: 'APPROVAL' };

/** The pipeline as Python SDK code (`titan_sdk.TitanJob` + `submit_dag`). */
export function toPython(model: Model): string {
  const out = ['from titan_sdk import TitanClient, TitanJob', '', 'client = TitanClient()', 'jobs = ['];
  for (const n of model.nodes) {
    const f = n.fields;
    const parts = [pyStr(n.id)];
    if (n.kind !== 'approval') parts.push(`filename=${pyStr(f.file)}`);
    if (n.kind !== 'run') parts.push(`job_type=${pyStr(PY_TYPE[n.kind])}`);
    if (f.args.trim()) parts.push(`args=${pyStr(f.args.trim())}`);
    const deps = dependsOnIds(model, n.key);
    if (deps.length) parts.push(`parents=[${deps.map(pyStr).join(', ')}]`);
    if (n.kind === 'service' && num(f.port) !== undefined) parts.push(`port=${num(f.port)}`);
    if (f.requirement.trim()) parts.push(`requirement=${pyStr(f.requirement.trim())}`);
    if (num(f.priority) !== undefined) parts.push(`priority=${num(f.priority)}`);
    if (num(f.delay) !== undefined) parts.push(`delay=${num(f.delay)}`);
    if (num(f.retries) !== undefined) parts.push(`retries=${num(f.retries)}`);
    if (n.kind === 'run' && num(f.timeout) !== undefined) parts.push(`timeout=${num(f.timeout)}`);
    if (f.affinity === 'true') parts.push('affinity=True');
    if (f.affinity === 'required') parts.push('affinity="required"');
    if (n.kind === 'run' && f.hitlMessage.trim()) parts.push(`hitl_message=${pyStr(f.hitlMessage)}`);
    // An approval gate's question and wait travel in Titan's gate parameters.
    if (n.kind === 'approval' && f.message.trim()) parts.push(`hitl_message=${pyStr(f.message)}`);
    if (n.kind === 'approval' && num(f.maxWaitSeconds) !== undefined) parts.push(`max_wait_seconds=${num(f.maxWaitSeconds)}`);
    out.push(`    TitanJob(${parts.join(', ')}),`);
  }
  out.push(']');
  const tags = splitTags(model.tags);
  out.push(`result = client.submit_dag(${pyStr(model.name.trim() || 'pipeline')}, jobs${tags.length ? `, tags=[${tags.map(pyStr).join(', ')}]` : ''})`);
  out.push('print(result.run_id)');
  return `${out.join('\n')}\n`;
}

/** The pipeline as TypeScript SDK code (`TitanClient.submit`). */
export function toTypeScript(model: Model): string {
  const out = ["import { TitanClient } from 'titan-ts/sdk';", '', 'const client = new TitanClient();', 'const { runId } = await client.submit({', `  name: ${JSON.stringify(model.name.trim() || 'pipeline')},`];
  const tags = splitTags(model.tags);
  if (tags.length) out.push(`  tags: ${JSON.stringify(tags)},`);
  out.push('  jobs: [');
  for (const n of model.nodes) {
    const f = n.fields;
    const parts = [`id: ${JSON.stringify(n.id)}`];
    if (n.kind !== 'run') parts.push(`kind: '${n.kind}'`);
    if (n.kind !== 'approval') parts.push(`script: ${JSON.stringify(f.file)}`);
    if (n.kind === 'approval' && f.message.trim()) parts.push(`message: ${JSON.stringify(f.message)}`);
    if (f.args.trim()) parts.push(`args: ${JSON.stringify(splitShell(f.args))}`);
    const deps = dependsOnIds(model, n.key);
    if (deps.length) parts.push(`dependsOn: ${JSON.stringify(deps)}`);
    if (f.requirement.trim()) parts.push(`requirement: ${JSON.stringify(f.requirement.trim())}`);
    if (num(f.priority) !== undefined) parts.push(`priority: ${num(f.priority)}`);
    if (num(f.delay) !== undefined) parts.push(`delayMs: ${Math.round((num(f.delay) as number) * 1000)}`);
    if (num(f.retries) !== undefined) parts.push(`retries: ${num(f.retries)}`);
    if (n.kind === 'run' && num(f.timeout) !== undefined) parts.push(`timeoutMs: ${Math.round((num(f.timeout) as number) * 1000)}`);
    if (n.kind === 'approval' && num(f.maxWaitSeconds) !== undefined) parts.push(`timeoutMs: ${Math.round((num(f.maxWaitSeconds) as number) * 1000)}`);
    if (f.affinity === 'true') parts.push("affinity: 'soft'");
    if (f.affinity === 'required') parts.push("affinity: 'required'");
    if (n.kind === 'service' && num(f.port) !== undefined) parts.push(`service: { port: ${num(f.port)} }`);
    const env = parseEnv(f.env);
    if (env.length) parts.push(`env: ${JSON.stringify(Object.fromEntries(env))}`);
    out.push(`    { ${parts.join(', ')} },`);
  }
  out.push('  ],', '});', 'console.log(runId);');
  return `${out.join('\n')}\n`;
}

/** Splits Titan's string form of args like a POSIX shell (quotes, backslashes; no expansion). */
export function splitShell(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '' | "'" | '"' = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (q === "'") {
      if (c === "'") q = '';
      else cur += c;
    } else if (q === '"') {
      if (c === '"') q = '';
      else if (c === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1] as string)) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur !== '') out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
    }
  }
  if (has || cur !== '') out.push(cur);
  return out;
}
