/**
 * The API's types for the dashboard: re-exported from src/core and src/protocol, which stay
 * browser-safe (no Buffer, no node: modules) for this (`npm run lint` checks it).
 */
import type { Results } from '../../src/protocol/methods.ts';

export type {
  AgentRunSummary,
  AttemptOutcome,
  AttemptRecord,
  GateDecision,
  JobKind,
  JobRecord,
  JobSpec,
  JobStatus,
  RestartPolicy,
  RunRecord,
  RunSpec,
  RunStatus,
  ServiceState,
  WorkerInfo,
  WorkerState,
} from '../../src/core/model.ts';
export type { ScheduleRecord, ScheduleSpec, ScheduleView } from '../../src/core/schedule.ts';
export type { DeliveryRecord, TriggerView } from '../../src/core/trigger.ts';
export { sizeText, startedByText } from '../../src/core/trigger.ts';
export type { ScalingPolicy } from '../../src/core/autoscale.ts';
export type { ArtifactInfo, KvEntry, KvKeyInfo, KvType } from '../../src/core/data.ts';
export type { AuditEntry } from '../../src/protocol/access-methods.ts';
export type { FlowKeyView } from '../../src/protocol/flow-methods.ts';
export type { ClusterLimit } from '../../src/core/flow-spec.ts';
export type { StepView } from '../../src/core/steps.ts';
export type {
  AgentRunView,
  AutoscalerView,
  FileInfo,
  GateDecisionResult,
  GateView,
  JobView,
  LogChunk,
  PoolView,
  RunSummary,
  RunView,
  ScalingEvent,
  ServiceView,
  Stats,
  WorkerView,
} from '../../src/protocol/methods.ts';
export type { MetricsSample, SessionInfo } from '../../src/protocol/http-views.ts';

export { JOB_STATUSES as JOB_STATUS_LIST, RUN_STATUSES as RUN_STATUS_LIST } from '../../src/core/statuses.ts';

/** `GET /api/jobs/:runId/:jobId`. */
export type JobDetail = Results['job.get'];
/** `GET /api/gates`. */
export type GatesList = Results['gates.list'];
