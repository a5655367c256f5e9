/**
 * The doors of a standby master, on the ports it will serve once it leads. It holds no state, so
 * it answers only where the leader is:
 * - TCP: the first frame (a v2 HELLO) gets NOT_LEADER with the leader's `host:port`, then the
 *   connection is closed; a Titan v1 client gets the same sentence as a v1 error.
 * - HTTP: `/healthz` says `role: standby` and who leads (200, for load balancers that pick the
 *   leader by another field, and for monitoring); a browser asking for a dashboard page is sent
 *   to the leader's (307, same path); everything else gets 503 NOT_LEADER.
 * TLS, the connection caps and the HTTP deadlines are the leader's.
 */
import type { Server } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { encodeFrame, V1, V2 } from '../protocol/frame.js';
import { V1_ERROR } from '../protocol/v1.js';
import { type ErrorBody, OP } from '../protocol/v2.js';
import type { MasterAddress } from '../store/lease.js';
import { createHttpTransport, type HttpOptions } from './http.js';
import { isServerPath } from './http-static.js';
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS, endWith } from './limits.js';
import { tcpDoor } from './tcp.js';
import type { ServerTls } from './tls.js';

/** Who leads now, as this standby last saw it (null: nobody, or not known). */
export type LeaderView = () => MasterAddress | null;

export function standbyMessage(leader: MasterAddress | null, via: 'tcp' | 'http'): string {
  if (leader === null) return 'this master is a standby and no master leads right now; try again in a few seconds';
  return `this master is a standby; the leader is at ${via === 'tcp' ? leader.tcp : leader.http}`;
}

export function createStandbyTcpServer(leader: LeaderView, tls?: ServerTls, limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS): Server {
  return tcpDoor(
    (socket, first) => {
      const now = leader();
      if (first[0] === V1) return endWith(socket, encodeFrame(V1, V1_ERROR, `ERROR: ${standbyMessage(now, 'tcp')}`));
      const error: ErrorBody = { code: 'NOT_LEADER', message: standbyMessage(now, 'tcp'), ...(now && { leader: now.tcp }) };
      endWith(socket, encodeFrame(V2, OP.RESPONSE, JSON.stringify({ id: null, ok: false, error })));
    },
    tls,
    limits,
  );
}

const wantsPage = (req: FastifyRequest): boolean => req.method === 'GET' && !isServerPath(req.url.split('?')[0] ?? '') && (req.headers.accept ?? '').includes('text/html');

export function createStandbyHttpServer(leader: LeaderView, options: Pick<HttpOptions, 'tls' | 'connections' | 'timeouts'>): FastifyInstance {
  const app = createHttpTransport(options);
  const where = (now: MasterAddress | null): { tcp: string; http: string } | null => (now ? { tcp: now.tcp, http: now.http } : null);
  app.get('/healthz', async () => ({ status: 'ok', ok: true, role: 'standby', leader: where(leader()) }));
  app.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) => {
    const now = leader();
    if (now && wantsPage(req)) return reply.code(307).header('location', `${now.http.replace(/\/+$/, '')}${req.url}`).send();
    return reply
      .code(503)
      .header('retry-after', '1')
      .send({ error: { code: 'NOT_LEADER', message: standbyMessage(now, 'http'), leader: where(now) } });
  });
  return app;
}
