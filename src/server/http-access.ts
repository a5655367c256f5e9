/**
 * Every API route names the client method it performs (`config: { access }`), and whether the
 * caller may is decided by that method's entry in protocol/access.ts: the same table the TCP
 * sessions use. A route that names none cannot be registered. State-changing calls are audited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TitanError } from '../core/errors.js';
import { changesState, isTableMethod, refusal, titanGateRefusal } from '../protocol/access.js';
import type { Gatekeeper } from './gatekeeper.js';
import { principalOf, signedIn } from './http-common.js';

export interface RouteAccess {
  /** The client method this route performs (a key of ACCESS or DOOR_ONLY_ACCESS). */
  access: string;
}

const methodOf = (req: FastifyRequest): string => (req.routeOptions.config as Partial<RouteAccess>).access ?? '';

type Audited = FastifyRequest & { failure?: string };

export function decideByTheMethodTable(api: FastifyInstance, gate: Gatekeeper): void {
  api.addHook('onRoute', (route) => {
    const method = (route.config as Partial<RouteAccess> | undefined)?.access;
    // HEAD routes are made by Fastify from GET ones and carry their config.
    if (method === undefined || !isTableMethod(method)) {
      throw new Error(`the route ${route.method} ${route.url} must name the client method it performs (config.access), one of protocol/access.ts`);
    }
  });
  api.addHook('preHandler', async (req) => {
    const who = principalOf(req);
    const method = methodOf(req);
    const refused = refusal(who, method) ?? titanGateRefusal(who, method, callParams(req));
    if (refused !== null) throw new TitanError('FORBIDDEN', refused);
  });
  api.addHook('onError', async (req, _reply, err) => {
    (req as Audited).failure = err.message;
  });
  api.addHook('onResponse', async (req, reply) => {
    const method = methodOf(req);
    const who = signedIn(req);
    if (!changesState(method) || who === undefined) return;
    const failed = reply.statusCode >= 400 ? ((req as Audited).failure ?? `HTTP ${reply.statusCode}`) : null;
    gate.record(who, 'http', req.ip, method, callParams(req), failed);
  });
}

/** Fields that name what a call acts on (what the audit records as its target). */
const NAMING = ['ref', 'runId', 'jobId', 'agentRunId', 'key', 'id', 'name'];

/**
 * The call's parameters as the method would take them. What it acts on comes from the path when
 * the path names it (a job as `runId/jobId`, a data bus key as the path's tail), so a body cannot
 * change what is checked or recorded; the body gives the rest (a value, a gate's ref on routes
 * whose path names nothing).
 */
function callParams(req: FastifyRequest): Record<string, unknown> {
  const path = req.params as Record<string, unknown>;
  const body: Record<string, unknown> = req.body !== null && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? { ...(req.body as Record<string, unknown>) } : { value: req.body };
  const named: Record<string, unknown> = { ...path };
  if (typeof path.runId === 'string' && typeof path.jobId === 'string') named.ref = `${path.runId}/${path.jobId}`;
  if (typeof path['*'] === 'string') named.key = path['*'];
  if (NAMING.some((field) => field in named)) for (const field of NAMING) delete body[field];
  return { ...body, ...named };
}
