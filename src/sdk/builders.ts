/**
 * Job builders: typed helpers that read like the pipeline they describe.
 *
 *   const run = await client.submit({
 *     name: 'train',
 *     jobs: [
 *       job('prep', 'prep.py'),
 *       job('train', 'train.py').args('--epochs', 3).after('prep').requires('GPU').retries(2).timeout('10m'),
 *       job('ask', 'ask.py').after('prep').concurrency('openai', 4).rateLimit('openai', 60, 'minute'),
 *       approval('ship', 'Ship the model?').after('train'),
 *       service('api', 'serve.py').port(8000).readiness('/health').after('ship'),
 *     ],
 *   });
 *
 * Each builder is turned into a plain JobInput by `toJob()`; `submit` and `extendRun` accept
 * builders and JobInputs alike. Every method returns the builder itself, so calls chain.
 */
import type { RatePeriod } from '../core/flow-spec.js';
import { DURATION_RULE, parseDurationMs } from '../core/durations.js';
import type { Affinity, Readiness, RestartPolicy } from '../core/model.js';
import type { ArchiveSource } from './archive-source.js';
import type { JobInput, JobLike, ScriptSource } from './client.js';
import { BadRequestError } from './errors.js';

/** Milliseconds, or text such as `500ms`, `30s`, `10m`, `2h`, `1d` or `1h30m`. */
export type Duration = number | string;

/** A duration in whole milliseconds; throws a BadRequestError for text it cannot read. */
export function durationMs(value: Duration): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new BadRequestError(`a duration must be a non-negative number of milliseconds, got ${value}`);
    return Math.round(value);
  }
  const ms = parseDurationMs(value);
  if (ms === null) throw new BadRequestError(`cannot read the duration "${value}": ${DURATION_RULE}`);
  return ms;
}

/** True for an archive source (a zip and an entry in it) rather than a script. */
function isArchive(source: ScriptSource | ArchiveSource): source is ArchiveSource {
  return typeof source === 'object' && 'entry' in source;
}

/** Anything that builds a job; `submit` and `extendRun` accept it in place of a JobInput. */
export type JobBuilderLike = Exclude<JobLike, JobInput>;

/** The settings run jobs, services and gates share. */
abstract class BaseBuilder implements JobBuilderLike {
  protected readonly spec: JobInput;

  protected constructor(spec: JobInput) {
    this.spec = spec;
  }

  /** Runs only after these jobs have completed (a service: once it is ready). Adds to earlier calls. */
  after(...parents: string[]): this {
    this.spec.dependsOn = [...(this.spec.dependsOn ?? []), ...parents];
    return this;
  }

  /** Waits this long after its parents completed (or after submission) before it is queued. */
  delay(duration: Duration): this {
    this.spec.delayMs = durationMs(duration);
    return this;
  }

  /** A plain JobInput (a copy), as `submit` sends it. */
  toJob(): JobInput {
    return structuredCloneJob(this.spec);
  }

  toJSON(): JobInput {
    return this.toJob();
  }
}

/** The settings of jobs that execute something on a worker (runs and services). */
abstract class WorkBuilder extends BaseBuilder {
  protected constructor(id: string, source: ScriptSource | ArchiveSource, kind: 'run' | 'service') {
    super({ id, ...(kind === 'service' && { kind }), ...(isArchive(source) ? { archive: source } : { script: source }) });
  }

  /** Command-line arguments, passed as they are (never split by a shell). Adds to earlier calls. */
  args(...args: (string | number | boolean)[]): this {
    this.spec.args = [...(this.spec.args ?? []), ...args.map(String)];
    return this;
  }

  /** The capability a worker must have (default DEFAULT_CAPABILITY, GENERAL), e.g. `GPU`. */
  requires(capability: string): this {
    this.spec.requirement = capability;
    return this;
  }

  /** Higher runs first (default DEFAULT_PRIORITY, 1). */
  priority(priority: number): this {
    this.spec.priority = priority;
    return this;
  }

  /** Retries after a failure (default DEFAULT_RETRIES, 3). */
  retries(retries: number): this {
    this.spec.retries = retries;
    return this;
  }

  /** Prefer (`true`, or `'soft'`) or insist on (`'required'`) the worker that ran the first parent. */
  affinity(mode: boolean | Affinity = true): this {
    this.spec.affinity = mode === true ? 'soft' : mode === false ? 'none' : mode;
    return this;
  }

  /**
   * Holds the concurrency key `key` while it runs: at most `limit` jobs holding it run at once,
   * cluster-wide (a limit set with `client.limits.set` wins). The key may be a template such as
   * `tenant-{tags.customer}`, filled in at submission.
   */
  concurrency(key: string, limit?: number): this {
    this.spec.concurrency = { key, ...(limit !== undefined && { limit }) };
    return this;
  }

  /** Each start draws a token from the bucket `key`: `limit` per `per` (the master's default: second), up to `burst` at once. */
  rateLimit(key: string, limit: number, per?: RatePeriod, burst?: number): this {
    this.spec.rateLimit = { key, limit, ...(per !== undefined && { per }), ...(burst !== undefined && { burst }) };
    return this;
  }

  /** Environment variables for the process; `env('K', 'v')` or `env({ K: 'v' })`. Adds to earlier calls. */
  env(name: string, value: string | number | boolean): this;
  env(vars: Record<string, string | number | boolean>): this;
  env(nameOrVars: string | Record<string, string | number | boolean>, value?: string | number | boolean): this {
    const add = typeof nameOrVars === 'string' ? { [nameOrVars]: value as string | number | boolean } : nameOrVars;
    this.spec.env = { ...this.spec.env, ...Object.fromEntries(Object.entries(add).map(([k, v]) => [k, String(v)])) };
    return this;
  }

  /**
   * Secrets of the cluster (`titan secrets set NAME`) the process receives as environment
   * variables of the same names; a submission naming one that does not exist is refused. Adds to earlier calls.
   */
  secrets(...names: string[]): this {
    this.spec.secrets = [...new Set([...(this.spec.secrets ?? []), ...names])];
    return this;
  }
}

/** A job that runs its script (or archive entry) to completion. */
export class JobBuilder extends WorkBuilder {
  constructor(id: string, source: ScriptSource | ArchiveSource) {
    super(id, source, 'run');
  }

  /** Killed (its whole process tree) when it runs longer than this; counts as a failure. */
  timeout(duration: Duration): this {
    this.spec.timeoutMs = durationMs(duration);
    return this;
  }
}

/** A service: kept running, restarted by its policy; its dependents start once it is ready. */
export class ServiceBuilder extends WorkBuilder {
  constructor(id: string, source: ScriptSource | ArchiveSource) {
    super(id, source, 'service');
    this.spec.service = {};
  }

  private get settings(): NonNullable<JobInput['service']> {
    return this.spec.service as NonNullable<JobInput['service']>;
  }

  /** A fixed port; without one the worker picks a free one. The process gets it as $PORT and `{port}` in its arguments. */
  port(port: number): this {
    this.settings.port = port;
    return this;
  }

  /** How readiness is probed: `'tcp'` (default), `'none'`, or an HTTP path such as `'/health'`. */
  readiness(probe: Readiness): this {
    this.settings.readiness = probe;
    return this;
  }

  /** How long it has to become ready (default 60 s); later counts as a crash. */
  readyTimeout(duration: Duration): this {
    this.settings.readyTimeoutMs = durationMs(duration);
    return this;
  }

  /** `'always'` (default), `'on-failure'` or `'never'`. */
  restart(policy: RestartPolicy): this {
    this.settings.restart = policy;
    return this;
  }

  /** Consecutive crashes after which it is given up (default 5). */
  crashLoopLimit(crashes: number): this {
    this.settings.crashLoopLimit = crashes;
    return this;
  }
}

/** An approval gate: held by the master until someone approves (its dependents run) or rejects. */
export class ApprovalBuilder extends BaseBuilder {
  constructor(id: string, message?: string) {
    super({ id, kind: 'approval', ...(message !== undefined && { message }) });
  }

  /** How long the gate waits for a decision (default DEFAULT_GATE_WAIT_MS, 48 h); then it fails and what follows is skipped. */
  timeout(duration: Duration): this {
    this.spec.timeoutMs = durationMs(duration);
    return this;
  }
}

/** A job running `source`: a script path, `{ name, content }`, or an archive `{ name, content | path, entry }`. */
export function job(id: string, source: ScriptSource | ArchiveSource): JobBuilder {
  return new JobBuilder(id, source);
}

/** A service running `source` (see `job`). */
export function service(id: string, source: ScriptSource | ArchiveSource): ServiceBuilder {
  return new ServiceBuilder(id, source);
}

/** An approval gate asking `message`. */
export function approval(id: string, message?: string): ApprovalBuilder {
  return new ApprovalBuilder(id, message);
}

/** A JobInput from a builder, or the JobInput itself. */
export function toJobInput(job: JobLike): JobInput {
  return 'toJob' in job ? job.toJob() : job;
}

/** Copies the arrays and objects a builder keeps changing; scripts and archive contents are shared, not copied. */
function structuredCloneJob(spec: JobInput): JobInput {
  return {
    ...spec,
    ...(spec.args && { args: [...spec.args] }),
    ...(spec.dependsOn && { dependsOn: [...spec.dependsOn] }),
    ...(spec.env && { env: { ...spec.env } }),
    ...(spec.secrets && { secrets: [...spec.secrets] }),
    ...(spec.service && { service: { ...spec.service } }),
    ...(spec.concurrency && { concurrency: { ...spec.concurrency } }),
    ...(spec.rateLimit && { rateLimit: { ...spec.rateLimit } }),
  };
}
