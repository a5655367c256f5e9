/**
 * Bad input of every kind, at every door (raw TCP, v2 requests, HTTP, the CLI): each is refused
 * with a reason, and the master keeps serving normal requests afterwards.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, HEADER_SIZE, V2_MAX_PAYLOAD } from '../../src/protocol/frame.js';
import { OP } from '../../src/protocol/v2.js';
import { PRE_HELLO_MAX_PAYLOAD } from '../../src/protocol/peer.js';
import { TitanClient } from '../../src/sdk/client.js';
import { Cluster, kill, launch } from '../helpers/cluster.js';
import { freePort, py, RawConnection, TempDir, refusal } from '../helpers/scripts.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const ok = py('print("ok")\n', 'ok.py');

/** Every run the master knows, to show that a refused submission left nothing behind. */
const runIds = async (client: TitanClient): Promise<string[]> => (await client.listRuns({ limit: 1000 })).map((r) => r.runId).sort();

describe('bad input', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-bad-');
  const raws: RawConnection[] = [];
  /** Opened at the start and never used: the master must close it after the HELLO timeout. */
  let silent: RawConnection | null = null;

  const raw = async (): Promise<RawConnection> => {
    const c = await RawConnection.open(cluster.port);
    raws.push(c);
    return c;
  };

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
    await cluster.startWorker();
    silent = await RawConnection.open(cluster.port);
  });
  afterEach(async () => {
    for (const c of raws.splice(0)) c.destroy();
    // Whatever the test threw at it, the master still answers a fresh client...
    const fresh = new TitanClient({ host: '127.0.0.1', port: cluster.port, token: cluster.token });
    try {
      const stats = await fresh.stats();
      expect(stats.workers.connected).toBe(2);
    } finally {
      fresh.close();
    }
    // ...and is still the same process.
    expect(cluster.master?.child.exitCode).toBeNull();
  });
  afterAll(async () => {
    silent?.destroy();
    await cluster.stop();
    tmp.remove();
  });

  describe('raw TCP', () => {
    it('answers random bytes with an error or closes the connection', async () => {
      for (let i = 0; i < 12; i++) {
        const c = await raw();
        const garbage = randomBytes(64 + i * 97);
        // Cover each way the first byte routes: v1, v2 and anything else.
        if (i % 3 === 0) garbage[0] = 1;
        else if (i % 3 === 1) garbage[0] = 2;
        else if (garbage[0] === 1 || garbage[0] === 2) garbage[0] = 0xab;
        c.send(garbage);
        c.end();
        expect(await c.closesWithin(10_000)).toBe(true);
      }
    });

    it('answers a frame of an unknown version with an error naming the version, then closes', async () => {
      const c = await raw();
      c.send(encodeFrame(7, OP.HELLO, JSON.stringify({ id: 1, token: cluster.token, role: 'client', versions: [7] })));
      const reply = await c.nextResponse();
      expect(reply).toMatchObject({ id: null, ok: false, error: { code: 'BAD_FRAME' } });
      expect(reply.error?.message).toMatch(/version 7\b/);
      expect(await c.closesWithin(5000)).toBe(true);
    });

    it('answers an unknown version inside a live v2 session too', async () => {
      const c = await raw();
      expect(await c.hello(cluster.token)).toMatchObject({ id: 1, ok: true });
      c.send(encodeFrame(7, OP.REQUEST, JSON.stringify({ id: 2, method: 'stats', params: {} })));
      const reply = await c.nextResponse();
      expect(reply).toMatchObject({ id: null, ok: false, error: { code: 'BAD_FRAME' } });
      expect(reply.error?.message).toMatch(/version 7\b/);
      expect(await c.closesWithin(5000)).toBe(true);
    });

    it('refuses a frame longer than the limit without waiting for its payload, then closes', async () => {
      const c = await raw();
      const header = Buffer.alloc(HEADER_SIZE);
      header[0] = 2;
      header[1] = OP.HELLO;
      header.writeUInt32BE(V2_MAX_PAYLOAD + 1, 4);
      c.send(header);
      const reply = await c.nextResponse();
      expect(reply).toMatchObject({ id: null, ok: false, error: { code: 'BAD_FRAME' } });
      // Before HELLO the limit is the pre-HELLO one.
      expect(reply.error?.message).toBe(`a frame before HELLO may be at most ${PRE_HELLO_MAX_PAYLOAD} bytes; this one announces ${V2_MAX_PAYLOAD + 1}`);
      expect(await c.closesWithin(5000)).toBe(true);
    });

    it('refuses an oversized frame after HELLO as well', async () => {
      const c = await raw();
      expect(await c.hello(cluster.token)).toMatchObject({ ok: true });
      const header = Buffer.alloc(HEADER_SIZE);
      header[0] = 2;
      header[1] = OP.REQUEST;
      header.writeUInt32BE(0xffffffff, 4);
      c.send(header);
      const reply = await c.nextResponse();
      expect(reply.error?.message).toContain('exceeds the limit');
      expect(await c.closesWithin(5000)).toBe(true);
    });

    it('survives a truncated frame followed by the end of the connection', async () => {
      const c = await raw();
      expect(await c.hello(cluster.token)).toMatchObject({ ok: true });
      const whole = encodeFrame(2, OP.REQUEST, JSON.stringify({ id: 2, method: 'stats', params: {} }));
      c.send(whole.subarray(0, whole.length - 5));
      c.end();
      expect(await c.closesWithin(5000)).toBe(true);
      // Before HELLO, too: half a header.
      const d = await raw();
      d.send(Buffer.from([2, OP.HELLO, 0]));
      d.end();
      expect(await d.closesWithin(5000)).toBe(true);
    });

    it('answers invalid JSON with BAD_JSON and keeps the connection usable', async () => {
      const c = await raw();
      expect(await c.hello(cluster.token)).toMatchObject({ id: 1, ok: true });
      c.send(encodeFrame(2, OP.REQUEST, '{"id": 2, "method": "stats", '));
      const reply = await c.nextResponse();
      expect(reply).toMatchObject({ id: null, ok: false, error: { code: 'BAD_JSON' } });
      const stats = await c.request(3, 'stats');
      expect(stats).toMatchObject({ id: 3, ok: true });
      expect((stats.result as { workers: { connected: number } }).workers.connected).toBe(2);
      expect(c.isOpen).toBe(true);
    });

    it('answers a malformed request with BAD_REQUEST and keeps the connection usable', async () => {
      const c = await raw();
      expect(await c.hello(cluster.token)).toMatchObject({ ok: true });
      c.sendV2(OP.REQUEST, { id: 2, method: 'stats', params: {}, extra: true });
      expect(await c.nextResponse()).toMatchObject({ id: 2, ok: false, error: { code: 'BAD_REQUEST' } });
      const bad = await c.request(3, 'stats', { verbose: true });
      expect(bad).toMatchObject({ id: 3, ok: false, error: { code: 'BAD_REQUEST' } });
      expect(bad.error?.message).toContain('stats');
      expect(await c.request(4, 'stats')).toMatchObject({ id: 4, ok: true });
    });

    it('refuses a request before HELLO with UNAUTHORIZED and closes', async () => {
      const c = await raw();
      c.sendV2(OP.REQUEST, { id: 1, method: 'stats', params: {} });
      const reply = await c.nextResponse();
      expect(reply).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
      expect(reply.error?.message).toMatch(/HELLO/);
      expect(await c.closesWithin(5000)).toBe(true);
    });

    it('refuses a HELLO with a wrong token with UNAUTHORIZED and closes', async () => {
      const c = await raw();
      const reply = await c.hello('not-the-token');
      expect(reply).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
      expect(reply.error?.message).toMatch(/token/);
      expect(await c.closesWithin(5000)).toBe(true);
      // A HELLO without any token is refused the same way.
      const d = await raw();
      d.sendV2(OP.HELLO, { id: 1, role: 'client', versions: [2] });
      expect(await d.nextResponse()).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
      // And the SDK reports it as such.
      const wrong = new TitanClient({ host: '127.0.0.1', port: cluster.port, token: 'wrong', connectTimeoutMs: 5000 });
      try {
        expect((await refusal(wrong.stats())).code).toBe('UNAUTHORIZED');
      } finally {
        wrong.close();
      }
    });

    it('refuses a HELLO that offers no common version', async () => {
      const c = await raw();
      c.sendV2(OP.HELLO, { id: 1, token: cluster.token, role: 'client', versions: [1, 3] });
      const reply = await c.nextResponse();
      expect(reply).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      expect(reply.error?.message).toMatch(/version/);
    });

    it('answers an unknown method with UNKNOWN_METHOD, and a worker-only method with FORBIDDEN', async () => {
      const c = await raw();
      expect(await c.hello(cluster.token)).toMatchObject({ ok: true });
      const reply = await c.request(2, 'jobs.explode', {});
      expect(reply).toMatchObject({ id: 2, ok: false, error: { code: 'UNKNOWN_METHOD' } });
      expect(reply.error?.message).toContain('jobs.explode');
      // Names that exist on every object are not methods either.
      expect(await c.request(3, 'toString', {})).toMatchObject({ id: 3, ok: false, error: { code: 'UNKNOWN_METHOD' } });
      expect(await c.request(4, 'attempts.finished', { results: [] })).toMatchObject({ id: 4, ok: false, error: { code: 'FORBIDDEN' } });
      expect(await c.request(5, 'stats')).toMatchObject({ id: 5, ok: true });
    });

    it('answers a v1 frame with a v1 error saying v1 is not enabled', async () => {
      const c = await raw();
      c.send(encodeFrame(1, 0x10, 'SUBMIT_JOB|hello.py'));
      const frame = await c.nextFrame();
      expect(frame.version).toBe(1);
      expect(frame.opcode).toBe(0x51);
      expect(frame.payload.toString('utf8')).toMatch(/v1.*not enabled/);
      expect(await c.closesWithin(5000)).toBe(true);
    });
  });

  describe('submissions', () => {
    it('rejects a DAG cycle with INVALID_DAG naming the jobs in it', async () => {
      const client = cluster.client();
      const before = await runIds(client);
      const err = await refusal(
        client.submit({
          name: 'cycle',
          jobs: [
            { id: 'start', script: ok },
            { id: 'alpha', script: ok, dependsOn: ['start', 'gamma'] },
            { id: 'beta', script: ok, dependsOn: ['alpha'] },
            { id: 'gamma', script: ok, dependsOn: ['beta'] },
          ],
        }),
      );
      expect(err.code).toBe('INVALID_DAG');
      expect(err.message).toMatch(/cycle/);
      for (const id of ['alpha', 'beta', 'gamma']) expect(err.message).toContain(id);
      expect(err.message).not.toContain('start');
      // Self-dependency is a cycle too.
      const self = await refusal(client.submit({ name: 'self', jobs: [{ id: 'me', script: ok, dependsOn: ['me'] }] }));
      expect(self.code).toBe('INVALID_DAG');
      expect(self.message).toContain('me');
      expect(await runIds(client)).toEqual(before);
    });

    it('rejects duplicate job ids and unknown parents, naming them', async () => {
      const client = cluster.client();
      const before = await runIds(client);
      const dup = await refusal(client.submit({ name: 'dup', jobs: [{ id: 'twin', script: ok }, { id: 'twin', script: ok }] }));
      expect(dup.code).toBe('INVALID_DAG');
      expect(dup.message).toContain('twin');
      const orphan = await refusal(client.submit({ name: 'orphan', jobs: [{ id: 'kid', script: ok, dependsOn: ['ghost'] }] }));
      expect(orphan.code).toBe('INVALID_DAG');
      expect(orphan.message).toContain('kid');
      expect(orphan.message).toContain('ghost');
      expect(await runIds(client)).toEqual(before);
    });

    it('rejects job ids with a slash or dot-dot, and script names with a path', async () => {
      const client = cluster.client();
      const before = await runIds(client);
      for (const id of ['a/b', '..', '../escape', '.hidden', '-flag', '']) {
        const err = await refusal(client.submit({ name: 'bad-id', jobs: [{ id, script: ok }] }));
        expect(err.code, id).toBe('BAD_REQUEST');
        expect(err.message, id).toMatch(/jobs\.0\.id/);
      }
      const parent = await refusal(client.submit({ name: 'bad-parent', jobs: [{ id: 'x', script: ok, dependsOn: ['../x'] }] }));
      expect(parent.code).toBe('BAD_REQUEST');
      for (const name of ['../evil.py', 'dir/evil.py', '..']) {
        const err = await refusal(client.submit({ name: 'bad-script', jobs: [{ id: 'x', script: { name, content: 'print(1)\n' } }] }));
        expect(err.code, name).toBe('BAD_REQUEST');
        expect(err.message, name).toMatch(/script/);
      }
      expect(await runIds(client)).toEqual(before);
    });

    it('rejects a job whose script was never uploaded', async () => {
      const client = cluster.client();
      const before = await runIds(client);
      const missing = sha256('never uploaded anywhere');
      const err = await refusal(client.call('submit', { run: { name: 'ghost', jobs: [{ id: 'ghost', script: { name: 'ghost.py', sha256: missing } }] } }));
      expect(err.code).toBe('BAD_REQUEST');
      expect(err.message).toContain('ghost.py');
      expect(err.message).toMatch(/not uploaded/);
      expect(await runIds(client)).toEqual(before);
    });

    it('refuses a blob whose content does not match its hash, and stores nothing', async () => {
      const client = cluster.client();
      const claimed = sha256('print("the real content")\n');
      const err = await refusal(client.call('blob.put', { sha256: claimed, offset: 0, data: Buffer.from('print("something else")\n').toString('base64'), final: true }));
      expect(err.code).toBe('BAD_REQUEST');
      expect(err.message).toMatch(/does not match/);
      expect((await client.call('blob.missing', { hashes: [claimed] })).missing).toEqual([claimed]);
      // Nothing half-stored either: a correct upload of the same hash starts cleanly and works.
      const real = Buffer.from('print("the real content")\n');
      expect(await client.call('blob.put', { sha256: claimed, offset: 0, data: real.toString('base64'), final: true })).toEqual({ size: real.length, complete: true });
      expect((await client.call('blob.missing', { hashes: [claimed] })).missing).toEqual([]);
      // An out-of-order chunk is refused as well.
      const other = sha256('another');
      const gap = await refusal(client.call('blob.put', { sha256: other, offset: 10, data: Buffer.from('x').toString('base64'), final: true }));
      expect(gap.code).toBe('BAD_REQUEST');
      expect(gap.message).toMatch(/offset/);
    });

    it('refuses out-of-range fields with the path of the field', async () => {
      const client = cluster.client();
      const before = await runIds(client);
      const cases: [string, Record<string, unknown>][] = [
        ['priority', { priority: 1.5 }],
        ['retries', { retries: -1 }],
        ['timeoutMs', { timeoutMs: 0 }],
        ['delayMs', { delayMs: -5 }],
        ['requirement', { requirement: 'has space' }],
        ['affinity', { affinity: 'always' }],
      ];
      for (const [field, extra] of cases) {
        const err = await refusal(client.submit({ name: 'range', jobs: [{ id: 'x', script: ok, ...extra }] }));
        expect(err.code, field).toBe('BAD_REQUEST');
        expect(err.message, field).toContain(`jobs.0.${field}`);
      }
      const empty = await refusal(client.submit({ name: 'empty', jobs: [] }));
      expect(empty.code).toBe('BAD_REQUEST');
      expect(await runIds(client)).toEqual(before);
    });

    it('rejects an argument or environment value holding a NUL byte at submission, naming the field', async () => {
      const client = cluster.client();
      const arg = await refusal(client.submit({ name: 'nul', jobs: [{ id: 'nul-arg', script: ok, args: ['a\0b'] }] }));
      expect(arg.code).toBe('BAD_REQUEST');
      expect(arg.message).toMatch(/args\.0: must not contain a NUL byte/);
      const env = await refusal(client.submit({ name: 'nul', jobs: [{ id: 'nul-env', script: ok, env: { BAD: 'x\0y' } }] }));
      expect(env.message).toMatch(/env\.BAD: must not contain a NUL byte/);
      expect((await refusal(client.getJob('nul-arg'))).code).toBe('NOT_FOUND');
    });

    it('answers unknown jobs and runs with NOT_FOUND', async () => {
      const client = cluster.client();
      expect((await refusal(client.getJob('nosuchjob'))).code).toBe('NOT_FOUND');
      expect((await refusal(client.getRun('rnosuchrun'))).code).toBe('NOT_FOUND');
      expect((await refusal(client.logs('rnosuchrun/x'))).code).toBe('NOT_FOUND');
    });
  });

  describe('HTTP', () => {
    const url = (path: string): string => `http://127.0.0.1:${cluster.httpPort}${path}`;
    const auth = (): Record<string, string> => ({ authorization: `Bearer ${cluster.token}` });

    it('requires the token for the API, but not for /healthz', async () => {
      const none = await fetch(url('/api/stats'));
      expect(none.status).toBe(401);
      expect(((await none.json()) as { code: string }).code).toBe('UNAUTHORIZED');
      const wrong = await fetch(url('/api/stats'), { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      const metrics = await fetch(url('/metrics'));
      expect(metrics.status).toBe(401);
      const health = await fetch(url('/healthz'));
      expect(health.status).toBe(200);
      expect(((await health.json()) as { status: string }).status).toBe('ok');
      // A probe that adds a query string is still a health check.
      expect((await fetch(url('/healthz?probe=lb'))).status).toBe(200);
      const good = await fetch(url('/api/stats'), { headers: auth() });
      expect(good.status).toBe(200);
      expect(((await good.json()) as { workers: { connected: number } }).workers.connected).toBe(2);
    });

    it('answers a bad query with 400 and a message', async () => {
      const res = await fetch(url('/api/runs?limit=abc'), { headers: auth() });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe('BAD_REQUEST');
      expect(body.message).toMatch(/limit/);
      const status = await fetch(url('/api/runs?status=SOMETIMES'), { headers: auth() });
      expect(status.status).toBe(400);
      const missing = await fetch(url('/api/runs/rnosuchrun'), { headers: auth() });
      expect(missing.status).toBe(404);
      const badId = await fetch(url('/api/runs/..%2Fetc'), { headers: auth() });
      expect(badId.status).toBe(400);
    });
  });

  describe('workers', () => {
    const runWorker = async (args: string[]): Promise<{ code: number | null; output: string }> => {
      const proc = launch(['worker', '--master', `127.0.0.1:${cluster.port}`, '--work-dir', join(tmp.path, `worker-${Math.random().toString(36).slice(2)}`), ...args]);
      try {
        const code = await new Promise<number | null>((resolve, reject) => {
          if (proc.child.exitCode !== null) return resolve(proc.child.exitCode);
          const timer = setTimeout(() => reject(new Error(`worker did not exit:\n${proc.output()}`)), 20_000);
          proc.child.once('exit', (c) => {
            clearTimeout(timer);
            resolve(c);
          });
        });
        return { code, output: proc.output() };
      } finally {
        await kill(proc, 'SIGKILL');
      }
    };

    it('a worker with a wrong token is refused and exits 3 instead of retrying forever', async () => {
      const r = await runWorker(['--token', 'wrong-token']);
      expect(r.code).toBe(3);
      expect(r.output).toMatch(/token/);
      expect(await cluster.client().workers()).toHaveLength(2);
    });

    it('a worker with a malformed capability is refused and exits 3', async () => {
      const r = await runWorker(['--token', cluster.token, '--capabilities', 'has space']);
      expect(r.code).toBe(3);
      expect(r.output).toMatch(/capabilit/);
      expect(await cluster.client().workers()).toHaveLength(2);
    });

    it('a worker without any token is refused before it dials (exit 2)', async () => {
      const r = await runWorker(['--token', '']);
      expect(r.code).toBe(2);
      expect(r.output).toMatch(/token/);
    });
  });

  describe('CLI', () => {
    it('names file:line:col of a typo key in a pipeline and suggests the right key (exit 2)', async () => {
      tmp.write('ok.py', 'print("ok")\n');
      const file = tmp.write('typo.yaml', ['name: typo', 'project: false', 'jobs:', '  - id: a', '    file: ok.py', '  - id: b', '    file: ok.py', '    depend_on: [a]', ''].join('\n'));
      const r = await cluster.cli(['submit', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${file}:8:5`);
      expect(r.stderr).toContain('depend_on');
      expect(r.stderr).toContain('did you mean "depends_on"');
      expect(r.stdout).toBe('');
    });

    it('reports a YAML syntax error with its line (exit 2)', async () => {
      const file = tmp.write('broken.yaml', ['name: broken', 'jobs:', '  - id: a', '    file: [ok.py', '    args: x', ''].join('\n'));
      const r = await cluster.cli(['submit', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: invalid YAML`));
    });

    it('reports wrong types and missing keys with their place (exit 2)', async () => {
      const file = tmp.write('types.yaml', ['name: types', 'jobs:', '  - id: a', '    file: ok.py', '    priority: high', ''].join('\n'));
      const r = await cluster.cli(['submit', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${file}:5:15`);
      expect(r.stderr).toContain('priority');
      const nofile = tmp.write('nofile.yaml', ['name: nofile', 'jobs:', '  - id: a', ''].join('\n'));
      const n = await cluster.cli(['submit', nofile]);
      expect(n.code).toBe(2);
      expect(n.stderr).toContain(nofile);
      expect(n.stderr).toMatch(/jobs\.0\.file.*required/);
    });

    it('reports a missing pipeline file (exit 2)', async () => {
      const r = await cluster.cli(['submit', join(tmp.path, 'nowhere.yaml')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('nowhere.yaml');
      expect(r.stderr).toMatch(/no such file/);
    });

    it('reports a pipeline job whose file does not exist (exit 2)', async () => {
      const file = tmp.write('lost.yaml', ['name: lost', 'jobs:', '  - id: a', '    file: scripts/lost.py', ''].join('\n'));
      const r = await cluster.cli(['submit', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('lost.py');
      expect(r.stderr).toMatch(/no such file/);
    });

    it('gives a clear error for `titan run` of a missing script (exit 2)', async () => {
      const r = await cluster.cli(['run', join(tmp.path, 'missing.py')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('missing.py');
      expect(r.stderr).toMatch(/no such file/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });

    it('rejects `titan run --priority abc` as bad input (exit 2)', async () => {
      const script = tmp.write('x.py', 'print("x")\n');
      const before = await runIds(cluster.client());
      const r = await cluster.cli(['run', '--priority', 'abc', script]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--priority/);
      const unknown = await cluster.cli(['run', '--no-such-flag', script]);
      expect(unknown.code).toBe(2);
      const nothing = await cluster.cli(['status']);
      expect(nothing.code).toBe(2);
      // Nothing was submitted by any of them.
      expect(await runIds(cluster.client())).toEqual(before);
    });

    it('says "no job or run" for a name that is neither (exit 1)', async () => {
      const r = await cluster.cli(['status', 'nosuchjob']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no job or run nosuchjob');
    });

    it('exits 3 with a message about the token when the token is wrong', async () => {
      const r = await cluster.cli(['stats'], { env: { TITAN_TOKEN: 'wrong-token' } });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/token/);
      const flag = await cluster.cli(['workers', '--token', 'also-wrong']);
      expect(flag.code).toBe(3);
      expect(flag.stderr).toMatch(/token/);
    });

    it('exits 3 saying it cannot reach the master when nothing listens', async () => {
      const port = await freePort();
      const r = await cluster.cli(['stats'], { env: { TITAN_PORT: String(port) } });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('cannot reach the master');
      expect(r.stderr).toContain(String(port));
      const flag = await cluster.cli(['runs', '--master', `127.0.0.1:${port}`]);
      expect(flag.code).toBe(3);
      expect(flag.stderr).toContain('cannot reach the master');
    });

    it('exits 2 naming TITAN_PORT when it is not a port', async () => {
      const r = await cluster.cli(['stats'], { env: { TITAN_PORT: '99999' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('TITAN_PORT must be a port number from 1 to 65535, got "99999"');
    });
  });

  // Last, so that the wait overlaps the time the other tests take.
  describe('idle connections', () => {
    it('closes a connection that never sends anything once the HELLO timeout has passed', async () => {
      const c = silent as RawConnection;
      const closed = await c.closesWithin(Math.max(0, c.openedAt + 20_000 - Date.now()));
      expect(closed, 'a silent connection was still open 20 s after it connected').toBe(true);
      // Closed by the timeout (10 s), not by anything earlier.
      expect((c.closedAt ?? 0) - c.openedAt).toBeGreaterThanOrEqual(9_000);
    }, 30_000);
  });
});
