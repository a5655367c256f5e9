/**
 * What the master's ports grant a client before and beyond trust: caps on open connections (in
 * all, and from one address; one over a cap is closed at once, before it costs a buffer or a
 * timer, so a flood from one host cannot take every connection) and the deadlines of an HTTP
 * exchange. Kept free of the servers themselves, so the CLI can read the defaults for its flags.
 */
import type { Server, Socket } from 'node:net';
import { TitanError } from '../core/errors.js';

export interface ConnectionLimits {
  /** Open connections on one port, from everyone. */
  total: number;
  /** Open connections on one port from one address. */
  perAddress: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { total: 4096, perAddress: 512 };

/** What one v2 session may hold open at once, so that one client cannot take what all share. */
export const SESSION_LIMITS = { subscriptions: 256, waits: 256, uploads: 16 };

/** Throws UNAVAILABLE when a session already holds `limit` of `what`. */
export function checkRoom(held: number, limit: number, what: string): void {
  if (held >= limit) throw new TitanError('UNAVAILABLE', `this connection already holds ${limit} ${what}, the most one connection may; end some first`);
}

/** How long a peer may keep its side of a connection open once the master's last frame has left. */
export const LINGER_MS = 5_000;

/**
 * Ends a connection with a last frame. A peer that closes its side in reply (as every client
 * does) is gone at once; one that keeps it open is dropped LINGER_MS after the frame has been
 * handed to the network, so a refused or answered connection holds nothing for long.
 */
export function endWith(socket: Socket, frame: Buffer): void {
  let timer: NodeJS.Timeout | undefined;
  socket.once('close', () => clearTimeout(timer));
  socket.end(frame, () => {
    timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
  });
}

export interface HttpTimeouts {
  headersMs: number;
  requestMs: number;
  idleMs: number;
  keepAliveMs: number;
}

/**
 * Deadlines of an HTTP exchange: the headers, the whole request (an upload included), an idle
 * socket (event streams write a ping every 15 s, so they are never idle that long), and an idle
 * keep-alive connection between requests.
 */
export const HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 60_000, idleMs: 60_000, keepAliveMs: 5_000 };

export class ConnectionCaps {
  private open = 0;
  private readonly byAddress = new Map<string, number>();
  /** Connections refused so far, for the log and for tests. */
  refused = 0;

  constructor(private readonly limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS) {}

  /** Admits a new connection (counted until it closes) or destroys it; true when admitted. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? 'unknown';
    const fromThere = this.byAddress.get(address) ?? 0;
    if (this.open >= this.limits.total || fromThere >= this.limits.perAddress) {
      this.refused++;
      socket.destroy();
      return false;
    }
    this.open++;
    this.byAddress.set(address, fromThere + 1);
    socket.once('close', () => {
      this.open--;
      const left = (this.byAddress.get(address) ?? 1) - 1;
      if (left === 0) this.byAddress.delete(address);
      else this.byAddress.set(address, left);
    });
    return true;
  }

  /** Applies the caps to every connection a server accepts, ahead of its own handling (and of any TLS handshake). */
  guard(server: Server): void {
    server.prependListener('connection', (socket: Socket) => void this.admit(socket));
  }
}
