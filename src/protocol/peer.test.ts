import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, V2 } from './frame.js';
import { Peer, PRE_HELLO_MAX_PAYLOAD } from './peer.js';
import { HelloSchema } from './methods.js';
import { workerCredential } from './derived-tokens.js';
import { OP, type Request, TitanError } from './v2.js';
import { mulberry32 } from '../../test/helpers/random.js';

// ---- a loopback socket pair ------------------------------------------------------------------

let listener: Server;
let port = 0;
const accepts: ((s: Socket) => void)[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  listener = createServer((s) => {
    sockets.add(s);
    accepts.shift()?.(s);
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  port = (listener.address() as AddressInfo).port;
});

afterEach(() => {
  for (const s of sockets) s.destroy();
  sockets.clear();
});

afterAll(async () => {
  await new Promise<void>((resolve) => listener.close(() => resolve()));
});

async function socketPair(): Promise<{ client: Socket; server: Socket }> {
  const accepted = new Promise<Socket>((resolve) => accepts.push(resolve));
  const client = connect(port, '127.0.0.1');
  sockets.add(client);
  await once(client, 'connect');
  return { client, server: await accepted };
}

function withTimeout<T>(p: Promise<T>, ms = 5000, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves once `check` holds, polling each turn of the event loop. */
async function until(check: () => boolean, what = 'condition'): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A server Peer (greeting with any HELLO) and a client Peer that has said HELLO. */
async function greetedPeers(): Promise<{ server: Peer; client: Peer }> {
  const pair = await socketPair();
  const server = new Peer(pair.server, { server: true });
  server.onHello = async (payload) => ({ welcome: true, echo: payload });
  const client = new Peer(pair.client, { server: false });
  const result = await withTimeout(client.hello({ role: 'client' }), 5000, 'hello');
  expect(result).toMatchObject({ welcome: true, echo: { role: 'client' } });
  return { server, client };
}

// ---- a raw client that speaks frames by hand --------------------------------------------------

interface Reply {
  opcode: number;
  body: unknown;
}

class RawClient {
  private readonly replies: Reply[] = [];
  private wake: (() => void) | null = null;
  ended = false;
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) this.replies.push({ opcode: f.opcode, body: JSON.parse(f.payload.toString('utf8')) as unknown });
      this.wake?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.ended = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  send(opcode: number, payload: string | Buffer | object): void {
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    this.socket.write(encodeFrame(V2, opcode, body));
  }

  async next(): Promise<Reply> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const r = this.replies.shift();
      if (r) return r;
      if (this.ended) throw new Error('connection closed before a reply');
      if (Date.now() > deadline) throw new Error('no reply');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  get unread(): number {
    return this.replies.length;
  }
}

/** A server Peer whose requests are answered by `handler`, and a raw client connected to it. */
async function rawSession(options: { greet: boolean; handler?: (req: Request) => unknown }): Promise<{ server: Peer; raw: RawClient; handled: Request[] }> {
  const pair = await socketPair();
  const server = new Peer(pair.server, { server: true });
  const handled: Request[] = [];
  server.onHello = async () => ({ version: 2 });
  server.onRequest = (req) => {
    handled.push(req);
    return options.handler ? options.handler(req) : { echo: req.params ?? null };
  };
  const raw = new RawClient(pair.client);
  if (options.greet) {
    raw.send(OP.HELLO, { id: 1, role: 'client', versions: [2] });
    expect(await raw.next()).toEqual({ opcode: OP.RESPONSE, body: { id: 1, ok: true, result: { version: 2 } } });
  }
  return { server, raw, handled };
}

// ---- tests ------------------------------------------------------------------------------------

describe('Peer', () => {
  it('correlates responses with requests when replies come out of order', async () => {
    const { server, client } = await greetedPeers();
    const resolvers = new Map<number, (v: unknown) => void>();
    server.onRequest = (req) =>
      new Promise((resolve) => {
        const n = (req.params as { n: number }).n;
        resolvers.set(n, resolve);
      });
    const done: number[] = [];
    const calls = [1, 2, 3, 4].map((n) =>
      client.request<{ answer: number }>('work', { n }).then((r) => {
        done.push(n);
        return r;
      }),
    );
    await until(() => resolvers.size === 4, 'all requests arrived');
    for (const n of [3, 1, 4, 2]) {
      resolvers.get(n)?.({ answer: n * 10 });
      await until(() => done.includes(n), `reply ${n}`);
    }
    expect(done).toEqual([3, 1, 4, 2]);
    expect(await Promise.all(calls)).toEqual([{ answer: 10 }, { answer: 20 }, { answer: 30 }, { answer: 40 }]);
  });

  it('answers synchronous handlers and passes method and params', async () => {
    const { server, client } = await greetedPeers();
    const seen: Request[] = [];
    server.onRequest = (req) => {
      seen.push(req);
      return { ok: req.method };
    };
    expect(await withTimeout(client.request('run.get', { runId: 'r1' }))).toEqual({ ok: 'run.get' });
    expect(seen).toEqual([expect.objectContaining({ method: 'run.get', params: { runId: 'r1' } })]);
  });

  it('delivers events both ways', async () => {
    const { server, client } = await greetedPeers();
    const atServer: [string, unknown][] = [];
    const atClient: [string, unknown][] = [];
    server.onEvent = (event, data) => atServer.push([event, data]);
    client.onEvent = (event, data) => atClient.push([event, data]);
    client.notify('heartbeat', { load: 3 });
    client.notify('bare');
    server.notify('job', { id: 'a', status: 'QUEUED' });
    await until(() => atServer.length === 2 && atClient.length === 1, 'events');
    expect(atServer).toEqual([
      ['heartbeat', { load: 3 }],
      ['bare', undefined],
    ]);
    expect(atClient).toEqual([['job', { id: 'a', status: 'QUEUED' }]]);
  });

  describe('HELLO gating', () => {
    it('a request before HELLO gets UNAUTHORIZED and the connection closes', async () => {
      const { server, raw, handled } = await rawSession({ greet: false });
      const closedAtServer = new Promise<Error>((resolve) => server.onClose(resolve));
      raw.send(OP.REQUEST, { id: 5, method: 'run.get', params: {} });
      const reply = await raw.next();
      expect(reply.opcode).toBe(OP.RESPONSE);
      expect(reply.body).toMatchObject({ id: null, ok: false, error: { code: 'UNAUTHORIZED' } });
      await withTimeout(raw.closed, 5000, 'close');
      expect(handled).toEqual([]);
      expect(server.closed).toBe(true);
      expect(await closedAtServer).toMatchObject({ code: 'UNAUTHORIZED' });
    });

    it('an event before HELLO is refused the same way', async () => {
      const { server, raw } = await rawSession({ greet: false });
      const events: string[] = [];
      server.onEvent = (e) => events.push(e);
      raw.send(OP.EVENT, { event: 'sneaky' });
      expect((await raw.next()).body).toMatchObject({ id: null, ok: false, error: { code: 'UNAUTHORIZED' } });
      await withTimeout(raw.closed, 5000, 'close');
      expect(events).toEqual([]);
    });

    it('a client Peer requesting before HELLO sees the request rejected with UNAUTHORIZED', async () => {
      const pair = await socketPair();
      const server = new Peer(pair.server, { server: true });
      server.onHello = async () => ({});
      let called = false;
      server.onRequest = () => {
        called = true;
        return 1;
      };
      const client = new Peer(pair.client, { server: false });
      const err = await withTimeout(client.request('x').then(() => null, (e: unknown) => e));
      expect(err).toBeInstanceOf(TitanError);
      expect(err).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(called).toBe(false);
      expect(client.closed).toBe(true);
    });

    it('a rejected HELLO closes the connection with the handler’s code', async () => {
      const pair = await socketPair();
      const server = new Peer(pair.server, { server: true });
      server.onHello = async () => {
        throw new TitanError('UNAUTHORIZED', 'bad token');
      };
      const client = new Peer(pair.client, { server: false });
      const err = await withTimeout(client.hello({ token: 'nope' }).then(() => null, (e: unknown) => e));
      expect(err).toMatchObject({ code: 'UNAUTHORIZED', message: 'bad token' });
      await until(() => server.closed && client.closed, 'both closed');
    });

    it('a second HELLO is refused without closing', async () => {
      const { server, raw } = await rawSession({ greet: true });
      raw.send(OP.HELLO, { id: 2, role: 'client', versions: [2] });
      expect((await raw.next()).body).toMatchObject({ id: null, ok: false, error: { code: 'BAD_REQUEST' } });
      raw.send(OP.REQUEST, { id: 3, method: 'ping' });
      expect((await raw.next()).body).toEqual({ id: 3, ok: true, result: { echo: null } });
      expect(server.closed).toBe(false);
    });

    it('refuses a frame over the pre-HELLO limit at its header, naming the limit, and closes', async () => {
      const { server, raw } = await rawSession({ greet: false });
      // The header alone: the payload it announces is never sent, nor waited for.
      const header = Buffer.from([V2, OP.HELLO, 0, 0, 0, 0, 0, 0]);
      header.writeUInt32BE(1024 * 1024, 4);
      raw.socket.write(header);
      expect((await raw.next()).body).toEqual({ id: null, ok: false, error: { code: 'BAD_FRAME', message: `a frame before HELLO may be at most ${PRE_HELLO_MAX_PAYLOAD} bytes; this one announces ${1024 * 1024}` } });
      await withTimeout(raw.closed, 5000, 'close');
      expect(server.closed).toBe(true);
    });

    it('takes frames up to the full limit once HELLO is accepted', async () => {
      const { raw } = await rawSession({ greet: true });
      raw.send(OP.REQUEST, { id: 2, method: 'big', params: 'x'.repeat(4 * PRE_HELLO_MAX_PAYLOAD) });
      expect((await raw.next()).body).toMatchObject({ id: 2, ok: true });
    });

    it('the largest valid HELLO fits the pre-HELLO limit with room to spare', () => {
      const worker = {
        host: 'h'.repeat(255),
        port: 65535,
        capabilities: Array.from({ length: 32 }, (_, i) => `${'C'.repeat(62)}${String(i).padStart(2, '0')}`),
        slots: 1024,
        permanent: true,
        pid: 4_194_304,
        version: 'v'.repeat(64),
        spawnedBy: 's'.repeat(300),
      };
      // A token of characters that take several bytes of UTF-8.
      const hello = { id: Number.MAX_SAFE_INTEGER, token: 'é€'.repeat(256), role: 'worker', versions: [2], worker, credential: workerCredential('k', `${worker.host}:${worker.port}`).padEnd(400, 'x') };
      expect(HelloSchema.safeParse(hello).success).toBe(true);
      expect(Buffer.byteLength(JSON.stringify(hello))).toBeLessThan(PRE_HELLO_MAX_PAYLOAD * 0.75);
    });

    it('a HELLO sent while the first is being handled is refused, and the first goes on', async () => {
      const pair = await socketPair();
      const server = new Peer(pair.server, { server: true });
      let handled = 0;
      let release = (): void => {};
      server.onHello = () => {
        handled++;
        return new Promise((resolve) => (release = () => resolve({ version: 2 })));
      };
      const raw = new RawClient(pair.client);
      raw.send(OP.HELLO, { id: 1, role: 'client', versions: [2] });
      raw.send(OP.HELLO, { id: 2, role: 'client', versions: [2] });
      expect((await raw.next()).body).toMatchObject({ id: null, ok: false, error: { code: 'BAD_REQUEST', message: 'unexpected HELLO' } });
      release();
      expect((await raw.next()).body).toEqual({ id: 1, ok: true, result: { version: 2 } });
      expect(handled).toBe(1);
    });

    it('a client Peer (not a server) needs no HELLO', async () => {
      const pair = await socketPair();
      const clientSide = new Peer(pair.client, { server: false });
      clientSide.onRequest = () => 'served';
      const raw = new RawClient(pair.server);
      raw.send(OP.REQUEST, { id: 9, method: 'ask' });
      expect((await raw.next()).body).toEqual({ id: 9, ok: true, result: 'served' });
    });
  });

  it('answers invalid JSON with BAD_JSON and id null, and stays usable', async () => {
    const { server, raw } = await rawSession({ greet: true });
    raw.send(OP.REQUEST, '{"id": 2, "method": ');
    const reply = await raw.next();
    expect(reply.body).toMatchObject({ id: null, ok: false, error: { code: 'BAD_JSON' } });
    raw.send(OP.REQUEST, { id: 3, method: 'echo', params: [1, 2] });
    expect((await raw.next()).body).toEqual({ id: 3, ok: true, result: { echo: [1, 2] } });
    expect(server.closed).toBe(false);
  });

  it('answers a request without a method with BAD_REQUEST echoing its id', async () => {
    const { raw, handled } = await rawSession({ greet: true });
    raw.send(OP.REQUEST, { id: 7, params: {} });
    const reply = await raw.next();
    expect(reply.body).toMatchObject({ id: 7, ok: false, error: { code: 'BAD_REQUEST' } });
    expect((reply.body as { error: { message: string } }).error.message).toContain('method');
    // Without a usable id, the reply carries null.
    raw.send(OP.REQUEST, { id: 'seven', method: 'x' });
    expect((await raw.next()).body).toMatchObject({ id: null, ok: false, error: { code: 'BAD_REQUEST' } });
    raw.send(OP.REQUEST, { id: 8, method: 'x', extra: true });
    expect((await raw.next()).body).toMatchObject({ id: 8, ok: false, error: { code: 'BAD_REQUEST' } });
    expect(handled).toEqual([]);
    raw.send(OP.REQUEST, { id: 9, method: 'ok' });
    expect((await raw.next()).body).toMatchObject({ id: 9, ok: true });
  });

  it('answers an unknown opcode with BAD_FRAME and stays usable', async () => {
    const { server, raw } = await rawSession({ greet: true });
    raw.send(0x7f, {});
    expect((await raw.next()).body).toMatchObject({ id: null, ok: false, error: { code: 'BAD_FRAME' } });
    raw.send(OP.REQUEST, { id: 4, method: 'ok' });
    expect((await raw.next()).body).toMatchObject({ id: 4, ok: true });
    expect(server.closed).toBe(false);
  });

  it('closes the connection on a frame it cannot decode', async () => {
    const { server, raw } = await rawSession({ greet: true });
    raw.socket.write(Buffer.from([9, OP.REQUEST, 0, 0, 0, 0, 0, 0]));
    expect((await raw.next()).body).toMatchObject({ id: null, ok: false, error: { code: 'BAD_FRAME' } });
    await withTimeout(raw.closed, 5000, 'close');
    expect(server.closed).toBe(true);
  });

  describe('handler errors', () => {
    it('a thrown TitanError becomes an error reply with its code and message', async () => {
      const { server, client } = await greetedPeers();
      server.onRequest = () => {
        throw new TitanError('NOT_FOUND', 'no run r9');
      };
      const err = await withTimeout(client.request('run.get').then(() => null, (e: unknown) => e));
      expect(err).toBeInstanceOf(TitanError);
      expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'no run r9' });
      // The connection survives a failed request.
      server.onRequest = () => 'fine';
      expect(await withTimeout(client.request('again'))).toBe('fine');
    });

    it('a rejected promise becomes an error reply too', async () => {
      const { server, client } = await greetedPeers();
      server.onRequest = async () => {
        throw new TitanError('CONFLICT', 'already running');
      };
      await expect(withTimeout(client.request('x'))).rejects.toMatchObject({ code: 'CONFLICT', message: 'already running' });
    });

    it('any other error is INTERNAL', async () => {
      const { server, client } = await greetedPeers();
      server.onRequest = () => {
        throw new RangeError('oops');
      };
      await expect(withTimeout(client.request('x'))).rejects.toMatchObject({ code: 'INTERNAL', message: 'oops' });
    });

    it('a thrown non-Error still gets a reply', async () => {
      const { server, client } = await greetedPeers();
      server.onRequest = () => {
        // Deliberately not an Error: a careless handler or a library can throw anything.
        throw 'plain string';
      };
      await expect(withTimeout(client.request('x'), 2000, 'reply')).rejects.toMatchObject({ code: 'INTERNAL', message: 'plain string' });
      server.onRequest = () => Promise.reject(42);
      await expect(withTimeout(client.request('y'), 2000, 'reply')).rejects.toMatchObject({ code: 'INTERNAL', message: '42' });
    });
  });

  it('rejects pending requests when the socket closes', async () => {
    const { server, client } = await greetedPeers();
    let arrived = 0;
    server.onRequest = () => {
      arrived++;
      return new Promise(() => {});
    };
    const a = client.request('hang1').then(() => null, (e: unknown) => e);
    const b = client.request('hang2').then(() => null, (e: unknown) => e);
    const closed = new Promise<Error>((resolve) => client.onClose(resolve));
    await until(() => arrived === 2, 'requests arrived');
    server.socket.destroy();
    const [ea, eb] = await withTimeout(Promise.all([a, b]));
    expect(ea).toBeInstanceOf(TitanError);
    expect(ea).toMatchObject({ code: 'UNAVAILABLE' });
    expect(eb).toBe(ea);
    expect(await closed).toBe(ea);
    expect(client.closed).toBe(true);
    // Later requests fail at once, as does a late close listener.
    await expect(client.request('late')).rejects.toBe(ea);
    let late: Error | null = null;
    client.onClose((e) => (late = e));
    expect(late).toBe(ea);
  });

  it('a connection-level error from the other side rejects pending requests with its code', async () => {
    const { server, client } = await greetedPeers();
    server.onRequest = () => new Promise(() => {});
    const p = client.request('hang').then(() => null, (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    server.fail('UNAVAILABLE', 'master shutting down');
    expect(await withTimeout(p)).toMatchObject({ code: 'UNAVAILABLE', message: 'master shutting down' });
  });

  it('ignores a response to an unknown id', async () => {
    const pair = await socketPair();
    const client = new Peer(pair.client, { server: false });
    const raw = new RawClient(pair.server);
    const p = client.request('x');
    raw.send(OP.RESPONSE, { id: 999, ok: true, result: 'stray' });
    raw.send(OP.RESPONSE, { id: 1, ok: true, result: 'mine' });
    expect(await withTimeout(p)).toBe('mine');
    expect(client.closed).toBe(false);
  });

  describe('fuzz', () => {

    type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
    const KEYS = ['id', 'method', 'params', 'ok', 'result', 'error', 'event', 'data', 'code', 'message', '__proto__', 'constructor'];

    function randomJson(rand: () => number, depth: number): Json {
      const r = rand();
      if (depth > 3 || r < 0.15) return null;
      if (r < 0.25) return rand() < 0.5;
      if (r < 0.4) return [0, -1, 1.5, 2 ** 53, 1e308, Math.floor(rand() * 100)][Math.floor(rand() * 6)] as number;
      if (r < 0.55) return ['', 'x', 'run.get', '\u0000', 'é'.repeat(Math.floor(rand() * 100))][Math.floor(rand() * 5)] as string;
      if (r < 0.65) return Array.from({ length: Math.floor(rand() * 4) }, () => randomJson(rand, depth + 1));
      const obj: { [k: string]: Json } = {};
      const n = Math.floor(rand() * 5);
      for (let i = 0; i < n; i++) obj[KEYS[Math.floor(rand() * KEYS.length)] as string] = randomJson(rand, depth + 1);
      return obj;
    }

    function randomPayload(rand: () => number): Buffer {
      const r = rand();
      if (r < 0.4) {
        const b = Buffer.alloc(Math.floor(rand() * 64));
        for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
        return b;
      }
      // Often shaped like a real message, with a random part.
      const value: Json =
        r < 0.7
          ? { id: Math.floor(rand() * 1000), method: rand() < 0.5 ? 'x' : 'y', params: randomJson(rand, 1) }
          : r < 0.8
            ? { event: 'e', data: randomJson(rand, 1) }
            : randomJson(rand, 0);
      const text = JSON.stringify(value);
      // Sometimes cut the JSON short.
      return Buffer.from(rand() < 0.1 ? text.slice(0, Math.floor(rand() * text.length)) : text);
    }

    it('random frames with valid headers never crash the server peer', async () => {
      const rand = mulberry32(20240601);
      const { server, raw, handled } = await rawSession({
        greet: true,
        handler: (req) => {
          if (req.method === 'x') throw new TitanError('NOT_FOUND', 'x');
          return 'ok';
        },
      });
      const events: string[] = [];
      server.onEvent = (e) => events.push(e);
      const opcodes = [OP.HELLO, OP.REQUEST, OP.RESPONSE, OP.EVENT, 0x00, 0x24, 0xff];
      const frames: Buffer[] = [];
      for (let i = 0; i < 1000; i++) {
        const opcode = opcodes[Math.floor(rand() * opcodes.length)] as number;
        frames.push(encodeFrame(V2, opcode, randomPayload(rand), Math.floor(rand() * 256)));
      }
      // Arbitrary chunking across frame boundaries.
      const all = Buffer.concat(frames);
      for (let at = 0; at < all.length; ) {
        const n = 1 + Math.floor(rand() * 500);
        raw.socket.write(all.subarray(at, at + n));
        at += n;
      }
      raw.send(OP.REQUEST, { id: 424242, method: 'final' });
      let last: Reply | null = null;
      const codes = new Map<string, number>();
      for (;;) {
        const reply = await raw.next();
        const body = reply.body as { id?: unknown; ok?: boolean; error?: { code: string } };
        if (body.id === 424242) {
          last = reply;
          break;
        }
        const code = body.ok ? 'ok' : (body.error?.code ?? '?');
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      expect(last?.body).toEqual({ id: 424242, ok: true, result: 'ok' });
      expect(server.closed).toBe(false);
      expect(handled.at(-1)?.method).toBe('final');
      // The corpus reached every kind of rejection, and some requests got through to the handler.
      for (const code of ['BAD_JSON', 'BAD_REQUEST', 'BAD_FRAME', 'NOT_FOUND', 'ok']) expect(codes.get(code) ?? 0, code).toBeGreaterThan(10);
      expect(handled.length).toBeGreaterThan(20);
      expect(events.length).toBeGreaterThan(0);
    });
  });
});
