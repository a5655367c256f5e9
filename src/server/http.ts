/**
 * HTTP on 5000: `/healthz` (open, for load balancers), `/metrics` (Prometheus) and a JSON API.
 * Everything but `/healthz` needs the cluster token as a bearer token.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import { TitanError } from '../core/errors.js';
import type { Master } from '../master/master.js';
import { params } from '../protocol/methods.js';
import { describeIssues } from '../protocol/peer.js';
import { registerDataRoutes } from './http-data.js';
import { tokenMatches } from './token.js';

const STATUS_OF: Record<string, number> = { BAD_REQUEST: 400, INVALID_DAG: 400, UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409 };

export function createHttpServer(master: Master, token: string): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  const registry = metricsRegistry(master);

  app.addHook('onRequest', async (req, reply) => {
    if (req.url.split('?')[0] === '/healthz') return;
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!tokenMatches(given, token)) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ code: 'UNAUTHORIZED', message: 'send the cluster token as "Authorization: Bearer <token>"' });
    }
  });

  app.setErrorHandler(async (err, _req, reply) => {
    if (err instanceof TitanError) return reply.code(STATUS_OF[err.code] ?? 500).send({ code: err.code, message: err.message });
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send({ code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL', message: (err as Error).message });
  });

  app.get('/healthz', async () => ({ status: 'ok', uptimeMs: master.stats().uptimeMs }));
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/api/stats', async () => master.stats());
  app.get('/api/workers', async () => ({ workers: master.listWorkers() }));
  app.get('/api/services', async () => ({ services: master.listServices() }));
  app.get('/api/runs', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const p = check('runs.list', { limit: q.limit === undefined ? undefined : Number(q.limit), status: q.status, tag: q.tag });
    return { runs: await master.listRuns(p.limit, p.status, p.tag) };
  });
  app.get('/api/runs/:runId', async (req) => master.getRun(check('run.get', req.params).runId));
  app.post('/api/runs/:runId/cancel', async (req) => ({ cancelled: await master.cancelRun(check('run.cancel', req.params).runId) }));
  app.post('/api/runs/:runId/rerun', async (req) => master.rerun(check('run.rerun', req.params).runId));
  app.post('/api/runs/:runId/jobs/:jobId/retry', async (req) => ({ job: await master.retryJob(refOf(req.params)) }));
  app.get('/api/runs/:runId/jobs/:jobId', async (req) => master.getJob(refOf(req.params)));
  app.post('/api/runs/:runId/jobs/:jobId/cancel', async (req) => ({ job: await master.cancelJob(refOf(req.params)) }));
  app.post('/api/runs/:runId/jobs/:jobId/stop', async (req) => ({ job: await master.stopService(refOf(req.params)) }));
  app.get('/api/gates', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const p = check('gates.list', { history: q.history === undefined ? undefined : Number(q.history) });
    return { pending: await master.listGates(), history: p.history > 0 ? await master.gateHistory(p.history) : [] };
  });
  for (const [action, approved] of [['approve', true], ['reject', false]] as const) {
    app.post(`/api/runs/:runId/jobs/:jobId/${action}`, async (req) => {
      const body = (req.body ?? {}) as { by?: unknown; comment?: unknown };
      const p = check('gate.decide', { ref: refOf(req.params), approved, by: body.by ?? 'http', comment: body.comment ?? null });
      return master.decideGate(p.ref, p.approved, p.by, p.comment);
    });
  }
  app.get('/api/runs/:runId/jobs/:jobId/logs', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const p = check('logs.get', {
      ref: refOf(req.params),
      attempt: q.attempt === undefined ? undefined : Number(q.attempt),
      offset: q.offset === undefined ? undefined : Number(q.offset),
    });
    return master.readLogs(p.ref, p.attempt, p.offset, p.limit);
  });
  registerDataRoutes(app, master);
  return app;
}

function check<M extends keyof typeof params>(method: M, raw: unknown): ReturnType<(typeof params)[M]['parse']> {
  const result = params[method].safeParse(raw);
  if (!result.success) throw new TitanError('BAD_REQUEST', describeIssues(result.error.issues));
  return result.data as ReturnType<(typeof params)[M]['parse']>;
}

function refOf(p: unknown): string {
  const { runId, jobId } = p as { runId: string; jobId: string };
  return `${runId}/${jobId}`;
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
  gauge('titan_uptime_seconds', 'Seconds since the master started', [], (g) => g.set(master.stats().uptimeMs / 1000));
  return registry;
}
