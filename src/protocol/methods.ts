/**
 * The v2 methods and events: one schema for each request's parameters, one type for each result.
 * The server validates parameters with these schemas; the SDK and the worker are typed by them.
 */
import { z } from 'zod';
import type { AgentRunSummary, AttemptRecord, GateDecision, JobRecord, JobStatus, RestartPolicy, RunRecord, WorkerInfo, WorkerState } from '../core/model.js';
import { ArchiveRefSchema, CapabilitySchema, IdSchema, JobSpecSchema, LIMITS, ReadinessSchema, TagSchema, RunSpecSchema, ScriptRefSchema, Sha256Schema, WorkerInfoSchema } from '../core/model.js';
import type { ScalingPolicy } from '../core/autoscale.js';
import { ReportedFailureCodeSchema } from '../core/failure-codes.js';
import type { StepView } from '../core/steps.js';
import { MAX_PIPELINE_YAML, type PipelineDoc } from '../core/pipeline-yaml.js';
import { type DataBusResults, dataBusParams } from './data-bus-methods.js';
import { type ScheduleResults, scheduleParams } from './schedule-methods.js';
import { type FlowResults, flowParams } from './flow-methods.js';
import { type SecretResults, secretParams } from './secret-methods.js';
import { type StepResults, stepParams } from './step-methods.js';
import { type TriggerResults, triggerParams } from './trigger-methods.js';
import { type NotifyResults, notifyParams } from './notify-methods.js';
import { type AccessResults, accessParams } from './access-methods.js';
import { V1_MAX_PAYLOAD } from './frame-limits.js';
import { RunCursorSchema } from './run-cursor.js';
import { hasNoNul, NUL_RULE, scrubNul } from '../core/stored-text.js';

/** `runId/jobId` or a bare job id (latest run that has it). */
export const JobRefSchema = z.string().min(1).max(2 * LIMITS.maxIdLength + 1);

export const FileAreaSchema = z.enum(['uploads', 'scripts']);
export type FileAreaName = z.infer<typeof FileAreaSchema>;

export interface FileInfo {
  name: string;
  size: number;
  modifiedAt: number;
}

export const AttemptIdSchema = z.strictObject({ runId: IdSchema, jobId: IdSchema, attempt: z.number().int().positive() });
export type AttemptId = z.infer<typeof AttemptIdSchema>;

/** How messages name an attempt: `runId/jobId#attempt`. */
export const attemptName = (a: AttemptId): string => `${a.runId}/${a.jobId}#${a.attempt}`;

export const BLOB_CHUNK_BYTES = 1024 * 1024;

/** The most attempts one `worker.reclaim` lists (a worker holds its slots' attempts and their unacknowledged results). */
export const MAX_RECLAIM_ATTEMPTS = 10_000;

/** A client's name for one submission, kept with the run it created. */
export const RequestIdSchema = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'a request id is printable ASCII without spaces');

export const HelloSchema = z.strictObject({
  id: z.number().int().nonnegative(),
  token: z.string().max(512).optional(),
  role: z.enum(['client', 'worker']),
  versions: z.array(z.number().int()).min(1),
  worker: WorkerInfoSchema.optional(),
  /** A worker's own credential (`node.<name>.<mac>`), from an earlier HELLO's reply: it proves the worker's name. */
  credential: z
    .string()
    .max(400)
    .regex(/^node\.[A-Za-z0-9_.:-]+\.[A-Za-z0-9_-]+$/, 'a worker credential is node.<name>.<mac>, as the master gave it')
    .optional(),
});
export type Hello = z.infer<typeof HelloSchema>;

/**
 * In the UNAUTHORIZED refusal of a HELLO whose worker name belongs to a worker the master still
 * knows: a worker refused so retries (the name comes free once the master forgets the old one),
 * where a wrong token makes it stop.
 */
export const NAME_TAKEN = 'belongs to a live worker';

/** In a master's HELLO reply: its workers' log events may carry `stream` (older masters refuse the field). */
export const LOG_STREAM_FEATURE = 'log.stream';

export interface HelloResult {
  version: number;
  serverVersion: string;
  workerId?: string;
  /** The worker's credential for `workerId`: presented in its later HELLOs, it keeps the name the worker's own. */
  credential?: string;
  heartbeatMs?: number;
  /**
   * How long the master waits for a silent worker before it runs the worker's attempts elsewhere:
   * a worker cut off from the master for longer stops them (unless configured otherwise).
   */
  workerTimeoutMs?: number;
  /** What this master accepts beyond the base protocol: `log.stream`, a worker's log events may say which stream they came from. */
  features?: string[];
}

/**
 * How a worker reports an attempt that ended. `LOST` is an attempt the worker gives back
 * unfinished (its drain timeout ended while it ran): the master runs it again elsewhere without
 * spending one of the job's retries.
 */
export const FinishedAttemptSchema = AttemptIdSchema.extend({
  outcome: z.enum(['COMPLETED', 'FAILED', 'TIMED_OUT', 'LOST']),
  exitCode: z.number().int().nullable(),
  error: z.string().max(4096).transform(scrubNul).nullable(),
  errorCode: ReportedFailureCodeSchema.nullable(),
  /** Milliseconds from the dispatch's arrival to the process start (staging); absent when it never started. */
  stagedMs: z.number().int().nonnegative().max(2 ** 31).optional(),
});
export type FinishedAttempt = z.infer<typeof FinishedAttemptSchema>;

/** How long a draining worker lets running attempts finish before it hands them back. */
export const DrainTimeoutSchema = z.number().int().nonnegative().max(LIMITS.maxTimeoutMs);

export const params = {
  ...dataBusParams,
  ...scheduleParams,
  ...flowParams,
  ...secretParams,
  ...stepParams,
  ...triggerParams,
  ...notifyParams,
  ...accessParams,
  /**
   * `requestId` makes a retried submission safe: the same id returns the run the first one created
   * instead of creating a second.
   */
  submit: z.strictObject({ run: RunSpecSchema, requestId: RequestIdSchema.optional() }),
  'blob.missing': z.strictObject({ hashes: z.array(Sha256Schema).max(LIMITS.maxJobsPerRun) }),
  'blob.put': z.strictObject({
    sha256: Sha256Schema,
    offset: z.number().int().nonnegative(),
    data: z.string().max(Math.ceil((BLOB_CHUNK_BYTES * 4) / 3) + 4),
    final: z.boolean(),
  }),
  'blob.get': z.strictObject({ sha256: Sha256Schema, offset: z.number().int().nonnegative() }),
  'run.get': z.strictObject({ runId: IdSchema }),
  'run.cancel': z.strictObject({ runId: IdSchema }),
  /** Deletes a finished run with its logs and artifacts. */
  'run.delete': z.strictObject({ runId: IdSchema }),
  /** `jobs: false` watches only the run's own status (cheaper when only the end matters). */
  'run.watch': z.strictObject({ runId: IdSchema, jobs: z.boolean().default(true) }),
  /** Newest first, one page at a time: pass a page's `next` as `after` for the page that follows. */
  'runs.list': z.strictObject({
    limit: z.number().int().min(1).max(1000).default(50),
    status: z.enum(['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED']).optional(),
    tag: TagSchema.optional(),
    after: RunCursorSchema.optional(),
  }),
  'run.rerun': z.strictObject({ runId: IdSchema }),
  'job.retry': z.strictObject({ ref: JobRefSchema }),
  /**
   * A DAG in Titan's v1 line format (Titan's `dag` command), with inline scripts or archive
   * pointers into uploads; `requestId` as for `submit`.
   */
  'dag.submit': z.strictObject({ payload: z.string().min(1).max(V1_MAX_PAYLOAD), requestId: RequestIdSchema.optional() }),
  /** Pipeline YAML parsed and validated by the master, for clients without a YAML library; `path` only names it in errors. */
  'pipeline.parse': z.strictObject({ text: z.string().max(MAX_PIPELINE_YAML), path: z.string().min(1).max(1024).default('pipeline.yaml') }),
  'job.get': z.strictObject({ ref: JobRefSchema }),
  'job.cancel': z.strictObject({ ref: JobRefSchema }),
  'logs.get': z.strictObject({
    ref: JobRefSchema,
    attempt: z.number().int().positive().optional(),
    offset: z.number().int().nonnegative().default(0),
    limit: z.number().int().min(1).max(BLOB_CHUNK_BYTES).default(BLOB_CHUNK_BYTES),
  }),
  'logs.follow': z.strictObject({ ref: JobRefSchema }),
  unsubscribe: z.strictObject({ subscription: z.number().int().nonnegative() }),
  'workers.list': z.strictObject({}),
  'services.list': z.strictObject({}),
  /** Named files on the master: `uploads` (assets, project archives) and `scripts` (the script library). */
  'files.list': z.strictObject({ area: FileAreaSchema }),
  /** Stores an uploaded blob (see blob.put) under a name, replacing any file of that name. */
  'files.put': z.strictObject({ area: FileAreaSchema, name: ScriptRefSchema.shape.name, sha256: Sha256Schema }),
  'files.get': z.strictObject({ area: FileAreaSchema, name: ScriptRefSchema.shape.name, offset: z.number().int().nonnegative().default(0) }),
  /** The content hash of a named file, which is then also a blob (so a job can reference an uploaded archive). */
  'files.blob': z.strictObject({ area: FileAreaSchema, name: ScriptRefSchema.shape.name }),
  'service.stop': z.strictObject({ ref: JobRefSchema }),
  'worker.drain': z.strictObject({ id: z.string().min(1).max(300) }),
  /** Lets a drained worker take work again (not one that is shutting down). */
  'worker.undrain': z.strictObject({ id: z.string().min(1).max(300) }),
  /** `drainTimeoutMs` replaces the worker's own --drain-timeout for this shutdown. */
  'worker.shutdown': z.strictObject({ id: z.string().min(1).max(300), force: z.boolean().default(false), drainTimeoutMs: DrainTimeoutSchema.optional() }),
  stats: z.strictObject({}),
  'attempts.finished': z.strictObject({ results: z.array(FinishedAttemptSchema).min(1).max(10_000) }),
  /**
   * A worker's first request after HELLO: the attempts it still holds (running, or finished with a
   * result not yet acknowledged). Until it arrives the master sends the worker nothing new.
   */
  'worker.reclaim': z.strictObject({ running: z.array(AttemptIdSchema).max(MAX_RECLAIM_ATTEMPTS) }),
  'run.extend': z.strictObject({ runId: IdSchema, jobs: z.array(JobSpecSchema).min(1).max(LIMITS.maxJobsPerRun) }),
  'agentRuns.list': z.strictObject({ limit: z.number().int().min(1).max(1000).default(20) }),
  'agentRun.get': z.strictObject({ agentRunId: IdSchema }),
  'agentRun.watch': z.strictObject({ agentRunId: IdSchema }),
  'gates.list': z.strictObject({ history: z.number().int().min(0).max(1000).default(0) }),
  'gate.decide': z.strictObject({
    ref: JobRefSchema,
    approved: z.boolean(),
    /** Ignored: the decision records who the caller authenticated as. Accepted from older clients. */
    by: z.string().max(200).optional(),
    comment: z.string().max(4096).refine(hasNoNul, `a comment ${NUL_RULE}`).nullable().default(null),
  }),
} as const;

export type Method = keyof typeof params;
export type ParamsOf<M extends Method> = z.input<(typeof params)[M]>;

/** Methods only a worker session may call. */
export type WorkerMethod = 'attempts.finished' | 'blob.get' | 'worker.reclaim';
export const WORKER_METHODS: ReadonlySet<Method> = new Set<WorkerMethod>(['attempts.finished', 'blob.get', 'worker.reclaim']);

export interface JobView extends JobRecord {
  /** `runId/jobId`. */
  ref: string;
  /**
   * Why a job that is ready (or nearly) is not running, as the view was built, in a short
   * sentence: for a QUEUED job, the flow-control key or rate limit holding it back, or why no
   * worker takes it (no worker offers its capability, and which workers exist; its workers
   * draining or gone; all capable slots busy, with how many jobs are ahead of it in `job.get`
   * and for the first jobs of a run view) (core/waiting-reason.ts); for a PENDING job, its delay
   * or the parents it waits for (an open gate said so); for a FAILED job, when its retry starts
   * and which attempt it will be; for a service, when it restarts; for an open gate, that it
   * awaits a decision and until when (core/pending-reason.ts). Times are UTC. Null for running
   * and finished jobs, and for a queued job a worker is about to take.
   */
  waitingReason: string | null;
}

export interface RunView {
  run: RunRecord;
  jobs: JobView[];
}

export interface RunSummary extends RunRecord {
  counts: Partial<Record<JobStatus, number>>;
  total: number;
}

/** An agent run: its runs (stages) in the order they were submitted. */
export interface AgentRunView {
  agentRunId: string;
  stages: RunSummary[];
}

export interface GateView {
  ref: string;
  runId: string;
  runName: string;
  jobId: string;
  message: string | null;
  openedAt: number;
  /** When the gate fails for want of a decision, if it has a timeout. */
  deadline: number | null;
  /** `native`: an approval job the master holds; `titan`: a job running Titan's key-polling gate script. */
  style: 'native' | 'titan';
}

/** The outcome of a decision: the gate, and the job behind it when there is one. */
export interface GateDecisionResult {
  ref: string;
  approved: boolean;
  job: JobView | null;
}

export interface WorkerView extends WorkerInfo {
  id: string;
  state: WorkerState;
  /** Draining because it will exit: it cannot be undrained. */
  exiting: boolean;
  running: number;
  connectedAt: number;
  lastSeen: number;
  attempts: string[];
  /** Services running on the worker (job references) and their ports. */
  services: { ref: string; port: number | null }[];
}

export interface ServiceView {
  ref: string;
  runId: string;
  runName: string;
  jobId: string;
  status: JobStatus;
  /** The worker running it now; null while it is starting elsewhere, restarting or ended. */
  workerId: string | null;
  port: number | null;
  pid: number | null;
  /** When the current process became ready; null while it is not up. */
  upSince: number | null;
  restarts: number;
  attempt: number;
  restart: RestartPolicy;
  error: string | null;
}

/** One autoscaling decision and why it was taken. */
export interface ScalingEvent {
  at: number;
  pool: string;
  action: 'spawn' | 'registered' | 'spawn-failed' | 'stop' | 'hold';
  /** The worker concerned: the parent of a spawn, the new or stopped worker. */
  workerId: string | null;
  reason: string;
}

export type AutoscalerView =
  | { enabled: false }
  | {
      enabled: true;
      policy: ScalingPolicy;
      /** The worker count each pool should have, as last computed. */
      desired: Record<string, number>;
      /** Workers requested and not yet registered. */
      pending: number;
      /** Recent decisions, oldest first. */
      events: ScalingEvent[];
    };

/** A capability pool: the workers that have the capability, their slots and the jobs waiting for it. */
export interface PoolView {
  workers: number;
  slots: number;
  busySlots: number;
  queued: number;
  services: number;
}

/** The disk holding the master's data directory, against its --min-free-mb watermark. */
export interface DiskView {
  freeBytes: number;
  totalBytes: number;
  minFreeBytes: number;
  /** Free space is below minFreeBytes. */
  low: boolean;
}

export interface Stats {
  uptimeMs: number;
  workers: { total: number; connected: number; slots: number; busySlots: number };
  pools: Record<string, PoolView>;
  autoscaler: AutoscalerView;
  /** Jobs by status across active runs. */
  jobs: Partial<Record<JobStatus, number>>;
  queuedByCapability: Record<string, number>;
  runs: { active: number };
  totals: { submitted: number; completed: number; dead: number; attempts: number; retried: number };
  /** Absent from masters that do not report it. */
  disk?: DiskView;
}

export interface LogChunk {
  attempt: number;
  data: string;
  nextOffset: number;
  /** True when the attempt has ended and every byte up to nextOffset has been read. */
  complete: boolean;
  attempts: number;
  /** The parts of `data` the job wrote to stderr, as [start, length] in characters (UTF-16 code units) of `data`; absent when none. */
  stderr?: [number, number][];
  /** Output of this attempt the master could not store (a full disk), and why; absent when none was lost. */
  lost?: { bytes: number; reason: string };
  /** Why this run's stored output is gone (removed to keep stored logs under --max-logs-mb); absent otherwise. */
  removed?: string;
}

/**
 * What a submission answers once durable: the run it created, or, when an unfinished run holds
 * its singleton key, that run (and `singleton` says so); `replaced` lists the runs a debounced
 * submission replaced.
 */
export interface SubmitResult {
  runId: string;
  jobs: string[];
  singleton?: { key: string; heldBy: string };
  replaced?: string[];
}

export interface Results extends DataBusResults, ScheduleResults, FlowResults, SecretResults, StepResults, TriggerResults, NotifyResults, AccessResults {
  submit: SubmitResult;
  'blob.missing': { missing: string[] };
  'blob.put': { size: number; complete: boolean };
  'blob.get': { data: string; size: number };
  'run.get': RunView;
  'run.cancel': { cancelled: number };
  'run.delete': { deleted: boolean };
  'run.rerun': { runId: string; jobs: string[] };
  'job.retry': { job: JobView };
  'dag.submit': { runId: string; jobs: string[] };
  'pipeline.parse': { pipeline: PipelineDoc };
  'run.watch': { subscription: number; snapshot: RunView };
  /** `next` is the cursor of the following page, null on the last one. */
  'runs.list': { runs: RunSummary[]; next: string | null };
  /** `steps`: the job's durable steps in the order they started (core/steps.ts). */
  'job.get': { job: JobView; attempts: AttemptRecord[]; steps: StepView[] };
  'job.cancel': { job: JobView };
  'logs.get': LogChunk;
  'logs.follow': { subscription: number };
  unsubscribe: { ok: true };
  'workers.list': { workers: WorkerView[] };
  'services.list': { services: ServiceView[] };
  'files.list': { files: FileInfo[] };
  'files.put': { name: string; size: number };
  'files.get': { data: string; size: number };
  'files.blob': { sha256: string; size: number };
  'service.stop': { job: JobView };
  'worker.drain': { worker: WorkerView };
  'worker.undrain': { worker: WorkerView };
  'worker.shutdown': { worker: WorkerView };
  stats: Stats;
  'attempts.finished': { accepted: number };
  /** Reclaimed attempts the master no longer wants: the worker stops them. */
  'worker.reclaim': { abandon: AttemptId[] };
  'run.extend': { runId: string; jobs: string[] };
  'agentRuns.list': { agentRuns: AgentRunSummary[] };
  'agentRun.get': AgentRunView;
  'agentRun.watch': { subscription: number; snapshot: AgentRunView };
  'gates.list': { pending: GateView[]; history: GateDecision[] };
  'gate.decide': GateDecisionResult;
}

/** Server → worker events. */
export const DispatchSchema = z.strictObject({
  runId: IdSchema,
  jobId: IdSchema,
  attempt: z.number().int().positive(),
  /** Exactly one of script and archive. */
  script: ScriptRefSchema.optional(),
  archive: ArchiveRefSchema.optional(),
  /** The run's payload (a trigger's request body), staged like the script; its path is TITAN_TRIGGER_PAYLOAD. */
  payload: ScriptRefSchema.optional(),
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  timeoutMs: z.number().int().positive().nullable(),
  /** The job's own token (TITAN_TOKEN), minted by the master for the run. */
  token: z.string().min(1).max(400),
  /** Present when the attempt starts a service. */
  service: z
    .strictObject({
      /** The fixed port, or null to pick a free one in `portRange` on the worker's host. */
      port: z.number().int().min(1).max(65535).nullable(),
      portRange: z.tuple([z.number().int().min(1).max(65535), z.number().int().min(1).max(65535)]),
      readiness: ReadinessSchema,
      readyTimeoutMs: z.number().int().positive(),
    })
    .optional(),
});
export type Dispatch = z.infer<typeof DispatchSchema>;
export type ServiceDispatch = NonNullable<Dispatch['service']>;

/** Asks a permanent worker to start an ephemeral `titan worker` on its host for the autoscaler. */
export const SpawnWorkerSchema = z.strictObject({
  spawnId: IdSchema,
  capabilities: z.array(CapabilitySchema).min(1).max(32),
  slots: z.number().int().min(1).max(1024),
});
export type SpawnWorker = z.infer<typeof SpawnWorkerSchema>;

export const WorkerEvents = {
  dispatch: z.strictObject({ attempts: z.array(DispatchSchema) }),
  kill: AttemptIdSchema,
  spawnWorker: SpawnWorkerSchema,
  /** Take no new work; `drainTimeoutMs` only comes with a shutdown. */
  drain: z.strictObject({}),
  shutdown: z.strictObject({ drainTimeoutMs: DrainTimeoutSchema.optional() }),
  /** Take work again after a drain. */
  undrain: z.strictObject({}),
} as const;

/** A service attempt's process started (with the port it was given), or passed its readiness probe. */
export const ServiceReportSchema = AttemptIdSchema.extend({
  phase: z.enum(['started', 'ready']),
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65535),
});
export type ServiceReport = z.infer<typeof ServiceReportSchema>;

/** Worker → server events. */
export const WorkerReportEvents = {
  heartbeat: z.strictObject({ running: z.number().int().nonnegative() }),
  /** The worker received these dispatched attempts: until then the master may run them elsewhere at once. */
  accepted: z.strictObject({ attempts: z.array(AttemptIdSchema).max(10_000) }),
  /** The worker takes no more work; `exiting` when it will stop once drained (it cannot be undrained). */
  drain: z.strictObject({ exiting: z.boolean().default(false) }),
  /** `stream` only to a master whose HELLO reply lists the `log.stream` feature. */
  log: AttemptIdSchema.extend({ data: z.string().max(BLOB_CHUNK_BYTES), stream: z.literal('stderr').optional() }),
  service: ServiceReportSchema,
} as const;

/** Server → client events for subscriptions. */
export interface ClientEvents {
  'run.jobs': { subscription: number; jobs: JobView[] };
  'run.update': { subscription: number; run: RunRecord };
  log: { subscription: number; runId: string; jobId: string; attempt: number; data: string };
  'log.end': { subscription: number; status: JobStatus };
  /** A run of a watched agent run was added or changed status. */
  'agentRun.stage': { subscription: number; run: RunRecord };
}

export const CapabilityListSchema = z.array(CapabilitySchema);
