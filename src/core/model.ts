/**
 * The one definition of a job, a run and their statuses, shared by protocol, core, store, SDK
 * and CLI. Schemas validate every input that crosses a boundary; the inferred types are the
 * contract everywhere else.
 */
import { z } from 'zod';
import { DEFAULT_CAPABILITY, DEFAULT_GATE_WAIT_MS, DEFAULT_PRIORITY, DEFAULT_RETRIES } from './defaults.js';
import { CAPABILITY_PATTERN, CAPABILITY_RULE_TEXT, ENV_NAME_PATTERN, ID_PATTERN, ID_RULE_TEXT, TAG_PATTERN, TAG_RULE_TEXT } from './names.js';
import type { JobStatus, RunStatus } from './statuses.js';
import { hasNoNul, NUL_RULE } from './stored-text.js';
import { ConcurrencySchema, DebounceSchema, FairnessSchema, RateLimitSchema, type RunFlow } from './flow-spec.js';
import { FlowKeyTemplateSchema } from './flow-keys.js';
import { NotifyTargetsSchema, type NotifyTargets } from './notify-spec.js';

export { isTerminal, JOB_STATUSES, type JobStatus, RUN_STATUSES, type RunStatus, TERMINAL_JOB_STATUSES } from './statuses.js';

export const LIMITS = {
  maxJobsPerRun: 100_000,
  maxIdLength: 128,
  maxArgs: 256,
  maxArgLength: 8192,
  maxEnvEntries: 128,
  maxScriptBytes: 8 * 1024 * 1024,
  /** Scripts and archives (project folders) alike. */
  maxBlobBytes: 256 * 1024 * 1024,
  maxRetries: 100,
  maxDelayMs: 366 * 24 * 3600 * 1000,
  maxTimeoutMs: 30 * 24 * 3600 * 1000,
  maxNameLength: 200,
  /** Secrets one job may declare. */
  maxSecretsPerJob: 64,
} as const;

export { DEFAULT_CAPABILITY, DEFAULT_GATE_WAIT_MS, DEFAULT_PRIORITY, DEFAULT_RETRIES } from './defaults.js';

/** Ids appear in file paths and in `runId/jobId` references, so they are a safe, small alphabet. */
export const IdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.maxIdLength, `must be at most ${LIMITS.maxIdLength} characters`)
  .regex(ID_PATTERN, ID_RULE_TEXT);

export const CapabilitySchema = z
  .string()
  .min(1)
  .max(64)
  .regex(CAPABILITY_PATTERN, CAPABILITY_RULE_TEXT);

export const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');

/** A script file carried with a submission: its name (for the interpreter choice) and content hash. */
export const ScriptRefSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(255)
    .refine((n) => !n.includes('/') && !n.includes('\\') && n !== '.' && n !== '..' && !n.includes('\0'), 'a script name is a bare file name'),
  sha256: Sha256Schema,
});
export type ScriptRef = z.infer<typeof ScriptRefSchema>;

/** A relative path inside an archive: no empty, `.` or `..` segment, no backslash or NUL. */
export const ArchiveEntrySchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.includes('\\') && !p.includes('\0') && p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..'), 'an archive entry is a relative path inside the archive, without "..", "." or empty segments');

/**
 * A zip archive carried with a submission (Titan's `proj.zip/src/main.py` pointers): the archive
 * by name and content hash, and the entry to run. The worker unpacks it for each attempt and runs
 * the entry from the entry's folder.
 */
export const ArchiveRefSchema = z.strictObject({
  name: ScriptRefSchema.shape.name,
  sha256: Sha256Schema,
  entry: ArchiveEntrySchema,
});
export type ArchiveRef = z.infer<typeof ArchiveRefSchema>;

/**
 * A secret's name: the environment variable a job that declares it receives it as. TITAN_ names
 * are the worker's own, so no secret may take one.
 */
export const SecretNameSchema = z
  .string()
  .max(LIMITS.maxIdLength)
  .regex(ENV_NAME_PATTERN, 'a secret is named like an environment variable: letters, digits and "_", not starting with a digit')
  .refine((n) => !n.toUpperCase().startsWith('TITAN_'), 'TITAN_ variables are set by the worker; choose another name');

export const AffinitySchema = z.enum(['none', 'soft', 'required']);
export type Affinity = z.infer<typeof AffinitySchema>;

/** Arguments and environment values reach execve, which cannot carry a NUL byte. */
const ExecStringSchema = z
  .string()
  .max(LIMITS.maxArgLength)
  .refine((v) => !v.includes('\0'), 'must not contain a NUL byte');

/**
 * `run` executes a script on a worker until it exits; `service` keeps one running (restarting it
 * by its policy) and releases its dependents once it is ready; `approval` is a gate the master
 * holds until a person decides.
 */
export const JobKindSchema = z.enum(['run', 'service', 'approval']);
export type JobKind = z.infer<typeof JobKindSchema>;

export const RESTART_POLICIES = ['always', 'on-failure', 'never'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

/**
 * How a service is probed before its dependents start: a TCP connect to its port, an HTTP GET of
 * a path (any status below 500 counts), or not at all (ready once started).
 */
export const ReadinessSchema = z.union([
  z.literal('tcp'),
  z.literal('none'),
  z
    .string()
    .max(1024)
    .regex(/^\/[\x21-\x7e]*$/, 'an HTTP readiness path starts with "/" and has no spaces or control characters'),
]);
export type Readiness = z.infer<typeof ReadinessSchema>;

export const ServiceSpecSchema = z.strictObject({
  /** A fixed port; without one the worker assigns a free port from the master's service range. */
  port: z.number().int().min(1).max(65535).optional(),
  readiness: ReadinessSchema.default('tcp'),
  readyTimeoutMs: z.number().int().positive().max(LIMITS.maxTimeoutMs).default(60_000),
  restart: z.enum(RESTART_POLICIES).default('always'),
  /** Consecutive crashes (exits without having stayed up) after which the service is given up. */
  crashLoopLimit: z.number().int().min(1).max(LIMITS.maxRetries).default(5),
});
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;

/** A service job's live facts, kept with the job so they survive a master restart. */
export interface ServiceState {
  /** The port of the current (or last) attempt; null until a worker has started it. */
  port: number | null;
  /** Process (group) id on its worker. */
  pid: number | null;
  /** When the current attempt became ready ("up since"); null while starting or down. */
  readyAt: number | null;
  /** True once the service was first ready and its dependents were released. */
  released: boolean;
  /** Restarts so far, whatever their cause. */
  restarts: number;
  /** Crashes since the service last stayed up; reaching the spec's crashLoopLimit gives up. */
  crashes: number;
}

export const JobSpecSchema = z
  .strictObject({
  id: IdSchema,
  kind: JobKindSchema.default('run'),
  /** What a `run` or `service` job executes: a script, or an entry of an archive. Gates have neither. */
  script: ScriptRefSchema.optional(),
  archive: ArchiveRefSchema.optional(),
  /** Port, readiness and restart policy of a `service` job (defaults apply when omitted). */
  service: ServiceSpecSchema.optional(),
  /** What an approval gate asks the person who decides. */
  message: z.string().max(4096).optional(),
  args: z.array(ExecStringSchema).max(LIMITS.maxArgs).default([]),
  dependsOn: z.array(IdSchema).max(LIMITS.maxJobsPerRun).default([]),
  requirement: CapabilitySchema.default(DEFAULT_CAPABILITY),
  priority: z.number().int().min(-1_000_000).max(1_000_000).default(DEFAULT_PRIORITY),
  delayMs: z.number().int().min(0).max(LIMITS.maxDelayMs).default(0),
  retries: z.number().int().min(0).max(LIMITS.maxRetries).default(DEFAULT_RETRIES),
  timeoutMs: z.number().int().positive().max(LIMITS.maxTimeoutMs).optional(),
  affinity: AffinitySchema.default('none'),
  env: z
    .record(z.string().regex(ENV_NAME_PATTERN, 'environment names are identifiers'), ExecStringSchema)
    .refine((e) => Object.keys(e).length <= LIMITS.maxEnvEntries, `at most ${LIMITS.maxEnvEntries} environment entries`)
    .default({}),
  /** The concurrency key the job holds while it runs (flow-spec.ts). */
  concurrency: ConcurrencySchema.optional(),
  /** The rate limit each attempt's start draws from. */
  rateLimit: RateLimitSchema.optional(),
  /** Secrets the job receives as environment variables at dispatch (never stored with the job: only their names). */
  secrets: z.array(SecretNameSchema).max(LIMITS.maxSecretsPerJob).optional(),
  /** A JSON document the run was started with (a trigger's request body), staged on the worker like a script; its path is TITAN_TRIGGER_PAYLOAD. */
  payload: ScriptRefSchema.optional(),
  })
  .superRefine((job, ctx) => {
    if (job.kind !== 'approval' && !job.script === !job.archive) ctx.addIssue({ code: 'custom', path: ['script'], message: `a ${job.kind} job needs a script or an archive entry (one of them)` });
    if (job.kind === 'approval' && job.archive) ctx.addIssue({ code: 'custom', path: ['archive'], message: 'an approval gate runs no archive' });
    if (job.kind !== 'service' && job.service) ctx.addIssue({ code: 'custom', path: ['service'], message: 'service settings belong to a job of kind "service"' });
    if (job.kind === 'service' && job.timeoutMs !== undefined) ctx.addIssue({ code: 'custom', path: ['timeoutMs'], message: 'a service runs until it is stopped; limit its start-up with service.readyTimeoutMs instead' });
    if (job.kind === 'approval' && job.script) ctx.addIssue({ code: 'custom', path: ['script'], message: 'an approval gate runs no script' });
    if (job.kind === 'approval' && job.payload) ctx.addIssue({ code: 'custom', path: ['payload'], message: 'an approval gate runs nothing, so it reads no payload' });
    if (job.kind === 'approval' && job.secrets?.length) ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'an approval gate runs nothing, so it receives no secrets' });
    for (const name of job.secrets ?? []) {
      if (Object.hasOwn(job.env, name)) ctx.addIssue({ code: 'custom', path: ['secrets'], message: `${name} is both a secret and a plain environment variable of the job; keep it in one place` });
    }
    for (const field of ['concurrency', 'rateLimit'] as const) {
      if (job.kind === 'approval' && job[field]) ctx.addIssue({ code: 'custom', path: [field], message: 'an approval gate starts nothing, so it holds no concurrency key or rate limit' });
    }
  })
  // A gate's timeout is how long it waits for a decision; a run job without one has no limit.
  .transform((job) => (job.kind === 'approval' && job.timeoutMs === undefined ? { ...job, timeoutMs: DEFAULT_GATE_WAIT_MS } : job));
export type JobSpec = z.infer<typeof JobSpecSchema>;
export type JobSpecInput = z.input<typeof JobSpecSchema>;

export const TagSchema = z.string().min(1).max(64).regex(TAG_PATTERN, TAG_RULE_TEXT);

export const RunSpecSchema = z.strictObject({
  name: z.string().min(1).max(LIMITS.maxNameLength).refine(hasNoNul, `a run's name ${NUL_RULE}`).default('run'),
  agentRunId: IdSchema.optional(),
  /** Labels for finding runs again (`titan runs --tag`). */
  tags: z.array(TagSchema).max(32).default([]),
  /** The group the run's jobs take turns in within a priority; by default the run itself. */
  fairness: FairnessSchema.optional(),
  /** While an unfinished run holds this key, submitting again answers with that run (core/run-once.ts). */
  singleton: FlowKeyTemplateSchema.optional(),
  /** Coalesces a burst of submissions of one key into the last one (core/run-once.ts). */
  debounce: DebounceSchema.optional(),
  /** Where the run's events are POSTed (core/notify-spec.ts), besides the cluster's own URLs. */
  on: NotifyTargetsSchema.optional(),
  jobs: z.array(JobSpecSchema).min(1, 'a run needs at least one job').max(LIMITS.maxJobsPerRun),
});
export type RunSpec = z.infer<typeof RunSpecSchema>;
export type RunSpecInput = z.input<typeof RunSpecSchema>;

/** A job inside a run, as the master keeps and stores it. */
export interface JobRecord {
  runId: string;
  spec: JobSpec;
  status: JobStatus;
  /** Number of attempts started so far; the current attempt when RUNNING. */
  attempt: number;
  /** Epoch ms before which the job must not be queued (delay or retry backoff), or null. */
  notBefore: number | null;
  workerId: string | null;
  exitCode: number | null;
  error: string | null;
  createdAt: number;
  /** When the job last entered the workers' queue (ready, or ready again after a backoff), or null. */
  queuedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** Null for jobs that are not services. */
  service: ServiceState | null;
  /** Attempts used before a person last retried the job: its retry budget counts from there. */
  retryBase: number;
  /**
   * Attempts since then that the infrastructure lost (worker died, dispatch never delivered,
   * handed back by a drain): they spend no retry, only the separate lost-attempt budget.
   */
  lost: number;
  /** The job of the same run that added this one at runtime (its own token called run.extend). */
  addedBy?: string;
}

/** Several runs grouped by the `agentRunId` they were submitted with. */
export interface AgentRunSummary {
  agentRunId: string;
  runs: number;
  /** Runs not yet finished. */
  active: number;
  firstAt: number;
  lastAt: number;
}

export interface RunRecord {
  runId: string;
  name: string;
  agentRunId: string | null;
  status: RunStatus;
  createdAt: number;
  finishedAt: number | null;
  tags: string[];
  /** The client's id for the submission that created the run, when it gave one. */
  requestId?: string;
  /** The run whose job submitted this one (with its job token): that job may act on this run too. */
  startedBy?: string;
  /** Flow settings of the run itself (fairness group, singleton, debounce window), keys resolved. */
  flow?: RunFlow;
  /** The run's own notification URLs (RunSpec.on), kept so that a restart still sends them. */
  notify?: NotifyTargets;
}

/** A decision on an approval gate: by a person, or by the clock when the gate times out. */
export interface GateDecision {
  runId: string;
  jobId: string;
  approved: boolean;
  by: string;
  comment: string | null;
  at: number;
  reason: 'decided' | 'timeout';
}

export type AttemptOutcome = 'COMPLETED' | 'FAILED' | 'LOST' | 'CANCELLED' | 'TIMED_OUT';

export interface AttemptRecord {
  runId: string;
  jobId: string;
  attempt: number;
  workerId: string;
  /** When the job entered the queue for this attempt (null when not recorded). */
  queuedAt: number | null;
  /** When the master dispatched the attempt to its worker. */
  startedAt: number;
  /** When the process started after staging, as the worker reports it (null when unknown). */
  runningAt: number | null;
  finishedAt: number | null;
  outcome: AttemptOutcome | null;
  exitCode: number | null;
  error: string | null;
}

/** A reference to a job: `runId/jobId`, or a bare `jobId` meaning the latest run that has it. */
export interface JobRef {
  runId: string | null;
  jobId: string;
}

export function parseJobRef(text: string): JobRef {
  const slash = text.indexOf('/');
  if (slash < 0) return { runId: null, jobId: text };
  return { runId: text.slice(0, slash), jobId: text.slice(slash + 1) };
}

/** The canonical job ref of a job: `runId/jobId`. */
export const jobRef = (runId: string, jobId: string): string => `${runId}/${jobId}`;

/** Worker identity and capacity, as a worker announces it. */
export const WorkerInfoSchema = z.strictObject({
  host: z.string().min(1).max(255).regex(/^[A-Za-z0-9_.:-]+$/, 'a host name or address'),
  /** 0 asks the master to pick a free name on this host. */
  port: z.number().int().min(0).max(65535),
  capabilities: z.array(CapabilitySchema).min(1).max(32),
  slots: z.number().int().min(1).max(1024),
  permanent: z.boolean().default(false),
  pid: z.number().int().nonnegative().optional(),
  version: z.string().max(64).optional(),
  /** Set on an ephemeral worker the autoscaler started: the id of the permanent worker that spawned it. */
  spawnedBy: z.string().min(1).max(300).optional(),
});
export type WorkerInfo = z.infer<typeof WorkerInfoSchema>;

export const workerIdOf = (w: Pick<WorkerInfo, 'host' | 'port'>): string => `${w.host}:${w.port}`;

/** A worker as the master sees it: taking work, draining (taking none), or gone and awaited back. */
export type WorkerState = 'connected' | 'draining' | 'disconnected';
