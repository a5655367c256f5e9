/**
 * The master's two ports, opened once and never closed until the master stops: a standby serves
 * its answers on them (standby.ts) and, once it leads, the same listeners serve the leader's
 * sessions and HTTP app. A port that refused connections during a takeover would look like a dead
 * master to load balancers, health checks and clients.
 *
 * Between acquiring the lease and serving as leader (the state loads from the store), a new TCP
 * connection or HTTP request waits up to TAKEOVER_WAIT_MS for the leader's handlers and then goes
 * to them; past that it gets the standby's answer (NOT_LEADER naming this master, 503 with
 * Retry-After). `/healthz` never waits: it says `standby` until the leader answers it.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createHttpPort, type HttpHandler, type HttpPortOptions } from './http.js';
import { type TcpServe, tcpDoor } from './tcp.js';

/** How long a request that arrives while this master takes over waits for the leader's handlers. */
export const TAKEOVER_WAIT_MS = 3_000;

export class MasterDoors {
  readonly tcp: Server;
  readonly http: HttpServer | HttpsServer;
  private tcpServe: TcpServe;
  private app: FastifyInstance | null = null;
  private readonly apps: FastifyInstance[] = [];
  private takingOver = false;
  /** Requests and connections waiting for the leader: each is let go once, when it leads or its wait ends. */
  private readonly waiting = new Set<() => void>();

  constructor(options: HttpPortOptions) {
    this.tcpServe = (socket) => socket.destroy();
    this.tcp = tcpDoor((socket, first) => this.serveTcp(socket, first), options.tls, options.connections);
    this.http = createHttpPort(options, (req, res) => this.serveHttp(req, res));
  }

  /** Serve a standby's answers. */
  standBy(tcp: TcpServe, app: FastifyInstance): Promise<void> {
    return this.serve(tcp, app);
  }

  /** This master holds the lease and loads its state: new requests wait for lead() (see TAKEOVER_WAIT_MS). */
  takeOver(): void {
    this.takingOver = true;
  }

  /** Serve the leader's handlers from now on, and let every waiting request through to them. */
  async lead(tcp: TcpServe, app: FastifyInstance): Promise<void> {
    await this.serve(tcp, app);
    this.takingOver = false;
    for (const go of [...this.waiting]) go();
  }

  /** Ends every connection and stops both ports; the apps' close hooks run (event streams end). */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const app of this.apps) await app.close();
    // Closed apps answer 503; waiting connections were ended with the TCP port.
    for (const go of [...this.waiting]) go();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    await closed;
  }

  private async serve(tcp: TcpServe, app: FastifyInstance): Promise<void> {
    await app.ready();
    this.apps.push(app);
    this.tcpServe = tcp;
    this.app = app;
  }

  private serveTcp(socket: Parameters<TcpServe>[0], first: Buffer): void {
    if (!this.takingOver) return this.tcpServe(socket, first);
    // Held unread until the leader's session reads it, so that no frame after the first is lost.
    socket.pause();
    this.afterTakeover(() => {
      if (socket.destroyed) return;
      this.tcpServe(socket, first);
      socket.resume();
    });
  }

  private serveHttp(req: IncomingMessage, res: ServerResponse): void {
    const handle: HttpHandler = (q, s) => (this.app ? this.app.routing(q, s) : s.destroy());
    if (!this.takingOver || (req.url ?? '').split('?')[0] === '/healthz') return handle(req, res);
    this.afterTakeover(() => {
      if (!res.destroyed) handle(req, res);
    });
  }

  private afterTakeover(go: () => void): void {
    const once = (): void => {
      if (!this.waiting.delete(once)) return;
      clearTimeout(timer);
      go();
    };
    const timer = setTimeout(once, TAKEOVER_WAIT_MS);
    this.waiting.add(once);
  }
}
