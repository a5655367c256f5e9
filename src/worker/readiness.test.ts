import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntilReady } from './readiness.js';

/** Every server a test opened, and its pending timers, cleaned up after each test. */
const servers = new Set<Server>();
const timers = new Set<NodeJS.Timeout>();

afterEach(async () => {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  await Promise.all([...servers].map((s) => new Promise((resolve) => s.close(resolve))));
  servers.clear();
});

function later(ms: number, fn: () => void): void {
  timers.add(setTimeout(fn, ms));
}

function listen(server: Server, port = 0): Promise<number> {
  servers.add(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('not a TCP server'));
      else resolve(address.port);
    });
  });
}

/** A port nothing listens on: bound once to find it, then released. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  servers.delete(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const never = (): AbortSignal => new AbortController().signal;

/** Timers and sockets open in this process; other tests' and the runner's own come and go too. */
function openHandles(): { timers: number; sockets: number } {
  const open = process.getActiveResourcesInfo();
  return { timers: open.filter((r) => r === 'Timeout').length, sockets: open.filter((r) => r === 'TCPSocketWrap').length };
}

describe('waitUntilReady', () => {
  it("is ready at once for 'none', without probing", async () => {
    const started = Date.now();
    expect(await waitUntilReady('none', await unusedPort(), 5000, never())).toEqual({ ready: true });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('waits for a TCP listener that appears after a while', async () => {
    const port = await unusedPort();
    const server = createServer((socket) => socket.destroy());
    later(300, () => void listen(server, port));
    const started = Date.now();
    expect(await waitUntilReady('tcp', port, 5000, never())).toEqual({ ready: true });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000);
  });

  it('waits for an HTTP path to answer below 500, probing again after 503s', async () => {
    const paths: string[] = [];
    const server = createHttpServer((req, res) => {
      paths.push(req.url ?? '');
      res.statusCode = paths.length <= 2 ? 503 : 200;
      res.end('body');
    });
    const port = await listen(server);
    expect(await waitUntilReady('/healthz?deep=1', port, 5000, never())).toEqual({ ready: true });
    expect(paths).toEqual(['/healthz?deep=1', '/healthz?deep=1', '/healthz?deep=1']);
  });

  it('counts a 404 as ready: the server is up', async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(404).end()));
    expect(await waitUntilReady('/missing', port, 5000, never())).toEqual({ ready: true });
  });

  it('times out naming the last connect error', async () => {
    const port = await unusedPort();
    const started = Date.now();
    const result = await waitUntilReady('tcp', port, 400, never());
    expect(result).toEqual({ ready: false, reason: `not ready within 400 ms: connect ECONNREFUSED 127.0.0.1:${port}` });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(3000);
  });

  it('times out naming the last HTTP status', async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(503).end()));
    expect(await waitUntilReady('/', port, 300, never())).toEqual({ ready: false, reason: 'not ready within 300 ms: HTTP 503' });
  });

  it('never rejects, even for a path node:http refuses to send', async () => {
    const port = await listen(createHttpServer((_req, res) => res.end()));
    const result = await waitUntilReady('/a b', port, 200, never());
    expect(result).toMatchObject({ ready: false, reason: expect.stringMatching(/^not ready within 200 ms: .*unescaped characters/) });
  });

  it('gives up on a probe that gets no answer within the time left', async () => {
    // Accepts connections but never answers the request.
    const port = await listen(createHttpServer(() => undefined));
    const started = Date.now();
    const result = await waitUntilReady('/', port, 300, never());
    expect(result).toMatchObject({ ready: false });
    expect(result.ready ? '' : result.reason).toMatch(/^not ready within 300 ms: no answer within \d+ ms$/);
    // Loose bound: it gives up near its deadline, not after some unrelated long timeout.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('resolves promptly when aborted, also while a probe hangs, and when aborted before it starts', async () => {
    const refused = new AbortController();
    later(150, () => refused.abort());
    let started = Date.now();
    expect(await waitUntilReady('tcp', await unusedPort(), 10_000, refused.signal)).toEqual({ ready: false, reason: 'aborted' });
    expect(Date.now() - started).toBeLessThan(2000);

    const port = await listen(createHttpServer(() => undefined));
    const hanging = new AbortController();
    later(150, () => hanging.abort());
    started = Date.now();
    expect(await waitUntilReady('/', port, 10_000, hanging.signal)).toEqual({ ready: false, reason: 'aborted' });
    expect(Date.now() - started).toBeLessThan(2000);

    expect(await waitUntilReady('tcp', port, 10_000, AbortSignal.abort())).toEqual({ ready: false, reason: 'aborted' });
  });

  it('leaves no timers or sockets behind', async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(503).end()));
    const before = openHandles();
    const aborted = new AbortController();
    const results = await Promise.all([
      waitUntilReady('/', port, 250, never()),
      waitUntilReady('tcp', await unusedPort(), 250, never()),
      waitUntilReady('tcp', port, 250, never()),
      waitUntilReady('/', port, 10_000, aborted.signal),
      new Promise<void>((resolve) => setTimeout(() => resolve(aborted.abort()), 150)),
    ]);
    expect(results.slice(0, 4).map((r) => r?.ready)).toEqual([false, false, true, false]);
    // Destroyed sockets close their handles on the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    const after = openHandles();
    expect(after.timers).toBeLessThanOrEqual(before.timers);
    expect(after.sockets).toBeLessThanOrEqual(before.sockets);
  });
});
