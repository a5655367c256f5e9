/**
 * HTTP on 5000: the dashboard, its JSON API with live updates (server-sent events), `/metrics`
 * (Prometheus) and `/healthz` (open, for load balancers). docs/http-api.md is the contract.
 *
 * Composition: every response gets the security headers (http-static); sign-in routes are open
 * (http-auth); every API route, the event streams and `/metrics` live in one encapsulated
 * context whose guard demands the bearer token or a session cookie with its CSRF token, so a
 * route can only be added behind it; the dashboard's files are public (they hold no data).
 */
import { createServer as createHttpServerOf, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import Fastify, { type FastifyInstance } from 'fastify';
import { TitanError } from '../core/errors.js';
import type { Master } from '../master/master.js';
import { registerApiRoutes } from './http-api.js';
import { registerAuth } from './http-auth.js';
import { decideByTheMethodTable } from './http-access.js';
import type { Gatekeeper } from './gatekeeper.js';
import { registerConstructorRoutes } from './http-constructor.js';
import { STATUS_OF } from './http-common.js';
import { registerDataRoutes } from './http-data.js';
import { registerHookRoutes } from './http-hooks.js';
import { registerMetricsRoute } from './http-metrics.js';
import { registerEventRoutes, SseStreams } from './http-sse.js';
import { defaultWebRoot, isServerPath, registerStatic, SECURITY_HEADERS } from './http-static.js';
import { type ConnectionLimits, ConnectionCaps, DEFAULT_CONNECTION_LIMITS, HTTP_TIMEOUTS, type HttpTimeouts } from './limits.js';
import type { ServerTls } from './tls.js';
import type { MasterAddress } from '../store/lease.js';

export interface HttpOptions {
  /** Who may call: the cluster token, named tokens and users, and the audit of what they did. */
  gate: Gatekeeper;
  /** The built dashboard (default: `dist/web` of this installation). */
  webRoot?: string | undefined;
  /** The master's data directory: the constructor's drafts are kept in its `drafts/`; the constructor routes are served only with it. */
  dataDir?: string | undefined;
  /** Serve HTTPS (with mutual TLS when it names a client CA); session cookies then get `Secure`. */
  tls?: ServerTls | undefined;
  /** This master's address, when it leads masters that share a store (shown by /healthz). */
  self?: MasterAddress | undefined;
}


/** Who answers a request on the HTTP port (a fastify app's `routing`). */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpPortOptions {
  tls?: ServerTls | undefined;
  /** Caps on open connections (default DEFAULT_CONNECTION_LIMITS). */
  connections?: ConnectionLimits | undefined;
  /** Deadlines of an exchange (default HTTP_TIMEOUTS). */
  timeouts?: HttpTimeouts | undefined;
}

/**
 * The HTTP port's server, the leader's and a standby's alike: HTTP or HTTPS with the exchange
 * deadlines and the connection caps; `handle` picks who answers each request.
 */
export function createHttpPort(options: HttpPortOptions, handle: HttpHandler): HttpServer | HttpsServer {
  const t = options.timeouts ?? HTTP_TIMEOUTS;
  // Deadlines are checked every second (Node's default is every 30 s), so a slow client is cut off on time.
  const deadlines = { headersTimeout: t.headersMs, requestTimeout: t.requestMs, keepAliveTimeout: t.keepAliveMs, connectionsCheckingInterval: 1_000 };
  const server = options.tls ? createHttpsServer({ ...options.tls, ...deadlines }, handle) : createHttpServerOf(deadlines, handle);
  server.setTimeout(t.idleMs, (socket) => socket.destroy());
  new ConnectionCaps(options.connections ?? DEFAULT_CONNECTION_LIMITS).guard(server);
  return server;
}

/**
 * What every HTTP door answers with (the leader's and a standby's): a fastify app with the
 * security headers on every response. It listens on no port of its own: the port's server hands
 * it requests through `app.routing` once it is ready (see MasterDoors).
 */
export function createHttpTransport(options: Pick<HttpOptions, 'tls'>): FastifyInstance {
  const tls = options.tls;
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 }) as unknown as FastifyInstance;
  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    // Over TLS, browsers are told to keep to https for this host from now on.
    if (tls) reply.header('strict-transport-security', 'max-age=31536000');
    // Answers about the cluster (sessions and CSRF tokens among them) are never cached.
    if (isServerPath(req.url.split('?')[0] ?? '')) reply.header('cache-control', 'no-store');
  });
  return app;
}

export function createHttpServer(master: Master, options: HttpOptions): FastifyInstance {
  const app = createHttpTransport(options);

  app.setErrorHandler(async (err, _req, reply) => {
    if (err instanceof TitanError) return reply.code(STATUS_OF[err.code] ?? 500).send({ code: err.code, message: err.message });
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send({ code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL', message: (err as Error).message });
  });

  app.get('/healthz', async () => {
    const { uptimeMs, disk } = master.stats();
    const self = options.self;
    return { status: 'ok', uptimeMs, ...(disk && { disk }), role: 'leader', ...(self && { leader: { tcp: self.tcp, http: self.http } }) };
  });
  const auth = registerAuth(app, { gate: options.gate, sessionsFile: options.dataDir === undefined ? undefined : join(options.dataDir, 'sessions.json'), log: (line) => void process.stderr.write(`titan master: ${line}\n`) });
  const streams = new SseStreams(auth.sessions, options.gate);
  app.addHook('preClose', async () => streams.endAll());

  void app.register(async (api) => {
    api.addHook('onRequest', auth.guard);
    decideByTheMethodTable(api, options.gate);
    registerMetricsRoute(api, master);
    registerApiRoutes(api, master, options.gate);
    registerDataRoutes(api, master, options.gate);
    registerEventRoutes(api, master, streams);
    if (options.dataDir !== undefined) registerConstructorRoutes(api, master, options.gate, options.dataDir);
  });

  // Outside the guarded context: a trigger authenticates its own deliveries.
  registerHookRoutes(app, master);
  registerStatic(app, options.webRoot ?? defaultWebRoot());
  return app;
}
