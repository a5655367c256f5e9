/**
 * What the master does when a setting is not given, in the units the Master takes (milliseconds,
 * bytes). The settings table (master-settings.ts) shows these in the command line's units and the
 * Master falls back on them; nothing else writes these numbers. The servers' own defaults
 * (connection caps, HTTP deadlines) are in server/limits.ts.
 */
import { DEFAULT_MAX_LOST_ATTEMPTS } from '../core/retry.js';
import { MiB } from '../store/disk-space.js';

/** The Master's settings, each in its unit. */
export interface MasterTuning {
  /** A worker silent for this long is dead and its attempts run again elsewhere. */
  workerTimeoutMs: number;
  /** After a restart, how long running attempts wait for their workers to reclaim them. */
  reclaimGraceMs: number;
  /** The largest artifact (and upload) accepted. */
  maxArtifactBytes: number;
  /** The most output one attempt keeps on the master. */
  maxLogBytes: number;
  /** The most job output kept in all: past it the logs of finished runs go, oldest first (0: no cap). */
  maxLogsBytes: number;
  /** Ports assigned to services that ask for none, inclusive. */
  servicePorts: readonly [number, number];
  /** Attempts of one job the infrastructure may lose before the job is given up. */
  maxLostAttempts: number;
  /** Below this much free space on the data directory's disk the master warns. */
  minFreeBytes: number;
  /** The wait after a notification's first failed try, doubled after each next one. */
  notifyRetryBaseMs: number;
  /** How long one notification POST may take. */
  notifyTimeoutMs: number;
  /** How often the overview's charts sample the cluster (they keep the last 360 samples). */
  metricsSampleMs: number;
}

export const MASTER_DEFAULTS: Readonly<MasterTuning> = {
  workerTimeoutMs: 10_000,
  reclaimGraceMs: 15_000,
  maxArtifactBytes: 512 * MiB,
  maxLogBytes: 128 * MiB,
  maxLogsBytes: 0,
  servicePorts: [20_000, 29_999],
  maxLostAttempts: DEFAULT_MAX_LOST_ATTEMPTS,
  minFreeBytes: 256 * MiB,
  notifyRetryBaseMs: 2000,
  notifyTimeoutMs: 10_000,
  metricsSampleMs: 10_000,
};
