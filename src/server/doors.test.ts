import { type AddressInfo, connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, expect, it } from 'vitest';
import { MasterDoors, TAKEOVER_WAIT_MS } from './doors.js';
import type { TcpServe } from './tcp.js';

/** An app answering every path with `who`. */
function app(who: string): FastifyInstance {
  const a = Fastify();
  a.get('/*', async () => ({ who }));
  return a;
}

/** Answers a connection with `who:` and everything it receives, the first bytes included. */
const echo =
  (who: string): TcpServe =>
  (socket, first) => {
    socket.write(`${who}:`);
    socket.write(first);
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
  };

let doors: MasterDoors | null = null;

afterEach(async () => {
  await doors?.close();
  doors = null;
});

async function open(): Promise<{ d: MasterDoors; tcp: number; http: number }> {
  const d = new MasterDoors({});
  doors = d;
  await d.standBy(echo('standby'), app('standby'));
  await new Promise<void>((resolve) => d.tcp.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => d.http.listen(0, '127.0.0.1', resolve));
  return { d, tcp: (d.tcp.address() as AddressInfo).port, http: (d.http.address() as AddressInfo).port };
}

const get = async (port: number, path: string): Promise<string> => ((await (await fetch(`http://127.0.0.1:${port}${path}`)).json()) as { who: string }).who;

/** Sends `parts` one by one and collects what comes back until `expected` bytes arrived. */
function exchange(port: number, parts: string[], expected: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString();
      if (got.length >= expected) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.once('connect', async () => {
      for (const part of parts) {
        socket.write(part);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
  });
}

it('serves the standby, holds what comes while it takes over, then hands it to the leader on the same listeners', async () => {
  const { d, tcp, http } = await open();
  expect(await get(http, '/api/runs')).toBe('standby');
  expect(await exchange(tcp, ['a'], 'standby:a'.length)).toBe('standby:a');

  d.takeOver();
  const held = exchange(tcp, ['first', '-more'], 'leader:first-more'.length);
  const request = get(http, '/api/runs');
  // Health checks are answered at once, by the standby, until the leader answers them.
  expect(await get(http, '/healthz')).toBe('standby');
  await new Promise((r) => setTimeout(r, 300));
  await d.lead(echo('leader'), app('leader'));

  // Nothing the held connection sent was lost.
  expect(await held).toBe('leader:first-more');
  expect(await request).toBe('leader');
  expect(await get(http, '/healthz')).toBe('leader');
});

it('answers as the standby what waited longer than the takeover allows', { timeout: TAKEOVER_WAIT_MS + 5_000 }, async () => {
  const { d, tcp, http } = await open();
  d.takeOver();
  const started = Date.now();
  const [answer, echoed] = await Promise.all([get(http, '/api/runs'), exchange(tcp, ['x'], 'standby:x'.length)]);
  expect(answer).toBe('standby');
  expect(echoed).toBe('standby:x');
  expect(Date.now() - started).toBeGreaterThanOrEqual(TAKEOVER_WAIT_MS - 50);
});
