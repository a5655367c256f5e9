/**
 * v2 methods of flow control (`limits.*`): the cluster's limits on keys and what each key holds
 * and keeps waiting. Merged into `params` and `Results` of methods.ts.
 */
import { z } from 'zod';
import { type ClusterLimit, ClusterLimitSchema, FlowKeySchema } from '../core/flow-spec.js';

/** A key as the queue page and `titan limits` show it. */
export interface FlowKeyView {
  key: string;
  /** The cluster's limit on it, if one is set. */
  limit: ClusterLimit | null;
  /** The jobs (`runId/jobId`) running while they hold it. */
  holders: string[];
  /** Jobs ready to run that wait for it. */
  waiters: number;
  /** When the next token of its rate limit is due, if jobs wait for one. */
  nextTokenAt: number | null;
}

export const flowParams = {
  /** Every key with a cluster limit, holders or waiters. */
  'limits.list': z.strictObject({}),
  /** Sets the cluster's limit on a key, replacing the one it had; it applies at once and survives restarts. */
  'limits.set': ClusterLimitSchema,
  'limits.remove': z.strictObject({ key: FlowKeySchema }),
} as const;

export type FlowMethod = keyof typeof flowParams;

export interface FlowResults {
  'limits.list': { keys: FlowKeyView[] };
  /** The cluster's limits after the change. */
  'limits.set': { limits: ClusterLimit[] };
  'limits.remove': { removed: boolean; limits: ClusterLimit[] };
}
