/**
 * The answers of a standby master, on the ports it will serve once it leads. It holds no state,
 * so it answers only where the leader is:
 * - TCP: the first frame (a v2 HELLO) gets NOT_LEADER with the leader's `host:port`, then the
 *   connection is closed; a Titan v1 client gets the same sentence as a v1 error.
 * - HTTP: `/healthz` says `role: standby` and who leads (200, for load balancers that pick the
 *   leader by another field, and for monitoring); a browser asking for a dashboard page is sent
 *   to the leader's (307, same path); everything else gets 503 NOT_LEADER with Retry-After.
 * While it takes over (it holds the lease and loads the state) it names itself as the leader.
 * The ports, TLS, the connection caps and the HTTP deadlines are the leader's (MasterDoors).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { encodeFrame, V1, V2 } from '../protocol/frame.js';
import { V1_ERROR } from '../protocol/v1.js';
import { type ErrorBody, OP } from '../protocol/v2.js';
import type { MasterAddress } from '../store/lease.js';
import { createHttpTransport, type HttpOptions } from './http.js';
import { isServerPath } from './http-static.js';
import { endWith } from './limits.js';
import type { TcpServe } from './tcp.js';

/** What a standby knows: who leads as it last saw it (null: nobody, or not known), and whether it is taking over itself. */
export interface StandbyView {
  leader(): MasterAddress | null;
  takingOver(): boolean;
}

export function standbyMessage(view: StandbyView, via: 'tcp' | 'http'): string {
  if (view.takingOver()) return 'this master is taking over as the leader and is loading its state; try again in a moment';
  const leader = view.leader();
  if (leader === null) return 'this master is a standby and no master leads right now; try again in a few seconds';
  return `this master is a standby; the leader is at ${via === 'tcp' ? leader.tcp : leader.http}`;
}

export function standbyTcp(view: StandbyView): TcpServe {
  return (socket, first) => {
    const now = view.leader();
    if (first[0] === V1) return endWith(socket, encodeFrame(V1, V1_ERROR, `ERROR: ${standbyMessage(view, 'tcp')}`));
    const error: ErrorBody = { code: 'NOT_LEADER', message: standbyMessage(view, 'tcp'), ...(now && { leader: now.tcp }) };
    endWith(socket, encodeFrame(V2, OP.RESPONSE, JSON.stringify({ id: null, ok: false, error })));
  };
}

const wantsPage = (req: FastifyRequest): boolean => req.method === 'GET' && !isServerPath(req.url.split('?')[0] ?? '') && (req.headers.accept ?? '').includes('text/html');

export function createStandbyHttpApp(view: StandbyView, options: Pick<HttpOptions, 'tls'>): FastifyInstance {
  const app = createHttpTransport(options);
  const where = (now: MasterAddress | null): { tcp: string; http: string } | null => (now ? { tcp: now.tcp, http: now.http } : null);
  app.get('/healthz', async () => ({ status: 'ok', ok: true, role: 'standby', leader: where(view.leader()) }));
  app.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) => {
    const now = view.leader();
    if (now && !view.takingOver() && wantsPage(req)) return reply.code(307).header('location', `${now.http.replace(/\/+$/, '')}${req.url}`).send();
    return reply
      .code(503)
      .header('retry-after', '1')
      .send({ error: { code: 'NOT_LEADER', message: standbyMessage(view, 'http'), leader: where(now) } });
  });
  return app;
}
