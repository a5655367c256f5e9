/**
 * The master's settings, given in the command line's units (seconds, MiB, days), in the units the
 * Master and the servers take (milliseconds, bytes): the one place each is converted.
 */
import type { ScalingPolicy } from '../core/autoscale.js';
import type { ConnectionLimits } from '../server/limits.js';
import { MiB } from '../store/disk-space.js';
import type { MasterTuning } from './master-defaults.js';
import type { MasterStartSettings } from './master-settings.js';

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;

export interface MasterUnits {
  /** What the Master takes. */
  tuning: MasterTuning;
  /** The autoscaler's policy; absent: no autoscaling. */
  autoscale?: { policy: ScalingPolicy };
  /** Caps on open connections to each port. */
  connections: ConnectionLimits;
  /** How long an HTTP client has to send a whole request, body included. */
  httpRequestTimeoutMs: number;
  /** Finished runs are deleted this long after they finished; kept when absent. */
  retainMs?: number;
}

export function masterUnits(s: MasterStartSettings): MasterUnits {
  // The webhook alone runs the planner with no maximum: it reports demand without starting anything.
  const scaling = s.autoscale ?? (s.scaleWebhook !== undefined ? { perPool: {}, fallback: 0 } : undefined);
  return {
    tuning: {
      workerTimeoutMs: s.workerTimeout * SECOND_MS,
      reclaimGraceMs: s.reclaimGrace * SECOND_MS,
      maxArtifactBytes: s.maxArtifactMb * MiB,
      maxLogBytes: s.maxLogMb * MiB,
      maxLogsBytes: s.maxLogsMb * MiB,
      servicePorts: s.servicePorts,
      maxLostAttempts: s.maxLostAttempts,
      minFreeBytes: s.minFreeMb * MiB,
      notifyRetryBaseMs: s.notifyRetryBase * SECOND_MS,
      notifyTimeoutMs: s.notifyTimeout * SECOND_MS,
      metricsSampleMs: s.metricsSample * SECOND_MS,
    },
    ...(scaling && {
      autoscale: { policy: { scaleUpAfterMs: s.scaleUpAfter * SECOND_MS, idleStopMs: s.idleStop * SECOND_MS, maxPerPool: scaling.perPool, defaultMax: scaling.fallback } },
    }),
    connections: { total: s.maxConnections, perAddress: s.maxConnectionsPerIp },
    httpRequestTimeoutMs: s.httpRequestTimeout * SECOND_MS,
    ...(s.retainDays !== undefined && { retainMs: s.retainDays * DAY_MS }),
  };
}
