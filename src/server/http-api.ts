/**
 * The JSON API of the dashboard and of HTTP clients: runs, jobs and their logs, approval gates,
 * agent runs, schedules, workers, services and statistics. Every value from the path, the query
 * or the body is checked with the protocol's schemas; errors are `{code, message}`.
 * docs/http-api.md describes each route.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Master } from '../master/master.js';
import { params } from '../protocol/methods.js';
import { hideEnv } from '../protocol/access.js';
import { scheduleParams } from '../protocol/schedule-methods.js';
import type { Gatekeeper } from './gatekeeper.js';
import { attachment, bodyObject, check, numberOf, parseWith, principalOf, queryOf, readsOnly, refOf } from './http-common.js';

/** A search (`q`) looks through at most this many of the newest runs that match the other filters. */
export const RUN_SEARCH_WINDOW = 1000;
const LOG_CHUNK = 1024 * 1024;

const RunsQuerySchema = params['runs.list'].extend({ q: z.string().min(1).max(200).optional() });

export function registerApiRoutes(app: FastifyInstance, master: Master, gate: Gatekeeper): void {
  app.get('/api/stats', { config: { access: 'stats' } }, async () => master.stats());
  app.get('/api/metrics/history', { config: { access: 'stats' } }, async () => ({ samples: master.history.list() }));
  app.get('/api/services', { config: { access: 'services.list' } }, async () => ({ services: master.listServices() }));

  // ---- runs and jobs ----------------------------------------------------------------------------

  app.get('/api/runs', { config: { access: 'runs.list' } }, async (req) => {
    const q = queryOf(req);
    const p = parseWith(RunsQuerySchema, { limit: numberOf(q.limit), status: q.status, tag: q.tag, after: q.after, q: q.q }, 'query');
    if (p.q === undefined) return master.listRuns(p);
    const needle = p.q.toLowerCase();
    const window = await master.listRuns({ ...p, limit: RUN_SEARCH_WINDOW });
    return { runs: window.runs.filter((r) => r.name.toLowerCase().includes(needle) || r.runId.toLowerCase().includes(needle)).slice(0, p.limit), next: null };
  });
  app.get('/api/runs/:runId', { config: { access: 'run.get' } }, async (req) => {
    const view = await master.getRun(check('run.get', req.params).runId);
    return readsOnly(req) ? { ...view, jobs: view.jobs.map(hideEnv) } : view;
  });
  app.post('/api/runs/:runId/cancel', { config: { access: 'run.cancel' } }, async (req) => ({ cancelled: await master.cancelRun(check('run.cancel', req.params).runId) }));
  app.delete('/api/runs/:runId', { config: { access: 'run.delete' } }, async (req) => ({ deleted: await master.deleteRun(check('run.delete', req.params).runId) }));
  app.post('/api/runs/:runId/rerun', { config: { access: 'run.rerun' } }, async (req) => master.rerun(check('run.rerun', req.params).runId));
  app.get('/api/runs/:runId/jobs/:jobId', { config: { access: 'job.get' } }, async (req) => {
    const found = await master.getJob(check('job.get', { ref: refOf(req.params) }).ref);
    return readsOnly(req) ? { ...found, job: hideEnv(found.job) } : found;
  });
  app.post('/api/runs/:runId/jobs/:jobId/cancel', { config: { access: 'job.cancel' } }, async (req) => ({ job: await master.cancelJob(check('job.cancel', { ref: refOf(req.params) }).ref) }));
  app.post('/api/runs/:runId/jobs/:jobId/retry', { config: { access: 'job.retry' } }, async (req) => ({ job: await master.retryJob(check('job.retry', { ref: refOf(req.params) }).ref) }));
  app.post('/api/runs/:runId/jobs/:jobId/stop', { config: { access: 'service.stop' } }, async (req) => ({ job: await master.stopService(check('service.stop', { ref: refOf(req.params) }).ref) }));

  app.get('/api/runs/:runId/jobs/:jobId/logs', { config: { access: 'logs.get' } }, async (req) => {
    const q = queryOf(req);
    const p = check('logs.get', { ref: refOf(req.params), attempt: numberOf(q.attempt), offset: numberOf(q.offset), limit: numberOf(q.limit) });
    return master.readLogs(p.ref, p.attempt, p.offset, p.limit);
  });
  app.get('/api/runs/:runId/jobs/:jobId/logs/download', { config: { access: 'logs.get' } }, async (req, reply) => {
    const p = check('logs.get', { ref: refOf(req.params), attempt: numberOf(queryOf(req).attempt) });
    const first = await master.readLogs(p.ref, p.attempt, 0, LOG_CHUNK);
    const { runId, jobId } = req.params as { runId: string; jobId: string };
    async function* chunks(): AsyncGenerator<string> {
      let chunk = first;
      while (chunk.data.length > 0) {
        yield chunk.data;
        chunk = await master.readLogs(p.ref, first.attempt, chunk.nextOffset, LOG_CHUNK);
      }
    }
    return reply
      .type('text/plain; charset=utf-8')
      .header('content-disposition', attachment(`${runId}-${jobId}-attempt-${first.attempt}.log`))
      .header('cache-control', 'no-store')
      .send(Readable.from(chunks()));
  });

  // ---- approval gates -------------------------------------------------------------------------

  app.get('/api/gates', { config: { access: 'gates.list' } }, async (req) => {
    const p = check('gates.list', { history: numberOf(queryOf(req).history) });
    return { pending: await master.listGates(), history: p.history > 0 ? await master.gateHistory(p.history) : [] };
  });
  for (const [action, approved] of [['approve', true], ['reject', false]] as const) {
    // The decision is recorded under who signed in or whose token it is, never a name from the body.
    const decide = (req: FastifyRequest, ref: unknown) => {
      const body = bodyObject(req);
      const p = check('gate.decide', { ref, approved, comment: body.comment ?? null });
      return master.decideGate(p.ref, p.approved, principalOf(req).name, p.comment);
    };
    const config = { access: 'gate.decide' };
    app.post(`/api/runs/:runId/jobs/:jobId/${action}`, { config }, async (req) => decide(req, refOf(req.params)));
    // Any gate by its reference, Titan-style gates (named by their gate id) included.
    app.post(`/api/gates/${action}`, { config }, async (req) => decide(req, bodyObject(req).ref));
  }

  // ---- the audit log ----------------------------------------------------------------------------

  app.get('/api/audit', { config: { access: 'audit.list' } }, async (req) => {
    const q = queryOf(req);
    const p = check('audit.list', { limit: numberOf(q.limit), before: numberOf(q.before) });
    return { entries: gate.audit.list(p.limit, p.before) };
  });

  // ---- agent runs -------------------------------------------------------------------------------

  app.get('/api/agent-runs', { config: { access: 'agentRuns.list' } }, async (req) => ({ agentRuns: await master.listAgentRuns(check('agentRuns.list', { limit: numberOf(queryOf(req).limit) }).limit) }));
  app.get('/api/agent-runs/:id', { config: { access: 'agentRun.get' } }, async (req) => master.getAgentRun(check('agentRun.get', { agentRunId: (req.params as { id: string }).id }).agentRunId));

  // ---- schedules --------------------------------------------------------------------------------

  const scheduleName = (p: unknown): string => parseWith(scheduleParams['schedule.pause'], { name: (p as { name: string }).name }, 'schedule name').name;
  app.get('/api/schedules', { config: { access: 'schedules.list' } }, async () => ({ schedules: master.schedules.list() }));
  app.post('/api/schedules/:name/pause', { config: { access: 'schedule.pause' } }, async (req) => ({ schedule: await master.schedules.pause(scheduleName(req.params)) }));
  app.post('/api/schedules/:name/resume', { config: { access: 'schedule.resume' } }, async (req) => ({ schedule: await master.schedules.resume(scheduleName(req.params)) }));
  app.post('/api/schedules/:name/run-now', { config: { access: 'schedule.runNow' } }, async (req) => master.schedules.runNow(scheduleName(req.params)));
  app.delete('/api/schedules/:name', { config: { access: 'schedule.delete' } }, async (req) => ({ schedule: await master.schedules.delete(scheduleName(req.params)) }));

  // ---- workers ----------------------------------------------------------------------------------

  app.get('/api/workers', { config: { access: 'workers.list' } }, async () => ({ workers: master.listWorkers() }));
  app.post('/api/workers/:id/drain', { config: { access: 'worker.drain' } }, async (req) => ({ worker: master.requestDrain(check('worker.drain', { id: (req.params as { id: string }).id }).id) }));
  app.post('/api/workers/:id/undrain', { config: { access: 'worker.undrain' } }, async (req) => ({ worker: master.requestUndrain(check('worker.undrain', { id: (req.params as { id: string }).id }).id) }));
  app.post('/api/workers/:id/shutdown', { config: { access: 'worker.shutdown' } }, async (req) => {
    const body = bodyObject(req);
    const p = check('worker.shutdown', { id: (req.params as { id: string }).id, force: body.force, drainTimeoutMs: body.drainTimeoutMs });
    return { worker: master.requestShutdown(p.id, p.force, p.drainTimeoutMs) };
  });
}
