/**
 * A standby's ports through its takeover, as real processes on a private PostgreSQL server: the
 * leader killed -9, the standby's TCP and HTTP ports probed every 20 ms with a new connection
 * each time never refuse one; /healthz goes from standby to leader and never back; an API request
 * is answered by the standby (503 NOT_LEADER with Retry-After) or by the leader, never dropped.
 * Required in CI: without PostgreSQL this test fails instead of skipping.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { killNine, sleep } from '../helpers/faults.js';
import { leadsWithin, type TwoMasters, twoMasters } from '../helpers/ha.js';
import { describeOnPostgres, freshDatabase } from '../helpers/postgres.js';

const PROBE_EVERY_MS = 20;

/** Opens a new TCP connection and closes it: null once connected, else the error's code. */
function tcpProbe(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

interface HttpAnswer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** One GET on a new connection (no keep-alive pool), so that every probe reaches the listener. */
function httpProbe(port: number, path: string, token: string): Promise<HttpAnswer | string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    req.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

let pair: TwoMasters | null = null;

afterEach(async () => {
  await pair?.stop();
  pair = null;
});

describeOnPostgres('the ports of a standby that takes over', (server) => {
  it('never refuse a connection across a kill -9 of the leader; /healthz goes from standby to leader', { timeout: 120_000 }, async () => {
    const db = await freshDatabase(server());
    pair = await twoMasters(server().urlOf(db));
    const { c, tcp, http } = pair;

    const tcpFailures: string[] = [];
    const httpFailures: string[] = [];
    const roles: string[] = [];
    const api: (HttpAnswer | string)[] = [];
    const pending: Promise<unknown>[] = [];
    let probing = true;
    const probes = (async (): Promise<void> => {
      for (let n = 0; probing; n++) {
        pending.push(tcpProbe(tcp).then((failed) => failed !== null && tcpFailures.push(failed)));
        pending.push(
          httpProbe(http, '/healthz', c.token).then((answer) => {
            if (typeof answer === 'string') return httpFailures.push(answer);
            const role = (JSON.parse(answer.body) as { role?: string }).role ?? `status ${answer.status}`;
            if (roles.at(-1) !== role) roles.push(role);
          }),
        );
        // An API request now and then, which a standby refuses and a leader answers.
        if (n % 5 === 0) pending.push(httpProbe(http, '/api/runs', c.token).then((answer) => api.push(answer)));
        await sleep(PROBE_EVERY_MS);
      }
    })();

    await sleep(500);
    const killed = Date.now();
    await killNine((c.master ?? expect.unreachable('no master')).child);
    expect(await leadsWithin(http, killed, 15_000), 'takeover time').toBeLessThanOrEqual(5_000);
    await sleep(1_000);
    probing = false;
    await probes;
    await Promise.all(pending);

    expect(tcpFailures, 'TCP connections refused or failed').toEqual([]);
    expect(httpFailures, 'HTTP requests refused or failed').toEqual([]);
    expect(roles).toEqual(['standby', 'leader']);
    const statuses = new Set(api.map((a) => (typeof a === 'string' ? a : a.status === 503 ? `503 retry-after ${a.retryAfter ?? 'none'}` : String(a.status))));
    expect([...statuses].sort()).toEqual(['200', '503 retry-after 1']);
  });
});
