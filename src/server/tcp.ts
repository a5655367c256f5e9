/**
 * The TCP front door on 9090. The first byte of a connection is the frame version and picks the
 * dialect: 2 is a v2 session; 1 is Titan's v1, served when enabled for this peer and otherwise
 * refused in v1, so Titan's clients show the reason. With TLS the same sniffing runs on the
 * decrypted stream.
 */
import { BlockList, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Master } from '../master/master.js';
import { encodeFrame, V1, V2 } from '../protocol/frame.js';
import { Peer } from '../protocol/peer.js';
import { OP } from '../protocol/v2.js';
import { V1_ERROR, V1_METHOD, type V1Reply } from '../protocol/v1.js';
import { changesState } from '../protocol/access.js';
import { type Principal, ROLE_PERMISSIONS } from '../protocol/roles.js';
import type { Gatekeeper } from './gatekeeper.js';
import { HELLO_TIMEOUT_MS, serveV2 } from './sessions.js';
import { type ConnectionLimits, ConnectionCaps, DEFAULT_CONNECTION_LIMITS, endWith } from './limits.js';
import type { ServerTls } from './tls.js';
import { serveV1, type V1Access, v1Refusal } from './v1.js';
import { v1Handler } from './v1-handlers.js';

/** Whoever serves a connection, given its first bytes: the leader's sessions or a standby's answer. */
export type TcpServe = (socket: Socket, first: Buffer) => void;

/** The leader's answer to a connection: a v2 session, or Titan's v1 when allowed. */
export function leaderTcp(master: Master, gate: Gatekeeper, v1: V1Access = { enabled: false, allow: new BlockList() }): TcpServe {
  return (socket, first) => route(socket, first, master, gate, v1);
}

/**
 * A TCP port (with TLS when given) that hands each connection's first bytes to `serve`, under the
 * connection caps: a leader's and a standby's alike. Its close() ends every connection too.
 */
export function tcpDoor(serve: TcpServe, tls?: ServerTls, limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS): Server {
  const sockets = new Set<Socket>();
  const session = (socket: Socket): void => {
    // The HELLO deadline starts at connect (after the handshake with TLS): a connection that never sends a byte is closed too.
    const silent = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
    socket.on('close', () => clearTimeout(silent));
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      clearTimeout(silent);
      serve(socket, first);
    });
  };
  // A handshake gets no longer than a HELLO; a failed one only closes that connection.
  const server = tls ? createTlsServer({ ...tls, handshakeTimeout: HELLO_TIMEOUT_MS }, session) : createServer(session);
  new ConnectionCaps(limits).guard(server);
  // Raw connections, handshaking ones included, so that close() can end them all.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Closing the server also ends live sessions, so a stopping master does not wait on idle clients
  // and a standby's ports are free for it once it leads.
  const close = server.close.bind(server);
  server.close = (cb?: (err?: Error) => void) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  return server;
}

function route(socket: Socket, first: Buffer, master: Master, gate: Gatekeeper, v1: V1Access): void {
  const version = first[0];
  if (version === V2) {
    const peer = new Peer(socket, { server: true });
    serveV2(peer, master, gate, socket.remoteAddress);
    peer.feed(first);
    return;
  }
  if (version === V1) {
    const refusal = v1Refusal(v1, socket.remoteAddress);
    if (refusal) endWith(socket, encodeFrame(V1, V1_ERROR, refusal));
    else serveV1(socket, first, auditedV1(master, gate, socket.remoteAddress));
    return;
  }
  // Only a Titan client could mistake the version byte, so with v1 on it is answered in v1.
  if (v1.enabled) {
    endWith(socket, encodeFrame(V1, V1_ERROR, `ERROR: Version Mismatch! Server expects v1 (this server speaks 1 and 2; got version ${version})`));
    return;
  }
  const message = JSON.stringify({ id: null, ok: false, error: { code: 'BAD_FRAME', message: `unsupported protocol version ${version} (this server speaks 1 and 2)` } });
  endWith(socket, encodeFrame(V2, OP.RESPONSE, message));
}

/**
 * Titan's v1 has no token: a command is whoever the allowed address is, with every permission,
 * and its state-changing commands are audited under that address.
 */
function auditedV1(master: Master, gate: Gatekeeper, from: string | undefined): ReturnType<typeof v1Handler> {
  const who: Principal = { name: `v1@${from ?? 'unknown'}`, kind: 'v1', permissions: ROLE_PERMISSIONS.admin };
  const handle = v1Handler({ master, gate, principal: who, origin: {} });
  return async (opcode: number, payload: string): Promise<V1Reply> => {
    const reply = await handle(opcode, payload);
    const method = V1_METHOD[opcode];
    if (method !== undefined && changesState(method)) gate.record(who, 'v1', from, method, { name: payload.split('|')[0]?.slice(0, 100) }, reply.ok ? null : reply.text);
    return reply;
  };
}
