/** Answers of the HTTP API (docs/http-api.md) that no v2 method shares: the dashboard reads them. */
import type { Permission } from './roles.js';

/** `GET /api/metrics/history`: one sample of the cluster, taken every 10 s. */
export interface MetricsSample {
  at: number;
  /** Jobs that completed and died since the previous sample. */
  completed: number;
  dead: number;
  queued: number;
  busySlots: number;
  slots: number;
  workers: number;
}

/** `GET /api/session` and `POST /api/login`: who is signed in and the token that guards changes. */
export interface SessionInfo {
  user: string;
  csrf: string;
  /** What the signed-in user may do. */
  permissions: readonly Permission[];
}
