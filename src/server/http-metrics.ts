/** `GET /metrics`: the cluster's gauges in Prometheus text format. */
import type { FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import type { Master } from '../master/master.js';

export function registerMetricsRoute(app: FastifyInstance, master: Master): void {
  const registry = metricsRegistry(master);
  app.get('/metrics', { config: { access: 'stats' } }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}

function metricsRegistry(master: Master): Registry {
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
  gauge('titan_uptime_seconds', 'Seconds since the master started', [], (g) => g.set(master.stats().uptimeMs / 1000));
  return registry;
}
