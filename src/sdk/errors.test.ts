import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TitanError as CoreTitanError } from '../core/errors.js';
import { Peer } from '../protocol/peer.js';
import { TitanClient } from './client.js';
import { BadRequestError, ConflictError, InternalError, InvalidDagError, NotFoundError, ProtocolError, TitanError, typedError, UnauthorizedError, UnavailableError } from './errors.js';

const servers: Server[] = [];
const clients: TitanClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A stand-in master on a free loopback port: accepts HELLO (unless `refuse`), answers each request with `reply`. */
async function fakeMaster(reply: (method: string) => unknown, refuse?: CoreTitanError): Promise<number> {
  const server = createServer((socket) => {
    const peer = new Peer(socket, { server: true });
    peer.onHello = async () => {
      if (refuse) throw refuse;
      return { version: 2 };
    };
    peer.onRequest = (req) => reply(req.method);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

function client(port: number): TitanClient {
  const c = new TitanClient({ host: '127.0.0.1', port, token: 't', connectTimeoutMs: 2000 });
  clients.push(c);
  return c;
}

describe('typedError', () => {
  it.each([
    ['BAD_REQUEST', BadRequestError],
    ['UNAUTHORIZED', UnauthorizedError],
    ['NOT_FOUND', NotFoundError],
    ['CONFLICT', ConflictError],
    ['INVALID_DAG', InvalidDagError],
    ['UNAVAILABLE', UnavailableError],
    ['UNKNOWN_METHOD', ProtocolError],
    ['INTERNAL', InternalError],
  ] as const)('maps %s to its class, keeping code, message and instanceof TitanError', (code, cls) => {
    const err = typedError(new CoreTitanError(code, 'what happened'));
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(TitanError);
    expect(err).toBeInstanceOf(CoreTitanError);
    expect(err).toMatchObject({ code, message: 'what happened', name: cls.name });
  });

  it('leaves an unknown code a plain TitanError, and other errors as they are', () => {
    const odd = new CoreTitanError('SOMETHING_NEW', 'x');
    expect(typedError(odd)).toBe(odd);
    const plain = new Error('boom');
    expect(typedError(plain)).toBe(plain);
    const typed = new NotFoundError('gone');
    expect(typedError(typed)).toBe(typed);
  });

  it('turns a socket error into an UnavailableError with the cause kept', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const err = typedError(reset);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).cause).toBe(reset);
    expect((err as UnavailableError).code).toBe('UNAVAILABLE');
  });
});

describe('TitanClient errors', () => {
  it('throws NotFoundError for a NOT_FOUND reply', async () => {
    const port = await fakeMaster(() => {
      throw new CoreTitanError('NOT_FOUND', 'no job "nope"');
    });
    const err = await client(port).getJob('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toBeInstanceOf(TitanError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'no job "nope"' });
  });

  it('throws ConflictError and InvalidDagError for those replies', async () => {
    let code = 'CONFLICT';
    const port = await fakeMaster(() => {
      throw new CoreTitanError(code, code);
    });
    const c = client(port);
    await expect(c.approve('r/g')).rejects.toBeInstanceOf(ConflictError);
    code = 'INVALID_DAG';
    await expect(c.submit({ name: 'x', jobs: [{ id: 'a', kind: 'approval' }] })).rejects.toBeInstanceOf(InvalidDagError);
  });

  it('throws UnavailableError when the connection is refused', async () => {
    // Bind a port, then close it, so nothing listens there.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    const err = await client(port).stats().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toBeInstanceOf(TitanError);
    expect((err as Error).message).toMatch(new RegExp(`cannot reach the master at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(((err as UnavailableError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('throws UnauthorizedError when the master refuses the token', async () => {
    const port = await fakeMaster(() => ({}), new CoreTitanError('UNAUTHORIZED', 'wrong token'));
    const err = await client(port).stats().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect((err as Error).message).toBe('wrong token');
  });

  it('throws BadRequestError for local mistakes', async () => {
    const c = client(1);
    await expect(c.extendRun([{ id: 'a', script: 'a.py' }], '')).rejects.toBeInstanceOf(BadRequestError);
    await expect(c.submit({ name: 'x', jobs: [{ id: 'a', script: '/no/such/script.py' }] })).rejects.toThrow(BadRequestError);
    expect(() => new TitanClient({ port: 70000 }).call('stats', {})).toThrow(BadRequestError);
  });
});
