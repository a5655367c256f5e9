/** A pipeline as the server parses it, or a past run, turned into a constructor model. Pure, unit-tested. */
import { DEFAULT_CAPABILITY, DEFAULT_PRIORITY, DEFAULT_RETRIES } from '../../../../src/core/defaults.ts';
import { type CEdge, type CNode, EMPTY_FIELDS, type Model, newKey, type NodeFields, type NodeKind } from './model.ts';

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
  secrets?: string[];
  message?: string;
  maxWaitMs?: number;
  service?: { port?: number };
  concurrency?: { key: string; limit?: number };
  rateLimit?: { key: string; limit: number; per?: string; burst?: number };
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
      secrets: (j.secrets ?? []).join(', '),
      message: j.message ?? '',
      maxWaitSeconds: j.maxWaitMs !== undefined ? String(j.maxWaitMs / 1000) : '',
      concurrencyKey: j.concurrency?.key ?? '',
      concurrencyLimit: j.concurrency?.limit !== undefined ? String(j.concurrency.limit) : '',
      rateKey: j.rateLimit?.key ?? '',
      rateLimit: j.rateLimit ? String(j.rateLimit.limit) : '',
      ratePer: j.rateLimit?.per ?? '',
      rateBurst: j.rateLimit?.burst !== undefined ? String(j.rateLimit.burst) : '',
    };
    return { key: keys.get(j.id) as string, id: j.id, kind, x: 0, y: 0, fields };
  });
  const edges: CEdge[] = [];
  for (const j of doc.jobs) for (const d of j.dependsOn ?? []) if (keys.has(d) && d !== j.id) edges.push({ source: keys.get(d) as string, target: keys.get(j.id) as string });
  const schedule = typeof doc.schedule === 'string' ? doc.schedule : (doc.schedule?.cron ?? '');
  return { name: doc.name ?? 'pipeline', tags: (doc.tags ?? []).join(', '), schedule, nodes, edges };
}

