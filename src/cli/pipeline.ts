/**
 * Pipeline YAML in Titan's shape (`name`, `project`, `jobs` with `id`, `file`, `type`, `args`,
 * `depends_on`, `requirement`, `priority`, `delay` in seconds, `port`) plus `retries`, `timeout`
 * (seconds), `env` and a service's `readiness`, `ready_timeout`, `restart` and `crash_loop_limit`, and a
 * top-level `schedule` (cron) and `tags`. `args` may be Titan's string, split like a shell would; with
 * `project: true` the folder is zipped once and each job runs its file from the zip. Errors name the file, line and column, and suggest the nearest key for a typo.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { CapabilitySchema, IdSchema, LIMITS, ReadinessSchema, RESTART_POLICIES, TagSchema } from '../core/model.js';
import { gateIdFor, injectGates } from '../core/gates.js';
import { type ScheduleSpec, ScheduleSpecSchema } from '../core/schedule.js';
import type { ArchiveSource, JobInput, RunInput } from '../sdk/client.js';
import { UsageError } from './connection.js';
import { buildProjectZip, IGNORE_FILE, ProjectZipError } from './project-zip.js';
import { ShellWordsError, splitShellWords } from './shell-words.js';

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
  /** How long a gate waits for a decision (Titan's default: 48 hours). */
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
  priority: z.number().int().default(1),
  delay: z.number().min(0).max(LIMITS.maxDelayMs / 1000).default(0),
  retries: z.number().int().min(0).max(LIMITS.maxRetries).optional(),
  timeout: z.number().min(0.001, 'must be at least 0.001 (one millisecond)').max(LIMITS.maxTimeoutMs / 1000).optional(),
  affinity: z.union([z.boolean(), z.literal('required')]).default(false),
  env: z.record(z.string(), scalar).default({}),
}).superRefine((job, ctx) => {
  if (job.type !== 'approval' && job.file === undefined) ctx.addIssue({ code: 'custom', path: ['file'], message: `is required for a ${job.type} job` });
  if (job.type !== 'service') {
    for (const key of ['port', 'readiness', 'ready_timeout', 'restart', 'crash_loop_limit'] as const) {
      if (job[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'applies only to a job of type "service"' });
    }
  }
  if (job.type === 'service' && job.timeout !== undefined) ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'does not apply to a service (it runs until stopped); use ready_timeout' });
  if (job.type === 'approval' && job.file !== undefined) ctx.addIssue({ code: 'custom', path: ['file'], message: 'is not allowed on an approval gate (it runs no script)' });
});

/** Titan's default wait for a gate's decision. */
const DEFAULT_GATE_WAIT_S = 172_800;

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

/** A pipeline file: the run it describes and, when it has one, the schedule it is submitted on. */
export type Pipeline = RunInput & { schedule?: ScheduleSpec };

const PipelineSchema = z.strictObject({
  name: z.string().min(1).max(LIMITS.maxNameLength).default('pipeline'),
  version: z.union([z.string(), z.number()]).optional(),
  /** true: the pipeline's folder is zipped and uploaded once, and each job runs its file from the zip. */
  project: z.boolean().default(false),
  /** Labels of the run, for finding it again (`titan runs --tag`). */
  tags: z.array(TagSchema).max(32).optional(),
  jobs: z.array(JobYamlSchema).min(1, 'a pipeline needs at least one job'),
  schedule: ScheduleYamlSchema.optional(),
});

const KNOWN_KEYS = [...Object.keys(PipelineSchema.shape), ...Object.keys(JobYamlSchema.shape), ...Object.keys(ScheduleSpecSchema.shape)];

/** A pipeline file that cannot be used: bad command-line input as far as the exit code goes. */
export class PipelineError extends UsageError {}

/** Reads a pipeline file; in project mode its folder is zipped (see project-zip.ts). */
export function loadPipeline(path: string): Pipeline {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PipelineError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const pipeline = parsePipeline(text, path, { readProject: true });
  for (const job of pipeline.jobs) {
    if (typeof job.script === 'string' && !existsSync(job.script)) throw new PipelineError(`${path}: job "${job.id}": cannot read ${job.script}: no such file`);
  }
  return pipeline;
}

/**
 * Parses pipeline text; `path` places it (scripts are relative to its folder) and names it in
 * errors. `project: true` zips the folder, which only callers that pass `readProject` allow.
 */
export function parsePipeline(text: string, path: string, options: { readProject?: boolean } = {}): Pipeline {
  if (text.length > 4 * 1024 * 1024) throw new PipelineError(`${path}: a pipeline file is limited to 4 MiB`);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return path;
    const { line, col } = lines.linePos(offset);
    return `${path}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new PipelineError(`${at(e?.pos[0])}: invalid YAML: ${e?.message.split('\n')[0]}`);
  }
  if (!isMap(doc.contents)) throw new PipelineError(`${path}: a pipeline is a mapping with "name" and "jobs"`);
  const parsed = PipelineSchema.safeParse(doc.toJS());
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
      throw new PipelineError(`${where}: unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
    const name = issue.path.length > 0 ? `"${issue.path.join('.')}"` : 'pipeline';
    if (issue.code === 'invalid_type' && node === undefined) message = 'is required';
    throw new PipelineError(`${at(node?.range?.[0])}: ${name} ${message}`);
  }
  const base = dirname(resolve(path));
  const p = parsed.data;
  const locate = (keys: (string | number)[]): string => at((doc.getIn(keys, true) as { range?: [number, number, number] } | undefined)?.range?.[0]);
  if (p.project && !options.readProject) throw new PipelineError(`${locate(['project'])}: project mode zips the pipeline's folder, which is not read here; submit it with "titan submit", or set "project: false"`);
  const archives = p.project ? projectArchives(p.jobs, base, `${zipBaseName(doc.has('name') ? p.name : basename(base))}.zip`, locate) : null;
  const gateWait = (j: { max_wait_seconds?: number | undefined }): number => Math.round((j.max_wait_seconds ?? DEFAULT_GATE_WAIT_S) * 1000);
  const jobs: JobInput[] = p.jobs.map((j) =>
    j.type === 'approval'
      ? {
          id: j.id,
          kind: 'approval',
          ...((j.message ?? j.hitl_message) !== undefined && { message: j.message ?? j.hitl_message }),
          dependsOn: j.depends_on,
          delayMs: Math.round(j.delay * 1000),
          timeoutMs: j.timeout !== undefined ? Math.round(j.timeout * 1000) : gateWait(j),
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
      ...(archives ? { archive: archives.get(j.id) as ArchiveSource } : { script: resolve(base, j.file as string) }),
      args: j.args,
      dependsOn: j.depends_on,
      requirement: j.requirement ?? 'GENERAL',
      priority: j.priority,
      delayMs: Math.round(j.delay * 1000),
      ...(j.retries !== undefined && { retries: j.retries }),
      ...(j.timeout !== undefined && { timeoutMs: Math.round(j.timeout * 1000) }),
      affinity: j.affinity === 'required' ? 'required' : j.affinity ? 'soft' : 'none',
      env: j.env,
    },
  );
  const gated = new Map(p.jobs.filter((j) => j.type === 'run' && j.hitl_message !== undefined).map((j) => [j.id, j]));
  return {
    name: p.name,
    ...(p.tags !== undefined && { tags: p.tags }),
    ...(p.schedule !== undefined && { schedule: p.schedule }),
    jobs: injectGates(jobs, (job): JobInput | null => {
      const source = gated.get(job.id);
      return source ? { id: gateIdFor(job.id), kind: 'approval', message: source.hitl_message as string, timeoutMs: gateWait(source) } : null;
    }),
  };
}

/**
 * Project mode: zips `folder` once and gives each job that runs something the archive with its
 * `file` as entry: relative to the folder, `/`-separated, inside it, and present in the zip.
 */
function projectArchives(jobs: readonly { id: string; type: string; file?: string | undefined }[], folder: string, zipName: string, locate: (keys: (string | number)[]) => string): Map<string, ArchiveSource> {
  let zip: ReturnType<typeof buildProjectZip>;
  try {
    zip = buildProjectZip(folder);
  } catch (err) {
    if (err instanceof ProjectZipError) throw new PipelineError(`${locate(['project'])}: ${err.message}`);
    throw err;
  }
  const files = new Set(zip.files);
  const archives = new Map<string, ArchiveSource>();
  jobs.forEach((j, i) => {
    if (j.file === undefined) return;
    const where = `${locate(['jobs', i, 'file'])}: "jobs.${i}.file"`;
    const entry = posix.normalize(j.file.replace(/\\/g, '/'));
    if (entry.startsWith('/') || /^[A-Za-z]:/.test(entry) || entry === '.' || entry === '..' || entry.startsWith('../')) throw new PipelineError(`${where} must be a file inside the project folder ${folder}, got ${j.file}`);
    if (!files.has(entry)) {
      const why = existsSync(join(folder, entry)) ? `is left out of the project zip (by ${IGNORE_FILE}, or as .git, .env, node_modules or __pycache__, or as not a regular file)` : 'names no file in the project folder';
      throw new PipelineError(`${where} ${entry} ${why}`);
    }
    archives.set(j.id, { name: zipName, content: zip.content, entry });
  });
  return archives;
}

/** A pipeline (or folder) name as a bare zip file name: letters, digits, "_", "-" and ".". */
function zipBaseName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.-]+/, '').slice(0, 200) || 'project';
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
