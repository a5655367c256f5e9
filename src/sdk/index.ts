/**
 * The public entry of the TypeScript SDK: `import { TitanClient, job } from 'titan-ts'` (or `'titan-ts/sdk'`), or
 * inside a job with no configuration: `await import(process.env.TITAN_SDK)`.
 * See docs/sdk-typescript.md.
 */
export { TitanClient, defaultAddress } from './client.js';
export type { ArchiveSource, ClientOptions, JobInput, JobLike, LogOutput, RunEvent, RunInput, ScriptSource, TlsClientOptions, TlsSetting } from './client.js';
export type { AgentRunClient } from './agent-runs.js';
export type { ArtifactClient } from './artifacts.js';
export type { FileClient } from './files.js';
export type { GateClient } from './gates.js';
export type { JobClient } from './jobs.js';
export type { ClusterLimitInput, LimitClient } from './limits.js';
export { notifyOn } from './notifications.js';
export type { NotificationClient } from './notifications.js';
export type { RunClient } from './runs.js';
export type { ScheduleClient } from './schedules.js';
export type { ServiceClient } from './services.js';
export type { StoreClient } from './store.js';
export type { WorkerClient } from './workers.js';
export { step, StepFailedError } from './steps.js';
export type { StepCaller, StepContext, StepOptions } from './steps.js';
export type { StepStatus, StepView } from '../core/steps.js';
export { approval, ApprovalBuilder, durationMs, job, JobBuilder, service, ServiceBuilder, toJobInput } from './builders.js';
export type { Duration, JobBuilderLike } from './builders.js';
export {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  InternalError,
  InvalidDagError,
  NotFoundError,
  NotLeaderError,
  ProtocolError,
  TitanError,
  typedError,
  UnauthorizedError,
  UnavailableError,
} from './errors.js';
export type { ErrorCode } from './errors.js';
export { isTerminal, JOB_STATUSES, RUN_STATUSES, TERMINAL_JOB_STATUSES } from '../core/model.js';
export { DEFAULT_CAPABILITY, DEFAULT_GATE_WAIT_MS, DEFAULT_PRIORITY, DEFAULT_RETRIES } from '../core/defaults.js';
export type { Affinity, ArchiveRef, JobKind, JobRecord, JobSpec, JobSpecInput, JobStatus, Readiness, RestartPolicy, RunRecord, RunStatus, RunSpecInput, ScriptRef, ServiceSpec } from '../core/model.js';
export type { ArtifactInfo, KvEntry, KvKeyInfo } from '../core/data.js';
export type { ClusterLimit, Concurrency, Fairness, RateLimit, RatePeriod } from '../core/flow-spec.js';
export type { FlowKeyView } from '../protocol/flow-methods.js';
export type { ScheduleSpecInput, ScheduleView } from '../core/schedule.js';
export type { ArtifactSource } from '../protocol/artifact-transfer.js';
export type { KvWaitResult } from '../protocol/data-bus-methods.js';
export type { AgentRunView, GateDecisionResult, GateView, JobView, LogChunk, RunSummary, RunView, ServiceView, Stats, WorkerView, FileAreaName, FileInfo } from '../protocol/methods.js';
