/**
 * Limits before trust on both ports, tried as an attacker would: slow HTTP requests (headers or
 * body trickled) are cut off at their deadline, and connections beyond the per-address cap are
 * closed at once on 9090 and 5000, while a real client is served throughout.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually } from '../helpers/cluster.js';

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

const closed = (s: Socket): boolean => s.destroyed || s.readableEnded;

describe('connection limits', () => {
  const cluster = new Cluster(['--http-request-timeout', '2', '--max-connections-per-ip', '40']);
  let client: TitanClient;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    await cluster.startMaster();
    client = cluster.client();
    await client.stats();
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await cluster.stop();
  });

  it('cuts off slow HTTP headers and slow bodies at the deadline, and answers a real request meanwhile', async () => {
    const slow: Socket[] = [];
    for (let i = 0; i < 15; i++) {
      const headers = await open(cluster.httpPort);
      headers.on('error', () => undefined);
      headers.write('POST /api/login HTTP/1.1\r\nHost: x\r\n');
      const body = await open(cluster.httpPort);
      body.on('error', () => undefined);
      body.write('POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"tok');
      slow.push(headers, body);
    }
    sockets.push(...slow);
    // Trickle a byte now and then: activity alone must not keep a request alive.
    const trickle = setInterval(() => {
      for (const s of slow) if (!closed(s)) s.write(' ');
    }, 300);
    try {
      const started = Date.now();
      const health = await fetch(`http://127.0.0.1:${cluster.httpPort}/healthz`);
      expect(health.status).toBe(200);
      await eventually(() => slow.every(closed), 8_000, 'every slow request to be cut off');
      expect(Date.now() - started).toBeGreaterThan(1_500);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes connections beyond the per-address cap at once on both ports; the real client goes on', async () => {
    for (const port of [cluster.port, cluster.httpPort]) {
      const flood: Socket[] = [];
      for (let i = 0; i < 60; i++) {
        const s = await open(port);
        s.on('error', () => undefined);
        flood.push(s);
      }
      sockets.push(...flood);
      await eventually(() => flood.filter(closed).length >= 20, 5_000, `the connections over the cap on ${port} to be closed`);
      expect(flood.filter((s) => !closed(s)).length).toBeLessThanOrEqual(40);
      // The client's connection was open before the flood: it is still served.
      expect((await client.stats()).uptimeMs).toBeGreaterThan(0);
      for (const s of flood) s.destroy();
    }
    // Once the flood is gone, new connections are welcome again.
    await eventually(async () => (await fetch(`http://127.0.0.1:${cluster.httpPort}/healthz`).catch(() => null))?.status === 200, 5_000, 'a new HTTP connection');
    const fresh = cluster.client();
    expect((await fresh.stats()).uptimeMs).toBeGreaterThan(0);
  });
});
