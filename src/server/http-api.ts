/**
 * The JSON API of the dashboard and of HTTP clients: runs, jobs and their logs, approval gates,
 * agent runs, schedules, workers, services, statistics, secrets, named tokens and users. A route maps the path, the query and
 * the body onto the parameters of the method it performs, which the command table checks and
 * carries out (commands/table.ts); errors are `{code, message}`.
 * docs/http-api.md describes each route.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Master } from '../master/master.js';
import { params } from '../protocol/methods.js';
import type { ResultOf } from './commands/command.js';
import { type CallMethod, checkParams, COMMANDS, performCall, type Wording } from './commands/table.js';
import type { Gatekeeper } from './gatekeeper.js';
import { attachment, bodyObject, callOf, ISSUES, numberOf, parseWith, queryOf, refOf } from './http-common.js';

/** A search (`q`) looks through at most this many of the newest runs that match the other filters. */
export const RUN_SEARCH_WINDOW = 1000;
const LOG_CHUNK = 1024 * 1024;

const RunsQuerySchema = params['runs.list'].extend({ q: z.string().min(1).max(200).optional() });

export function registerApiRoutes(app: FastifyInstance, master: Master, gate: Gatekeeper): void {
  /** Performs the method of the table with the parameters a route took from the path, query and body. */
  const call = <M extends CallMethod>(req: FastifyRequest, method: M, raw: unknown, wording: Wording = ISSUES): Promise<ResultOf<M>> => performCall(method, callOf(req, master, gate), raw, wording);
  const idOf = (req: FastifyRequest): unknown => (req.params as { id: string }).id;

  app.get('/api/stats', { config: { access: 'stats' } }, async (req) => call(req, 'stats', {}));
  app.get('/api/metrics/history', { config: { access: 'stats' } }, async () => ({ samples: master.history.list() }));
  app.get('/api/services', { config: { access: 'services.list' } }, async (req) => call(req, 'services.list', {}));

  // ---- runs and jobs ----------------------------------------------------------------------------

  app.get('/api/runs', { config: { access: 'runs.list' } }, async (req) => {
    const q = queryOf(req);
    const { q: search, ...p } = parseWith(RunsQuerySchema, { limit: numberOf(q.limit), status: q.status, tag: q.tag, after: q.after, q: q.q }, 'query');
    const list = COMMANDS['runs.list'];
    const ctx = callOf(req, master, gate);
    if (search === undefined) return list.handle(ctx, p);
    const needle = search.toLowerCase();
    const window = await list.handle(ctx, { ...p, limit: RUN_SEARCH_WINDOW });
    return { runs: window.runs.filter((r) => r.name.toLowerCase().includes(needle) || r.runId.toLowerCase().includes(needle)).slice(0, p.limit), next: null };
  });
  app.get('/api/runs/:runId', { config: { access: 'run.get' } }, async (req) => call(req, 'run.get', req.params));
  // Read with run.get's checks; the columns come straight from the master (core/timeline.ts).
  app.get('/api/runs/:runId/timeline', { config: { access: 'run.get' } }, async (req) => {
    const { run } = await call(req, 'run.get', req.params);
    return master.runTimeline(run.runId);
  });
  app.post('/api/runs/:runId/cancel', { config: { access: 'run.cancel' } }, async (req) => call(req, 'run.cancel', req.params));
  app.delete('/api/runs/:runId', { config: { access: 'run.delete' } }, async (req) => call(req, 'run.delete', req.params));
  app.post('/api/runs/:runId/rerun', { config: { access: 'run.rerun' } }, async (req) => call(req, 'run.rerun', req.params));
  app.get('/api/runs/:runId/jobs/:jobId', { config: { access: 'job.get' } }, async (req) => call(req, 'job.get', { ref: refOf(req.params) }));
  app.post('/api/runs/:runId/jobs/:jobId/cancel', { config: { access: 'job.cancel' } }, async (req) => call(req, 'job.cancel', { ref: refOf(req.params) }));
  app.post('/api/runs/:runId/jobs/:jobId/retry', { config: { access: 'job.retry' } }, async (req) => call(req, 'job.retry', { ref: refOf(req.params) }));
  app.post('/api/runs/:runId/jobs/:jobId/stop', { config: { access: 'service.stop' } }, async (req) => call(req, 'service.stop', { ref: refOf(req.params) }));

  app.get('/api/runs/:runId/jobs/:jobId/logs', { config: { access: 'logs.get' } }, async (req) => {
    const q = queryOf(req);
    return call(req, 'logs.get', { ref: refOf(req.params), attempt: numberOf(q.attempt), offset: numberOf(q.offset), limit: numberOf(q.limit) });
  });
  app.get('/api/runs/:runId/jobs/:jobId/logs/download', { config: { access: 'logs.get' } }, async (req, reply) => {
    const p = checkParams('logs.get', { ref: refOf(req.params), attempt: numberOf(queryOf(req).attempt) }, ISSUES);
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

  app.get('/api/gates', { config: { access: 'gates.list' } }, async (req) => call(req, 'gates.list', { history: numberOf(queryOf(req).history) }));
  for (const [action, approved] of [['approve', true], ['reject', false]] as const) {
    // The decision is recorded under who signed in or whose token it is, never a name from the body.
    const decide = (req: FastifyRequest, ref: unknown) => call(req, 'gate.decide', { ref, approved, comment: bodyObject(req).comment ?? null });
    const config = { access: 'gate.decide' };
    app.post(`/api/runs/:runId/jobs/:jobId/${action}`, { config }, async (req) => decide(req, refOf(req.params)));
    // Any gate by its reference, Titan-style gates (named by their gate id) included.
    app.post(`/api/gates/${action}`, { config }, async (req) => decide(req, bodyObject(req).ref));
  }

  // ---- the audit log ----------------------------------------------------------------------------

  app.get('/api/audit', { config: { access: 'audit.list' } }, async (req) => {
    const q = queryOf(req);
    return call(req, 'audit.list', { limit: numberOf(q.limit), before: numberOf(q.before) });
  });

  // ---- named tokens and dashboard users: a token is shown once, at creation; passwords never ---

  const identityName = (req: FastifyRequest) => ({ name: (req.params as { name: string }).name });
  app.get('/api/tokens', { config: { access: 'token.list' } }, async (req) => call(req, 'token.list', {}));
  app.post('/api/tokens', { config: { access: 'token.create' } }, async (req) => call(req, 'token.create', bodyObject(req)));
  app.delete('/api/tokens/:name', { config: { access: 'token.revoke' } }, async (req) => call(req, 'token.revoke', identityName(req)));
  app.get('/api/users', { config: { access: 'user.list' } }, async (req) => call(req, 'user.list', {}));
  app.delete('/api/users/:name', { config: { access: 'user.remove' } }, async (req) => call(req, 'user.remove', identityName(req)));

  // ---- agent runs -------------------------------------------------------------------------------

  app.get('/api/agent-runs', { config: { access: 'agentRuns.list' } }, async (req) => call(req, 'agentRuns.list', { limit: numberOf(queryOf(req).limit) }));
  app.get('/api/agent-runs/:id', { config: { access: 'agentRun.get' } }, async (req) => call(req, 'agentRun.get', { agentRunId: idOf(req) }));

  // ---- schedules --------------------------------------------------------------------------------

  const scheduleName: Wording = (issues) => `invalid schedule name: ${issues}`;
  const named = (req: FastifyRequest) => ({ name: (req.params as { name: string }).name });
  app.get('/api/schedules', { config: { access: 'schedules.list' } }, async (req) => call(req, 'schedules.list', {}));
  app.post('/api/schedules/:name/pause', { config: { access: 'schedule.pause' } }, async (req) => call(req, 'schedule.pause', named(req), scheduleName));
  app.post('/api/schedules/:name/resume', { config: { access: 'schedule.resume' } }, async (req) => call(req, 'schedule.resume', named(req), scheduleName));
  app.post('/api/schedules/:name/run-now', { config: { access: 'schedule.runNow' } }, async (req) => call(req, 'schedule.runNow', named(req), scheduleName));
  app.delete('/api/schedules/:name', { config: { access: 'schedule.delete' } }, async (req) => call(req, 'schedule.delete', named(req), scheduleName));

  // ---- triggers: listed and removed here; deliveries come through /hooks/NAME (http-hooks.ts) ----

  const triggerName: Wording = (issues) => `invalid trigger: ${issues}`;
  app.get('/api/triggers', { config: { access: 'triggers.list' } }, async (req) => call(req, 'triggers.list', {}));
  app.get('/api/triggers/:name', { config: { access: 'triggers.get' } }, async (req) => call(req, 'triggers.get', { ...named(req), deliveries: numberOf(queryOf(req).deliveries) }, triggerName));
  app.delete('/api/triggers/:name', { config: { access: 'triggers.remove' } }, async (req) => call(req, 'triggers.remove', named(req), triggerName));

  // ---- flow control -----------------------------------------------------------------------------

  const limitKey = (req: FastifyRequest) => (req.params as { key: string }).key;
  app.get('/api/limits', { config: { access: 'limits.list' } }, async (req) => call(req, 'limits.list', {}));
  app.put('/api/limits/:key', { config: { access: 'limits.set' } }, async (req) => call(req, 'limits.set', { ...bodyObject(req), key: limitKey(req) }));
  app.delete('/api/limits/:key', { config: { access: 'limits.remove' } }, async (req) => call(req, 'limits.remove', { key: limitKey(req) }));

  // ---- secrets: names and dates only; a value goes in by PUT and never comes back ---------------

  const secretName = (req: FastifyRequest) => (req.params as { name: string }).name;
  const secretWording: Wording = (issues) => `invalid secret: ${issues}`;
  app.get('/api/secrets', { config: { access: 'secrets.list' } }, async (req) => call(req, 'secrets.list', {}));
  app.put('/api/secrets/:name', { config: { access: 'secret.set' } }, async (req) => call(req, 'secret.set', { value: bodyObject(req).value, name: secretName(req) }, secretWording));
  app.delete('/api/secrets/:name', { config: { access: 'secret.remove' } }, async (req) => call(req, 'secret.remove', { name: secretName(req) }, secretWording));

  // ---- notifications out: the cluster's URLs and signing key, and the deliveries -------------------

  const notifyEvent = (req: FastifyRequest) => (req.params as { event: string }).event;
  app.get('/api/notifications', { config: { access: 'notifications.list' } }, async (req) => call(req, 'notifications.list', {}));
  app.put('/api/notifications/key', { config: { access: 'notifications.key' } }, async (req) => call(req, 'notifications.key', { secret: bodyObject(req).secret }));
  app.get('/api/notifications/deliveries', { config: { access: 'notifications.deliveries' } }, async (req) => {
    const q = queryOf(req);
    return call(req, 'notifications.deliveries', { ...(q.run !== undefined && { runId: q.run }), ...(q.limit !== undefined && { limit: numberOf(q.limit) }) });
  });
  app.get('/api/runs/:runId/notifications', { config: { access: 'notifications.deliveries' } }, async (req) => call(req, 'notifications.deliveries', { runId: (req.params as { runId: string }).runId }));
  app.put('/api/notifications/:event', { config: { access: 'notifications.set' } }, async (req) => call(req, 'notifications.set', { url: bodyObject(req).url, event: notifyEvent(req) }));
  app.delete('/api/notifications/:event', { config: { access: 'notifications.remove' } }, async (req) => call(req, 'notifications.remove', { event: notifyEvent(req) }));

  // ---- workers ----------------------------------------------------------------------------------

  app.get('/api/workers', { config: { access: 'workers.list' } }, async (req) => call(req, 'workers.list', {}));
  app.post('/api/workers/:id/drain', { config: { access: 'worker.drain' } }, async (req) => call(req, 'worker.drain', { id: idOf(req) }));
  app.post('/api/workers/:id/undrain', { config: { access: 'worker.undrain' } }, async (req) => call(req, 'worker.undrain', { id: idOf(req) }));
  app.post('/api/workers/:id/shutdown', { config: { access: 'worker.shutdown' } }, async (req) => {
    const body = bodyObject(req);
    return call(req, 'worker.shutdown', { id: idOf(req), force: body.force, drainTimeoutMs: body.drainTimeoutMs });
  });
}
