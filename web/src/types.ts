/**
 * The API's types for the dashboard. Records come straight from src/core (pure modules that
 * type-check in the browser build); the views of src/protocol/methods.ts and the data records
 * of src/core/data.ts are mirrored here because those modules pull in Node's Buffer, which the
 * browser tsconfig does not know. `web/typesync.ts` (checked by `npm run lint`) fails when a
 * mirror drifts from its original.
 */
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
export type { ScalingPolicy } from '../../src/core/autoscale.ts';
export type { AuditEntry } from '../../src/protocol/access-methods.ts';

import type { AttemptRecord, GateDecision, JobRecord, JobStatus, RestartPolicy, RunRecord, WorkerInfo, WorkerState } from '../../src/core/model.ts';
import type { ScalingPolicy } from '../../src/core/autoscale.ts';

export const JOB_STATUS_LIST: readonly JobStatus[] = ['PENDING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'DEAD', 'CANCELLED', 'SKIPPED', 'WAITING_APPROVAL'];
export const RUN_STATUS_LIST = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;

// ---- mirrors of src/protocol/methods.ts ----

export interface JobView extends JobRecord {
  /** `runId/jobId`. */
  ref: string;
  /** Why a QUEUED job is not placed; null otherwise. */
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
  deadline: number | null;
  style: 'native' | 'titan';
}

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
  services: { ref: string; port: number | null }[];
}

export interface ServiceView {
  ref: string;
  runId: string;
  runName: string;
  jobId: string;
  status: JobStatus;
  workerId: string | null;
  port: number | null;
  pid: number | null;
  upSince: number | null;
  restarts: number;
  attempt: number;
  restart: RestartPolicy;
  error: string | null;
}

export interface ScalingEvent {
  at: number;
  pool: string;
  action: 'spawn' | 'registered' | 'spawn-failed' | 'stop' | 'hold';
  workerId: string | null;
  reason: string;
}

export type AutoscalerView =
  | { enabled: false }
  | {
      enabled: true;
      policy: ScalingPolicy;
      desired: Record<string, number>;
      pending: number;
      events: ScalingEvent[];
    };

export interface PoolView {
  workers: number;
  slots: number;
  busySlots: number;
  queued: number;
  services: number;
}

export interface Stats {
  uptimeMs: number;
  workers: { total: number; connected: number; slots: number; busySlots: number };
  pools: Record<string, PoolView>;
  autoscaler: AutoscalerView;
  jobs: Partial<Record<JobStatus, number>>;
  queuedByCapability: Record<string, number>;
  runs: { active: number };
  totals: { submitted: number; completed: number; dead: number; attempts: number; retried: number };
}

export interface LogChunk {
  attempt: number;
  data: string;
  nextOffset: number;
  complete: boolean;
  attempts: number;
}

export interface FileInfo {
  name: string;
  size: number;
  modifiedAt: number;
}

// ---- mirrors of src/core/data.ts ----

export type KvType = 'string' | 'set';

export interface KvKeyInfo {
  key: string;
  type: KvType;
  version: number;
  expiresAt: number | null;
}

export interface KvEntry {
  value: string | null;
  version: number;
  expiresAt: number | null;
}

export interface ArtifactInfo {
  key: string;
  sha256: string;
  size: number;
  runId: string | null;
  jobId: string | null;
  attempt: number | null;
  createdAt: number;
}

// ---- mirror of src/master/metrics-history.ts ----

export interface MetricsSample {
  at: number;
  completed: number;
  dead: number;
  queued: number;
  busySlots: number;
  slots: number;
  workers: number;
}

// ---- HTTP responses (docs/http-api.md) ----

export interface SessionInfo {
  user: string;
  csrf: string;
  /** What the signed-in user may do: read, operate, approve, admin. */
  permissions: string[];
}


export interface JobDetail {
  job: JobView;
  attempts: AttemptRecord[];
}

export interface GatesList {
  pending: GateView[];
  history: GateDecision[];
}
