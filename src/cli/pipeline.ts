/**
 * Pipeline YAML in Titan's shape (`name`, `project`, `jobs` with `id`, `file`, `type`, `args`,
 * `depends_on`, `requirement`, `priority`, `delay` in seconds, `port`) plus `retries`, `timeout`
 * (seconds), `env` and a service's `readiness`, `ready_timeout`, `restart` and `crash_loop_limit`. Errors name the file, line and column, and suggest the nearest key for a typo.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { CapabilitySchema, IdSchema, LIMITS, ReadinessSchema, RESTART_POLICIES } from '../core/model.js';
import { gateIdFor, injectGates } from '../core/gates.js';
import type { JobInput, RunInput } from '../sdk/client.js';
import { UsageError } from './connection.js';

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
  args: z.array(scalar).max(LIMITS.maxArgs).default([]),
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

const PipelineSchema = z.strictObject({
  name: z.string().min(1).max(LIMITS.maxNameLength).default('pipeline'),
  version: z.union([z.string(), z.number()]).optional(),
  project: z.literal(false, { message: 'project mode (uploading the whole folder) is not available yet; set "project: false" to send each file' }).default(false),
  jobs: z.array(JobYamlSchema).min(1, 'a pipeline needs at least one job'),
});

const KNOWN_KEYS = [...Object.keys(PipelineSchema.shape), ...Object.keys(JobYamlSchema.shape)];

/** A pipeline file that cannot be used: bad command-line input as far as the exit code goes. */
export class PipelineError extends UsageError {}

export function loadPipeline(path: string): RunInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PipelineError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const pipeline = parsePipeline(text, path);
  for (const job of pipeline.jobs) {
    if (typeof job.script === 'string' && !existsSync(job.script)) throw new PipelineError(`${path}: job "${job.id}": cannot read ${job.script}: no such file`);
  }
  return pipeline;
}

export function parsePipeline(text: string, path: string): RunInput {
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
      script: resolve(base, j.file as string),
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
    jobs: injectGates(jobs, (job): JobInput | null => {
      const source = gated.get(job.id);
      return source ? { id: gateIdFor(job.id), kind: 'approval', message: source.hitl_message as string, timeoutMs: gateWait(source) } : null;
    }),
  };
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
