/**
 * The overview's charts survive a master restart: the samples are kept in the store, so a master
 * killed with SIGKILL and started again on the same data directory lists the samples it had taken
 * and goes on adding to them. Sampled every 0.2 s here (--metrics-sample) so the test is short.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsSample } from '../../src/protocol/http-views.js';
import { Cluster, eventually, kill } from '../helpers/cluster.js';

describe('the chart history across a master restart', () => {
  const cluster = new Cluster(['--metrics-sample', '0.2']);
  const history = async (): Promise<MetricsSample[]> => {
    const res = await fetch(`http://127.0.0.1:${cluster.httpPort}/api/metrics/history`, { headers: { authorization: `Bearer ${cluster.token}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { samples: MetricsSample[] }).samples;
  };

  beforeAll(() => cluster.startMaster());
  afterAll(() => cluster.stop());

  it('lists the samples taken before a kill -9 after the restart, and adds new ones after them', async () => {
    const before = await eventually(async () => {
      const s = await history();
      return s.length >= 4 ? s : undefined;
    }, 10_000, 'four samples');
    if (!cluster.master) throw new Error('no master');
    await kill(cluster.master, 'SIGKILL');
    await cluster.startMaster();

    const after = await history();
    // The sample taken as the master was killed may not have been kept; those before it were.
    const kept = before.slice(0, -1);
    expect(after.slice(0, kept.length)).toEqual(kept);
    console.log(`samples before the restart: ${before.length}; listed at once after it: ${after.length}`);
    const grown = await eventually(async () => {
      const s = await history();
      return s.length > after.length ? s : undefined;
    }, 10_000, 'a sample after the restart');
    const last = grown[grown.length - 1];
    expect(last?.at).toBeGreaterThan(before[before.length - 1]?.at ?? Infinity);
  });
});
