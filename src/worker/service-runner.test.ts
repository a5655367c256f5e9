import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { servicePort, withPort } from './service-runner.js';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A port held by a listening server until the test ends. */
function heldPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '0.0.0.0', exclusive: true }, () => {
      servers.push(server);
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('not a TCP server'));
      resolve(address.port);
    });
  });
}

describe('withPort', () => {
  it('gives the port as PORT and in place of every {port} in the arguments, leaving the request as it was', () => {
    const req = { key: 'r/j#1', scriptPath: '/s.sh', args: ['--port={port}', '{port}:{port}', 'plain'], cwd: '/w', env: { A: '1', PORT: 'old' } };
    expect(withPort(req, 8123)).toStrictEqual({ ...req, args: ['--port=8123', '8123:8123', 'plain'], env: { A: '1', PORT: '8123' } });
    expect(req.args[0]).toBe('--port={port}');
    expect(req.env.PORT).toBe('old');
  });
});

describe('servicePort', () => {
  it('fails a fixed port that is in use, naming the host (a fail-fast code)', async () => {
    const port = await heldPort();
    expect(await servicePort({ port, portRange: [1, 2] }, new Set(), 'box')).toStrictEqual({
      outcome: 'FAILED',
      exitCode: null,
      error: `port ${port} is in use on box`,
      errorCode: 'PORT_IN_USE',
    });
  });

  it('takes a fixed port that is free', async () => {
    const port = await heldPort();
    await new Promise((resolve) => servers.splice(0)[0]?.close(resolve));
    expect(await servicePort({ port, portRange: [1, 2] }, new Set(), 'box')).toBe(port);
  });

  it('picks from the range a free port that no other service here holds, or fails when there is none', async () => {
    const busy = await heldPort();
    expect(await servicePort({ port: null, portRange: [busy, busy] }, new Set(), 'box')).toStrictEqual({
      outcome: 'FAILED',
      exitCode: null,
      error: `no free port in ${busy}-${busy}`,
      errorCode: 'NO_FREE_PORT',
    });
    const picked = await servicePort({ port: null, portRange: [busy, busy + 50] }, new Set([busy + 1]), 'box');
    expect(typeof picked).toBe('number');
    expect([busy, busy + 1]).not.toContain(picked);
  });
});
