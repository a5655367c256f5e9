import { describe, expect, it } from 'vitest';
import type { FlowKeyView } from '../protocol/flow-methods.js';
import type { Stats } from '../protocol/methods.js';
import { clusterMetrics, exportedFlowKeys, FLOW_KEYS_EXPORTED, type MetricsSource } from './http-metrics.js';

const key = (name: string, holders: number, waiters: number, concurrency?: number): FlowKeyView => ({
  key: name,
  limit: concurrency === undefined ? null : { key: name, concurrency },
  holders: Array.from({ length: holders }, (_, i) => `run-1/job-${i}`),
  waiters,
  nextTokenAt: null,
});

const stats: Stats = {
  uptimeMs: 1000,
  workers: { total: 0, connected: 0, slots: 0, busySlots: 0 },
  pools: {},
  autoscaler: {} as Stats['autoscaler'],
  jobs: {},
  queuedByCapability: {},
  runs: { active: 0 },
  totals: { submitted: 0, completed: 0, dead: 0, attempts: 0, retried: 0 },
};

function source(keys: () => FlowKeyView[]): MetricsSource {
  return { listWorkers: () => [], stats: () => stats, flowKeys: keys };
}

/** The samples of one metric: label value → number. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}\\{key="([^"]*)"\\} (\\S+)$`, 'gm'))) out.set(m[1] as string, Number(m[2]));
  return out;
}

describe('the flow-control gauges of /metrics', () => {
  it('show holders and waiters of every key, and the limit only where the cluster set one', async () => {
    let keys = [key('db', 1, 3, 1), key('openai', 2, 0)];
    const metrics = clusterMetrics(source(() => keys));
    let text = await metrics.scrape();
    expect(samples(text, 'titan_flow_key_holders')).toEqual(new Map([['db', 1], ['openai', 2]]));
    expect(samples(text, 'titan_flow_key_waiters')).toEqual(new Map([['db', 3], ['openai', 0]]));
    expect(samples(text, 'titan_flow_key_limit')).toEqual(new Map([['db', 1]]));
    // A key that no longer has anything is gone at the next scrape, not left at its last value.
    keys = [key('openai', 1, 0)];
    text = await metrics.scrape();
    expect(samples(text, 'titan_flow_key_holders')).toEqual(new Map([['openai', 1]]));
    expect(samples(text, 'titan_flow_key_waiters')).toEqual(new Map([['openai', 0]]));
    expect(samples(text, 'titan_flow_key_limit').size).toBe(0);
  });

  it(`export at most ${FLOW_KEYS_EXPORTED} keys, the busiest first`, async () => {
    const many = Array.from({ length: 500 }, (_, i) => key(`tenant-${String(i).padStart(3, '0')}`, i % 3, 0));
    many.push(key('hot', 0, 9));
    const text = await clusterMetrics(source(() => many)).scrape();
    const holders = samples(text, 'titan_flow_key_holders');
    expect(holders.size).toBe(FLOW_KEYS_EXPORTED);
    expect(holders.has('hot')).toBe(true);
    expect([...holders.values()].filter((n) => n === 0)).toEqual([0]);
    expect(samples(text, 'titan_flow_key_waiters').size).toBe(FLOW_KEYS_EXPORTED);
    expect(exportedFlowKeys(many, 3).map((k) => k.key)).toEqual(['hot', 'tenant-002', 'tenant-005']);
  });
});
