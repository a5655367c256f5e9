/** `GET /metrics`: the cluster's gauges in Prometheus text format. */
import type { FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import type { Master } from '../master/master.js';
import type { FlowKeyView } from '../protocol/flow-methods.js';

/** What the gauges read from the master. */
export type MetricsSource = Pick<Master, 'listWorkers' | 'stats' | 'flowKeys'>;

/**
 * At most this many flow-control keys are exported: keys are made from run values (a tenant, an
 * argument), so there may be thousands, and each is a time series of its own.
 */
export const FLOW_KEYS_EXPORTED = 200;

/** The keys the gauges show: the busiest first (most waiting, then most running, then by name), at most `max`. */
export function exportedFlowKeys(keys: readonly FlowKeyView[], max = FLOW_KEYS_EXPORTED): FlowKeyView[] {
  return [...keys].sort((a, b) => b.waiters - a.waiters || b.holders.length - a.holders.length || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, max);
}

export function registerMetricsRoute(app: FastifyInstance, master: Master): void {
  const metrics = clusterMetrics(master);
  app.get('/metrics', { config: { access: 'stats' } }, async (_req, reply) => reply.type(metrics.contentType).send(await metrics.scrape()));
}

/** The gauges, and a scrape that reads the flow-control keys once for all three flow gauges. */
export function clusterMetrics(master: MetricsSource): { contentType: string; scrape: () => Promise<string> } {
  let flowKeys: FlowKeyView[] = [];
  const registry = metricsRegistry(master, () => flowKeys);
  return {
    contentType: registry.contentType,
    scrape: () => {
      flowKeys = exportedFlowKeys(master.flowKeys());
      return registry.metrics();
    },
  };
}

function metricsRegistry(master: MetricsSource, flowKeys: () => readonly FlowKeyView[]): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void): void => {
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); collect(this); } });
  };
  gauge('titan_workers', 'Workers known to the master, by connection state', ['state'], (g) => {
    for (const w of master.listWorkers()) g.inc({ state: w.state });
  });
  gauge('titan_slots', 'Execution slots of connected workers, by use', ['use'], (g) => {
    const s = master.stats().workers;
    g.set({ use: 'busy' }, s.busySlots);
    g.set({ use: 'free' }, s.slots - s.busySlots);
  });
  gauge('titan_jobs', 'Jobs of active runs, by status', ['status'], (g) => {
    for (const [status, n] of Object.entries(master.stats().jobs)) g.set({ status }, n ?? 0);
  });
  gauge('titan_queue_depth', 'Queued jobs by required capability', ['capability'], (g) => {
    for (const [capability, n] of Object.entries(master.stats().queuedByCapability)) g.set({ capability }, n);
  });
  gauge('titan_jobs_finished', 'Jobs finished since the store was created, by outcome', ['outcome'], (g) => {
    const t = master.stats().totals;
    g.set({ outcome: 'completed' }, t.completed);
    g.set({ outcome: 'dead' }, t.dead);
  });
  gauge('titan_attempts_started', 'Attempts started since the store was created', [], (g) => g.set(master.stats().totals.attempts));
  gauge('titan_disk_free_bytes', "Free bytes on the disk holding the master's data directory", [], (g) => {
    const disk = master.stats().disk;
    if (disk) g.set(disk.freeBytes);
  });
  gauge('titan_flow_key_holders', `Jobs running while holding a flow-control key (the ${FLOW_KEYS_EXPORTED} busiest keys)`, ['key'], (g) => {
    for (const k of flowKeys()) g.set({ key: k.key }, k.holders.length);
  });
  gauge('titan_flow_key_waiters', `Ready jobs waiting for a flow-control key (the ${FLOW_KEYS_EXPORTED} busiest keys)`, ['key'], (g) => {
    for (const k of flowKeys()) g.set({ key: k.key }, k.waiters);
  });
  gauge('titan_flow_key_limit', "The cluster's concurrency limit on a flow-control key, where one is set", ['key'], (g) => {
    for (const k of flowKeys()) if (k.limit?.concurrency !== undefined) g.set({ key: k.key }, k.limit.concurrency);
  });
  gauge('titan_uptime_seconds', 'Seconds since the master started', [], (g) => g.set(master.stats().uptimeMs / 1000));
  return registry;
}
