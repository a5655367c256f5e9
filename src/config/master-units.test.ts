import { describe, expect, it } from 'vitest';
import { MASTER_DEFAULTS } from './master-defaults.js';
import { MASTER_SETTINGS } from './master-settings.js';
import { masterUnits } from './master-units.js';
import { settingsSchema } from './setting.js';

const parse = (texts: Record<string, string> = {}): ReturnType<typeof masterUnits> => masterUnits(settingsSchema(MASTER_SETTINGS).parse(texts));

describe("the master's settings in the Master's units", () => {
  it("gives the Master its own defaults when the command line gives none", () => {
    expect(parse().tuning).toEqual(MASTER_DEFAULTS);
  });

  it('converts seconds to milliseconds, MiB to bytes and days to milliseconds', () => {
    const units = parse({ workerTimeout: '2.5', reclaimGrace: '0.5', maxArtifactMb: '3', maxLogMb: '1', maxLogsMb: '64', minFreeMb: '0', servicePorts: '1000-2000', maxLostAttempts: '0', retainDays: '2', httpRequestTimeout: '5', maxConnections: '7', maxConnectionsPerIp: '3', notifyRetryBase: '0.25', notifyTimeout: '3', metricsSample: '0.5' });
    expect(units.tuning).toEqual({ workerTimeoutMs: 2500, reclaimGraceMs: 500, maxArtifactBytes: 3 * 1024 * 1024, maxLogBytes: 1024 * 1024, maxLogsBytes: 64 * 1024 * 1024, servicePorts: [1000, 2000], maxLostAttempts: 0, minFreeBytes: 0, notifyRetryBaseMs: 250, notifyTimeoutMs: 3000, metricsSampleMs: 500 });
    expect(units).toMatchObject({ retainMs: 2 * 86_400_000, httpRequestTimeoutMs: 5000, connections: { total: 7, perAddress: 3 } });
    expect(parse().retainMs).toBeUndefined();
  });

  it('scales by --autoscale, and plans with no maximum for --scale-webhook alone', () => {
    expect(parse().autoscale).toBeUndefined();
    expect(parse({ autoscale: 'GPU=2', scaleUpAfter: '3', idleStop: '60' }).autoscale).toEqual({ policy: { scaleUpAfterMs: 3000, idleStopMs: 60_000, maxPerPool: { GPU: 2 }, defaultMax: 0 } });
    expect(parse({ scaleWebhook: 'http://127.0.0.1:1/scale' }).autoscale).toEqual({ policy: { scaleUpAfterMs: 10_000, idleStopMs: 120_000, maxPerPool: {}, defaultMax: 0 } });
  });
});
