/**
 * Pipeline YAML in Titan's shape (`name`, `project`, `jobs` with `id`, `file`, `type`, `args`,
 * `depends_on`, `requirement`, `priority`, `delay` in seconds, `port`) plus `retries`, `timeout`
 * (seconds), `env`, `secrets` (names of the cluster's secrets the job receives) and a service's `readiness`, `ready_timeout`, `restart` and `crash_loop_limit`, and a
 * top-level `schedule` (cron), `tags`, `singleton`, `debounce` and `on` (notification URLs). `args` may be Titan's string, split like a shell would.
 * Flow control (core/flow-spec.ts): a job's `concurrency` and `rate_limit`, the pipeline's `fairness`.
 * Errors name the file, line and column, and suggest the nearest key for a typo.
 *
 * The one parser of pipeline files: the CLI uses it on local files, the master (`pipeline.parse`)
 * for clients without a YAML library. It reads nothing: a job's `file` stays as written,
 * relative to the YAML's folder, for the caller to read, upload or zip (`project: true`).
 */
import { type Document, isMap, Lexer, LineCounter, parseDocument, visit } from 'yaml';
import { z } from 'zod';
import { TitanError } from './errors.js';
import { gateIdFor, injectGates } from './gates.js';
import { ConcurrencySchema, type Fairness, FairnessSchema, RateLimitSchema } from './flow-spec.js';
import { CapabilitySchema, DEFAULT_CAPABILITY, DEFAULT_GATE_WAIT_MS, DEFAULT_PRIORITY, IdSchema, type JobSpecInput, LIMITS, ReadinessSchema, RESTART_POLICIES, SecretNameSchema, TagSchema } from './model.js';
import { type ScheduleSpec, ScheduleSpecSchema } from './schedule.js';
import { DURATION_RULE, parseDurationMs } from './durations.js';
import { FlowKeyTemplateSchema } from './flow-keys.js';
import { type Debounce, DEBOUNCE_WAIT_MAX_MS, DebounceSchema } from './flow-spec.js';
import { ShellWordsError, splitShellWords } from './shell-words.js';
import { type NotifyTargets, NotifyTargetsSchema } from './notify-spec.js';

/** The largest pipeline text accepted (in characters). */
export const MAX_PIPELINE_YAML = 4 * 1024 * 1024;

/** The deepest nesting of flow collections (`[`, `{`) accepted: a pipeline needs three or four. */
export const MAX_YAML_NESTING = 64;

/**
 * How many copies aliases (`*name`) may make of what their anchors hold, nested ones multiplied:
 * a pipeline reuses a few values, while a "billion laughs" text expands to billions of nodes.
 */
export const MAX_YAML_ALIAS_COPIES = 100;

/**
 * A job of a parsed pipeline: the job spec without what it runs, and instead the `file` as written
 * in the YAML (relative to the YAML's folder) with where that value is. Approval gates (written
 * ones and those injected for `hitl_message`) have no file.
 */
export type PipelineJob = Omit<JobSpecInput, 'script' | 'archive'> & {
  /** The script (or, in project mode, the entry of the project zip), relative to the YAML's folder. */
  file?: string;
  /** `path:line:column` of the `file:` value, for errors about the file. */
  fileAt?: string;
};

/** A parsed, validated pipeline file; its files are not read. */
export interface PipelineDoc {
  name: string;
  tags: string[];
  /** The group the run's jobs take turns in (flow-spec.ts). */
  fairness?: Fairness;
  schedule?: ScheduleSpec;
  singleton?: string;
  debounce?: Debounce;
  /** Where the run's events are POSTed: `on: {failure, success, gate}` (core/notify-spec.ts). */
  on?: NotifyTargets;
  /** true: the YAML's folder is zipped and uploaded once, and each job runs its file from the zip. */
  project: boolean;
  jobs: PipelineJob[];
}

/** A pipeline text that cannot be used; the message says where (`path:line:column: …`). */
export class PipelineYamlError extends TitanError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
    this.name = 'PipelineYamlError';
  }
}

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const JobYamlSchema = z.strictObject({
  id: z.union([IdSchema, z.number().int().transform(String)]),
  file: z.string().min(1).optional(),
  type: z.enum(['run', 'service', 'approval']).default('run'),
  /** A service's fixed port; without one the worker assigns a free port. */
  port: z.number().int().min(1).max(65535).optional(),
  /** "tcp" (default), "none", or an HTTP path such as /health. */
  readiness: ReadinessSchema.optional(),
  /** Seconds a service has to become ready. */
  ready_timeout: z.number().min(0.001, 'must be at least 0.001 (one millisecond)').max(LIMITS.maxTimeoutMs / 1000).optional(),
  restart: z.enum(RESTART_POLICIES).optional(),
  crash_loop_limit: z.number().int().min(1).max(LIMITS.maxRetries).optional(),
  /** The question an approval gate asks. */
  message: z.string().max(4096).optional(),
  /** Titan's way to gate a job: a gate is injected after it, its children rewired to the gate. */
  hitl_message: z.string().max(4096).optional(),
  /** How long a gate waits for a decision (default DEFAULT_GATE_WAIT_MS, Titan's 48 hours). */
  max_wait_seconds: z.number().positive().max(LIMITS.maxTimeoutMs / 1000).optional(),
  /** A list (each item one argument), or Titan's string form, split like a shell would. */
  args: z
    .union([z.string(), z.array(scalar).max(LIMITS.maxArgs)])
    .transform((args, ctx) => {
      if (typeof args !== 'string') return args;
      try {
        const words = splitShellWords(args);
        if (words.length <= LIMITS.maxArgs) return words;
        ctx.addIssue({ code: 'custom', message: `splits into ${words.length} arguments; at most ${LIMITS.maxArgs}` });
      } catch (err) {
        if (!(err instanceof ShellWordsError)) throw err;
        ctx.addIssue({ code: 'custom', message: `cannot be split into arguments: ${err.message}` });
      }
      return z.NEVER;
    })
    .default([]),
  depends_on: z.union([IdSchema.transform((s) => [s]), z.array(IdSchema)]).default([]),
  requirement: CapabilitySchema.nullable().default(null),
  priority: z.number().int().default(DEFAULT_PRIORITY),
  delay: z.number().min(0).max(LIMITS.maxDelayMs / 1000).default(0),
  retries: z.number().int().min(0).max(LIMITS.maxRetries).optional(),
  timeout: z.number().min(0.001, 'must be at least 0.001 (one millisecond)').max(LIMITS.maxTimeoutMs / 1000).optional(),
  affinity: z.union([z.boolean(), z.literal('required')]).default(false),
  env: z.record(z.string(), scalar).default({}),
  /** The concurrency key the job holds while it runs: `{key, limit}`. */
  concurrency: ConcurrencySchema.optional(),
  /** The rate limit each start draws from: `{key, limit, per, burst}`. */
  rate_limit: RateLimitSchema.optional(),
  secrets: z.array(SecretNameSchema).max(LIMITS.maxSecretsPerJob).optional(),
}).superRefine((job, ctx) => {
  if (job.type === 'approval' && job.secrets !== undefined) ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'is not allowed on an approval gate (it runs nothing)' });
  if (job.type !== 'approval' && job.file === undefined) ctx.addIssue({ code: 'custom', path: ['file'], message: `is required for a ${job.type} job` });
  if (job.type !== 'service') {
    for (const key of ['port', 'readiness', 'ready_timeout', 'restart', 'crash_loop_limit'] as const) {
      if (job[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'applies only to a job of type "service"' });
    }
  }
  if (job.type === 'service' && job.timeout !== undefined) ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'does not apply to a service (it runs until stopped); use ready_timeout' });
  if (job.type === 'approval' && job.file !== undefined) ctx.addIssue({ code: 'custom', path: ['file'], message: 'is not allowed on an approval gate (it runs no script)' });
});

/** `schedule: "<cron>"` (UTC), or a mapping with cron, timezone, overlap and missed. */
const ScheduleYamlSchema = z.unknown().transform((value, ctx): ScheduleSpec => {
  if (typeof value !== 'string' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    ctx.addIssue({ code: 'custom', message: 'is a cron expression such as "0 9 * * *", or a mapping with cron, timezone, overlap and missed' });
    return z.NEVER;
  }
  // Chosen by the value's type (not a union), so the issues keep their paths: a bad field of the
  // mapping is reported at that field.
  const parsed = ScheduleSpecSchema.safeParse(typeof value === 'string' ? { cron: value } : value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: typeof value === 'string' ? [] : issue.path } as z.core.$ZodRawIssue);
  return z.NEVER;
});

/** A YAML duration: seconds as a number (as `delay` and `timeout`), or text such as `30s` or `1m30s`. */
const DurationYamlSchema = z.unknown().transform((value, ctx): number => {
  const ms = typeof value === 'number' && value >= 0 ? Math.round(value * 1000) : typeof value === 'string' ? parseDurationMs(value) : null;
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: value === undefined ? 'is required' : `is not a duration: ${DURATION_RULE} (or a number of seconds)` });
    return z.NEVER;
  }
  return ms;
});

/** `debounce: {key, wait}`: the run waits `wait` for a newer submission of `key` that replaces it. */
const DebounceMapSchema = z.strictObject({ key: FlowKeyTemplateSchema, wait: DurationYamlSchema }).transform(({ key, wait }, ctx): Debounce => {
  const parsed = DebounceSchema.safeParse({ key, waitMs: wait });
  if (parsed.success) return parsed.data;
  ctx.addIssue({ code: 'custom', path: ['wait'], message: `must be between 1ms and ${DEBOUNCE_WAIT_MAX_MS / 3_600_000}h` });
  return z.NEVER;
});

/** The mapping, or `debounce: 30s` alone: keyed by the pipeline's name. */
const DebounceYamlSchema = z.unknown().transform((value, ctx): Debounce => {
  const shorthand = typeof value === 'string' || typeof value === 'number';
  const parsed = DebounceMapSchema.safeParse(shorthand ? { key: '{name}', wait: value } : value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: shorthand ? [] : issue.path } as z.core.$ZodRawIssue);
  return z.NEVER;
});

const PipelineSchema = z.strictObject({
  name: z.string().min(1).max(LIMITS.maxNameLength).default('pipeline'),
  version: z.union([z.string(), z.number()]).optional(),
  /** true: the pipeline's folder is zipped and uploaded once, and each job runs its file from the zip. */
  project: z.boolean().default(false),
  /** Labels of the run, for finding it again (`titan runs --tag`). */
  tags: z.array(TagSchema).max(32).optional(),
  /** The group the run's jobs take turns in within a priority, and its weight. */
  fairness: FairnessSchema.optional(),
  jobs: z.array(JobYamlSchema).min(1, 'a pipeline needs at least one job'),
  schedule: ScheduleYamlSchema.optional(),
  /** While an unfinished run holds this key, submitting the pipeline again starts no second run. */
  singleton: FlowKeyTemplateSchema.optional(),
  debounce: DebounceYamlSchema.optional(),
  /** URLs POSTed when the run fails, succeeds or a gate opens. */
  on: NotifyTargetsSchema.optional(),
});

const KNOWN_KEYS = [
  ...new Set([
    ...Object.keys(PipelineSchema.shape),
    ...Object.keys(JobYamlSchema.shape),
    ...Object.keys(ScheduleSpecSchema.shape),
    ...Object.keys(RateLimitSchema.shape),
    ...Object.keys(FairnessSchema.shape),
    ...Object.keys(NotifyTargetsSchema.shape),
    'key',
    'wait',
  ]),
];

/** A job's flow settings: an error inside one also names the job by its id, not only its index. */
const FLOW_FIELDS: readonly unknown[] = ['concurrency', 'rate_limit'];

/** A parsed pipeline with what a reader of its files needs to place errors and name a project zip. */
export interface PipelineYamlSource {
  doc: PipelineDoc;
  /** Whether the YAML names the pipeline; otherwise `doc.name` is the default "pipeline". */
  named: boolean;
  /** `path:line:column` of the `project` value (the path alone when it is absent). */
  projectAt: string;
  /** For each of `doc.jobs`, its index in the YAML's `jobs` list; null for an injected gate. */
  yamlIndex: (number | null)[];
}

/**
 * Refuses flow collections nested deeper than MAX_YAML_NESTING in one linear pass of the lexer,
 * before the parser (whose work and stack grow with the depth) sees them.
 */
function checkNesting(text: string, path: string): void {
  let depth = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++depth > MAX_YAML_NESTING) {
        const line = text.slice(0, offset).split('\n').length;
        throw new PipelineYamlError(`${path}:${line}: collections are nested more than ${MAX_YAML_NESTING} deep`);
      }
    } else if (token === ']' || token === '}') depth = Math.max(0, depth - 1);
    // The lexer's markers (document start, scalar, flow end) are one control character not in the text.
    if (!(token.length === 1 && token < ' ' && token !== '\n' && token !== '\t')) offset += token.length;
  }
}

/** Parses and validates pipeline text; `path` only names it in errors. Throws PipelineYamlError. */
export function parsePipelineYaml(text: string, path: string): PipelineDoc {
  return readPipelineYaml(text, path).doc;
}

/** parsePipelineYaml, with the positions a caller that reads the files needs. */
export function readPipelineYaml(text: string, path: string): PipelineYamlSource {
  if (text.length > MAX_PIPELINE_YAML) throw new PipelineYamlError(`${path}: a pipeline file is limited to 4 MiB`);
  checkNesting(text, path);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return path;
    const { line, col } = lines.linePos(offset);
    return `${path}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new PipelineYamlError(`${at(e?.pos[0])}: invalid YAML: ${e?.message.split('\n')[0]}`);
  }
  if (!isMap(doc.contents)) throw new PipelineYamlError(`${path}: a pipeline is a mapping with "name" and "jobs"`);
  const parsed = PipelineSchema.safeParse(expand(doc, path, at));
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const node = doc.getIn(issue.path as (string | number)[], true) as { range?: [number, number, number] } | undefined;
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] as string;
      const keyNode = doc.getIn([...(issue.path as (string | number)[])], true) as { items?: { key: { value?: unknown; range?: [number, number, number] } }[] } | undefined;
      const item = keyNode?.items?.find((i) => i.key.value === key);
      const hint = nearest(key, KNOWN_KEYS);
      const where = at(item?.key.range?.[0] ?? node?.range?.[0]);
      const inside = FLOW_FIELDS.includes(issue.path[2]) ? ` in "${issue.path.join('.')}"${jobNote(doc, issue.path)}` : '';
      throw new PipelineYamlError(`${where}: unknown key "${key}"${inside}${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
    const name = issue.path.length > 0 ? `"${issue.path.join('.')}"${FLOW_FIELDS.includes(issue.path[2]) ? jobNote(doc, issue.path) : ''}` : 'pipeline';
    if (issue.code === 'invalid_type' && node === undefined) message = 'is required';
    throw new PipelineYamlError(`${at(node?.range?.[0])}: ${name} ${message}`);
  }
  const p = parsed.data;
  const locate = (keys: (string | number)[]): string => at((doc.getIn(keys, true) as { range?: [number, number, number] } | undefined)?.range?.[0]);
  const gateWait = (j: { max_wait_seconds?: number | undefined }): number => (j.max_wait_seconds === undefined ? DEFAULT_GATE_WAIT_MS : Math.round(j.max_wait_seconds * 1000));
  const jobs: PipelineJob[] = p.jobs.map((j, i) =>
    j.type === 'approval'
      ? {
          id: j.id,
          kind: 'approval',
          ...((j.message ?? j.hitl_message) !== undefined && { message: j.message ?? j.hitl_message }),
          dependsOn: j.depends_on,
          delayMs: Math.round(j.delay * 1000),
          timeoutMs: j.timeout !== undefined ? Math.round(j.timeout * 1000) : gateWait(j),
          ...flowOf(j),
        }
      : {
          id: j.id,
          ...(j.type === 'service' && {
            kind: 'service' as const,
            service: {
              ...(j.port !== undefined && { port: j.port }),
              ...(j.readiness !== undefined && { readiness: j.readiness }),
              ...(j.ready_timeout !== undefined && { readyTimeoutMs: Math.round(j.ready_timeout * 1000) }),
              ...(j.restart !== undefined && { restart: j.restart }),
              ...(j.crash_loop_limit !== undefined && { crashLoopLimit: j.crash_loop_limit }),
            },
          }),
          file: j.file as string,
          fileAt: locate(['jobs', i, 'file']),
          args: j.args,
          dependsOn: j.depends_on,
          requirement: j.requirement ?? DEFAULT_CAPABILITY,
          priority: j.priority,
          delayMs: Math.round(j.delay * 1000),
          ...(j.retries !== undefined && { retries: j.retries }),
          ...(j.timeout !== undefined && { timeoutMs: Math.round(j.timeout * 1000) }),
          affinity: j.affinity === 'required' ? 'required' : j.affinity ? 'soft' : 'none',
          env: j.env,
          ...flowOf(j),
          ...(j.secrets !== undefined && { secrets: j.secrets }),
        },
  );
  const gated = new Map(p.jobs.filter((j) => j.type === 'run' && j.hitl_message !== undefined).map((j) => [j.id, j]));
  const withGates = injectGates(jobs, (job): PipelineJob | null => {
    const source = gated.get(job.id);
    return source ? { id: gateIdFor(job.id), kind: 'approval', message: source.hitl_message as string, timeoutMs: gateWait(source) } : null;
  });
  // injectGates puts each gate right after its job.
  const yamlIndex: (number | null)[] = [];
  p.jobs.forEach((j, i) => {
    yamlIndex.push(i);
    if (gated.has(j.id)) yamlIndex.push(null);
  });
  return {
    doc: {
      name: p.name,
      tags: p.tags ?? [],
      ...(p.fairness !== undefined && { fairness: p.fairness }),
      ...(p.schedule !== undefined && { schedule: p.schedule }),
      ...(p.singleton !== undefined && { singleton: p.singleton }),
      ...(p.debounce !== undefined && { debounce: p.debounce }),
      ...(p.on !== undefined && { on: p.on }),
      project: p.project,
      jobs: withGates,
    },
    named: doc.has('name'),
    projectAt: locate(['project']),
    yamlIndex,
  };
}

/**
 * A job's flow settings as the JobSpec names them. A gate's are passed on too, so that the one
 * rule about them (core/model.ts: a gate starts nothing) refuses them at submission.
 */
function flowOf(j: Pick<z.output<typeof JobYamlSchema>, 'concurrency' | 'rate_limit'>): Pick<PipelineJob, 'concurrency' | 'rateLimit'> {
  return { ...(j.concurrency !== undefined && { concurrency: j.concurrency }), ...(j.rate_limit !== undefined && { rateLimit: j.rate_limit }) };
}

/** ` (job "id")` for an issue at `jobs.N...`, when that job has an id to name. */
function jobNote(doc: Document, path: readonly PropertyKey[]): string {
  const id = doc.getIn(['jobs', path[1] as number, 'id']);
  return typeof id === 'string' || typeof id === 'number' ? ` (job "${id}")` : '';
}

/** The document as plain values, refusing aliases that would expand past MAX_YAML_ALIAS_COPIES. */
function expand(doc: Document, path: string, at: (offset: number | undefined) => string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COPIES });
  } catch (err) {
    // The yaml library refuses alias resolution (too many copies) with a ReferenceError.
    if (!(err instanceof ReferenceError)) throw err;
    let first: number | undefined;
    visit(doc, {
      Alias(_key, node) {
        first = node.range?.[0];
        return visit.BREAK;
      },
    });
    throw new PipelineYamlError(`${first === undefined ? path : at(first)}: the aliases (*name) expand to more than ${MAX_YAML_ALIAS_COPIES} copies of their anchors (nested anchors multiply); write the values out instead`);
  }
}

/** The known key within edit distance 2, if any. */
function nearest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length] as number;
}
