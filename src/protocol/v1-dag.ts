/**
 * Titan v1 job lines: the `SUBMIT_DAG` (0x04) payload and the `SUBMIT_JOB` (0x03) job string
 * (reference sections 5 and 14). Parsed strictly: bodies are positional with exact field counts,
 * every name and id that may become a path is validated, and the first problem rejects the whole
 * payload with a message the v1 adapter sends as `ERROR: <message>`. Pure: no I/O, no clock.
 */
import { CapabilitySchema, DEFAULT_CAPABILITY, DEFAULT_PRIORITY, IdSchema, LIMITS } from '../core/model.js';

/** One job of a v1 DAG, before the master resolves its script (inline content or an archive entry). */
export interface V1Job {
  /** The job id as the client wrote it, without Titan's `DAG-` prefix (a leading `DAG-` is removed). */
  id: string;
  kind: 'run' | 'service';
  source: { type: 'inline'; fileName: string; base64: string } | { type: 'archive'; zip: string; entry: string };
  args: string[];
  /** Services only: the port, or null when the client sent 0 / nothing (the worker then assigns one). */
  port: number | null;
  requirement: string;
  priority: number;
  delayMs: number;
  /** Parent ids, without `DAG-` prefixes, deduplicated, in order. */
  dependsOn: string[];
  affinity: boolean;
}

/** A rejected v1 submission; the message is what follows `ERROR: ` in the reply. */
export class V1DagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'V1DagError';
  }
}

const DAG_PREFIX = 'DAG-';

/** Removes one leading `DAG-` (Titan adds it to every DAG job id and parent unless present). */
export const stripDagPrefix = (id: string): string => (id.startsWith(DAG_PREFIX) ? id.slice(DAG_PREFIX.length) : id);

const HEADERS = ['RUN_PAYLOAD', 'DEPLOY_PAYLOAD', 'RUN_ARCHIVE', 'START_ARCHIVE_SERVICE'] as const;
type Header = (typeof HEADERS)[number];

/** The body fields of each header, in wire order (reference 5.2). */
const BODY_FIELDS: Record<Header, readonly string[]> = {
  RUN_PAYLOAD: ['<file>', '<args>', '<base64>', '<requirement>'],
  DEPLOY_PAYLOAD: ['<file>', '<base64>', '<port>', '<requirement>'],
  RUN_ARCHIVE: ['<zip>.zip/<entry>', '<args>', '<requirement>'],
  START_ARCHIVE_SERVICE: ['<zip>.zip/<entry>', '<args>', '<port>', '<requirement>'],
};

const isHeader = (text: string | undefined): text is Header => (HEADERS as readonly string[]).includes(text ?? '');

const LINE_SHAPE = '<id>|<HEADER>|<body>|<priority>|<delayMs>|[<parents>]';
const JOB_SHAPE = '[<id>|]<HEADER>|<body>[|<priority>|<delayMs>]';
const HEADER_LIST = 'RUN_PAYLOAD, DEPLOY_PAYLOAD, RUN_ARCHIVE or START_ARCHIVE_SERVICE';

function fail(message: string): never {
  throw new V1DagError(message);
}

/** A value quoted for a message, shortened so a base64 blob cannot flood the reply. */
function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

/**
 * Parses a `SUBMIT_DAG` payload: job lines separated by `;`. Every line must parse and every
 * parent must be a job of the payload; otherwise nothing is accepted. Cycles (and a job naming
 * itself as parent) are left to the master's DAG validation.
 */
export function parseV1Dag(payload: string): V1Job[] {
  if (payload.trim() === '') fail('Empty DAG');
  // Titan splits on every ";" and trims each part, so ";" can never occur inside a line.
  const lines = payload.split(';');
  if (lines.length > LIMITS.maxJobsPerRun) fail(`DAG has ${lines.length} lines; at most ${LIMITS.maxJobsPerRun} jobs are allowed`);
  const jobs: V1Job[] = [];
  const lineOf = new Map<string, number>();
  lines.forEach((text, i) => {
    const job = parseLine(text.trim(), i + 1);
    const first = lineOf.get(job.id);
    if (first !== undefined) fail(`line ${i + 1} (${job.id}): duplicate job id "${job.id}" (also on line ${first})`);
    lineOf.set(job.id, i + 1);
    jobs.push(job);
  });
  // Titan waits for parents outside the payload; here they are rejected. The master resolves
  // dependencies within a run, and a v1 DAG is one run, so a parent must be a job of this payload.
  jobs.forEach((job, i) => {
    for (const parent of job.dependsOn) {
      if (!lineOf.has(parent)) fail(`line ${i + 1} (${job.id}): unknown parent "${parent}" (parents must be jobs of the same DAG)`);
    }
  });
  return jobs;
}

/**
 * Parses a `SUBMIT_JOB` job string (Java CLI): `[<id>|]<HEADER>|<body>[|<priority>|<delayMs>]`
 * with the bodies of `SUBMIT_DAG`. The leading id is recognised only when the second field is a
 * header. Without one the returned id is `''`: the caller assigns an id. Priority defaults to 1,
 * delay to 0; such a job has no parents and no affinity.
 */
export function parseV1Job(payload: string): V1Job {
  const text = payload.trim();
  if (text === '') fail('Empty job');
  const fields = text.split('|');
  let id = '';
  let at = 'job';
  if (!isHeader(fields[0])) {
    if (!isHeader(fields[1])) {
      fail(`unknown job type ${show(fields[0] ?? '')}: expected ${JOB_SHAPE} with HEADER one of ${HEADER_LIST}`);
    }
    id = checkId(fields.shift() ?? '', 'job', 'job id');
    at = `job (${id})`;
  }
  const header = fields.shift() as Header;
  const count = BODY_FIELDS[header].length;
  if (fields.length !== count && fields.length !== count + 2) {
    fail(`${at}: ${header} takes ${count} fields after the header (${BODY_FIELDS[header].join('|')}), optionally followed by |<priority>|<delayMs>; got ${fields.length}`);
  }
  const timing = fields.length === count + 2;
  return {
    id,
    ...parseBody(header, fields.slice(0, count), at),
    priority: timing ? parsePriority(fields[count] ?? '', at) : DEFAULT_PRIORITY,
    delayMs: timing ? parseDelay(fields[count + 1] ?? '', at) : 0,
    dependsOn: [],
    affinity: false,
  };
}

/** One DAG line, outside-in as Titan reads it (flag, parent list, priority and delay), then the header and the positional body. */
function parseLine(text: string, n: number): V1Job {
  if (text === '') fail(`line ${n}: empty line (stray ";")`);
  const bar = text.indexOf('|');
  if (bar < 0) fail(`line ${n}: not a job line, expected ${LINE_SHAPE}`);
  const id = checkId(text.slice(0, bar), `line ${n}`, 'job id');
  const at = `line ${n} (${id})`;

  let rest = text;
  let affinity = false;
  for (const flag of ['|AFFINITY', '|STICKY']) {
    if (rest.endsWith(flag)) {
      rest = rest.slice(0, -flag.length);
      affinity = true;
      break;
    }
  }
  const open = rest.lastIndexOf('[');
  if (open < 0 || !rest.endsWith(']')) fail(`${at}: missing parent brackets []`);
  const dependsOn = parseParents(rest.slice(open + 1, -1), at);
  rest = rest.slice(0, open);
  if (!rest.endsWith('|')) fail(`${at}: expected "|" before the parent list`);
  rest = rest.slice(0, -1);
  // Titan takes the parent list from the last "[", so brackets elsewhere (in args, say) can
  // corrupt the dependencies; such a line is rejected rather than guessed at.
  if (rest.includes('[') || rest.includes(']')) fail(`${at}: "[" and "]" may appear only in the parent list`);

  // Bodies never contain "|" (clients replace it in args), so the rest splits cleanly.
  const fields = rest.split('|');
  const header = fields[1];
  if (!isHeader(header)) fail(`${at}: unknown header ${show(header ?? '')} (expected ${HEADER_LIST})`);
  if (fields.length < 4) fail(`${at}: missing <priority>|<delayMs> before the parent list`);
  const priority = parsePriority(fields[fields.length - 2] ?? '', at);
  const delayMs = parseDelay(fields[fields.length - 1] ?? '', at);
  const body = fields.slice(2, -2);
  const count = BODY_FIELDS[header].length;
  if (body.length !== count) fail(`${at}: ${header} takes ${count} fields after the header (${BODY_FIELDS[header].join('|')}), got ${body.length}`);
  return { id, ...parseBody(header, body, at), priority, delayMs, dependsOn, affinity };
}

type Body = Pick<V1Job, 'kind' | 'source' | 'args' | 'port' | 'requirement'>;

/** `fields` has exactly the header's field count. */
function parseBody(header: Header, fields: string[], at: string): Body {
  const f = (i: number): string => fields[i] ?? '';
  switch (header) {
    case 'RUN_PAYLOAD':
      return { kind: 'run', source: inline(f(0), f(2), at), args: parseArgs(f(1), at), port: null, requirement: parseRequirement(f(3), at) };
    case 'DEPLOY_PAYLOAD':
      return { kind: 'service', source: inline(f(0), f(1), at), args: [], port: parsePort(f(2), at), requirement: parseRequirement(f(3), at) };
    case 'RUN_ARCHIVE':
      return { kind: 'run', source: archive(f(0), at), args: parseArgs(f(1), at), port: null, requirement: parseRequirement(f(2), at) };
    case 'START_ARCHIVE_SERVICE':
      return { kind: 'service', source: archive(f(0), at), args: parseArgs(f(1), at), port: parsePort(f(2), at), requirement: parseRequirement(f(3), at) };
  }
}

/** Strips one `DAG-` and checks the rest against IdSchema; returns the stripped id. */
function checkId(raw: string, at: string, what: string): string {
  const id = stripDagPrefix(raw);
  const result = IdSchema.safeParse(id);
  if (!result.success) fail(`${at}: invalid ${what} ${show(raw)}: ${result.error.issues[0]?.message ?? 'not a valid id'}`);
  return id;
}

function parseParents(inner: string, at: string): string[] {
  if (inner.trim() === '') return [];
  const parents: string[] = [];
  for (const item of inner.split(',')) {
    const trimmed = item.trim();
    if (trimmed === '') fail(`${at}: empty parent id in [${inner}]`);
    const parent = checkId(trimmed, at, 'parent id');
    if (!parents.includes(parent)) parents.push(parent);
  }
  return parents;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function parsePriority(text: string, at: string): number {
  const value = /^[-+]?\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= INT32_MIN && value <= INT32_MAX)) fail(`${at}: priority ${show(text)} must be a 32-bit integer`);
  return value === 0 ? 0 : value; // no -0
}

function parseDelay(text: string, at: string): number {
  if (/^-\d+$/.test(text)) fail(`${at}: delay-ms ${show(text)} must not be negative`);
  if (!/^\+?\d+$/.test(text)) fail(`${at}: delay-ms ${show(text)} must be a non-negative integer`);
  const value = Number(text);
  if (value > LIMITS.maxDelayMs) fail(`${at}: delay-ms ${show(text)} exceeds the maximum of ${LIMITS.maxDelayMs}`);
  return value;
}

/** Services only; 0 or an empty field means "no fixed port". */
function parsePort(text: string, at: string): number | null {
  const value = /^\d{1,5}$/.test(text) ? Number(text) : text === '' ? 0 : NaN;
  if (!(value >= 0 && value <= 65535)) fail(`${at}: port ${show(text)} must be an integer from 0 to 65535`);
  return value === 0 ? null : value;
}

function parseRequirement(text: string, at: string): string {
  if (text === '') return DEFAULT_CAPABILITY;
  const result = CapabilitySchema.safeParse(text);
  if (!result.success) fail(`${at}: invalid requirement ${show(text)}: ${result.error.issues[0]?.message ?? 'not a capability tag'}`);
  return text;
}

/** Space-separated words, as Titan's worker splits them (no quoting; empty words dropped). */
function parseArgs(text: string, at: string): string[] {
  const args = text.split(' ').filter((a) => a !== '');
  if (args.length > LIMITS.maxArgs) fail(`${at}: ${args.length} arguments, at most ${LIMITS.maxArgs} are allowed`);
  for (const arg of args) {
    if (arg.length > LIMITS.maxArgLength) fail(`${at}: an argument is longer than ${LIMITS.maxArgLength} characters`);
    if (arg.includes('\0')) fail(`${at}: arguments must not contain a NUL byte`);
  }
  return args;
}

const isBareName = (name: string): boolean =>
  name !== '' && name.length <= 255 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);

function inline(fileName: string, base64: string, at: string): V1Job['source'] {
  if (!isBareName(fileName)) fail(`${at}: file name ${show(fileName)} must be a bare file name (no "/", "\\", NUL, "." or "..")`);
  // Standard alphabet with padding: a multiple of 4 characters, at most two trailing "=".
  if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) fail(`${at}: the script content of ${show(fileName)} is not valid base64`);
  const bytes = (base64.length / 4) * 3 - (base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0);
  if (bytes > LIMITS.maxScriptBytes) fail(`${at}: the script ${show(fileName)} is larger than ${LIMITS.maxScriptBytes} bytes`);
  return { type: 'inline', fileName, base64 };
}

/** `<zip>.zip/<entry>`: the zip name runs to the first `.zip`, the entry is everything after `.zip/`. */
function archive(pointer: string, at: string): V1Job['source'] {
  const end = pointer.indexOf('.zip');
  if (end < 0) fail(`${at}: Invalid Archive Pointer: Must contain .zip (e.g. proj.zip/main.py)`);
  const zip = pointer.slice(0, end + 4);
  if (pointer.charAt(end + 4) !== '/') fail(`${at}: archive pointer ${show(pointer)} must be <zip>.zip/<entry>`);
  const entry = pointer.slice(end + 5);
  if (!isBareName(zip)) fail(`${at}: archive name ${show(zip)} must be a bare file name`);
  const segments = entry.split('/');
  if (entry === '' || /[\\\0]/.test(entry) || segments.includes('') || segments.includes('..')) {
    fail(`${at}: archive entry ${show(entry)} must be a relative path inside the zip (no leading "/", "\\", NUL, empty or ".." segment)`);
  }
  return { type: 'archive', zip, entry };
}
