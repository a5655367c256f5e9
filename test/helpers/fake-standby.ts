/**
 * A stand-in for a standby master: a TCP server on loopback that answers every v2 HELLO with
 * NOT_LEADER (naming the leader or not) and closes, as a master that does not lead does. It
 * counts the greetings it refused, so a test can tell which addresses a client tried.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, V2 } from '../../src/protocol/frame.js';
import { OP } from '../../src/protocol/v2.js';

export class FakeStandby {
  hellos = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** `leader`: the `host:port` its refusals name, if any. */
  static async start(leader?: string): Promise<FakeStandby> {
    let standby: FakeStandby | null = null;
    const server = createServer((socket) => {
      standby?.sockets.add(socket);
      socket.on('close', () => standby?.sockets.delete(socket));
      socket.on('error', () => {});
      const decoder = new FrameDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) {
          if (frame.opcode !== OP.HELLO || !standby) continue;
          standby.hellos++;
          const error = { code: 'NOT_LEADER', message: 'this master is a standby', ...(leader !== undefined && { leader }) };
          socket.end(encodeFrame(V2, OP.RESPONSE, JSON.stringify({ id: null, ok: false, error })));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    standby = new FakeStandby(server, (server.address() as { port: number }).port);
    return standby;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A loopback port nothing listens on now (bound, then freed). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
