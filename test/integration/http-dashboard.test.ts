/**
 * The dashboard's server side on a real master, over HTTP from Node: sign-in with the token and
 * with a password, session cookies, CSRF, sign-out, security headers, the built dashboard and
 * its client-side routes (a fake build in a temporary folder, given with --web-dir), the page
 * shown when there is no build, server-sent events (cluster feed and log stream), downloads of
 * logs and artifacts, every new route, JSON errors for bad parameters, and the sign-in limit.
 */
import type { RunTimeline } from '../../src/core/timeline.js';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, eventually } from '../helpers/cluster.js';
import { py, TempDir, waitJob, waitRunStatus } from '../helpers/scripts.js';

const tmp = new TempDir('titan-http-');
const PASSWORD = 'correct horse battery staple';
tmp.write('password', `${PASSWORD}\n`);
tmp.write('web/index.html', '<!doctype html><html><head><title>Titan</title><script type="module" src="/assets/app.js"></script></head><body><div id="root">fake-dashboard</div></body></html>\n');
tmp.write('web/assets/app.js', 'console.log("fake dashboard");\n');
tmp.write('web/.env', 'SECRET=1\n');
tmp.write('empty-web/.keep', '');

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Prints a marker line, then waits until the file argv[1] exists. */
const TALKER = py(
  `import os, sys, time
print("hello-from-job", flush=True)
deadline = time.time() + 120
while not os.path.exists(sys.argv[1]) and time.time() < deadline:
    time.sleep(0.05)
print("released", flush=True)
`,
  'talker.py',
);
const QUICK = py('print("quick job output")\n', 'quick.py');
const FAIL = py('import sys\nprint("failing on purpose")\nsys.exit(3)\n', 'fail.py');

interface SseEvent {
  event: string;
  data: unknown;
}

/** An event stream read with fetch: collects events and waits for the one a test wants. */
class EventReader {
  readonly events: SseEvent[] = [];
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];
  ended = false;
  status = 0;
  contentType = '';

  static async open(url: string, headers: Record<string, string>): Promise<EventReader> {
    const reader = new EventReader();
    const res = await fetch(url, { headers, signal: reader.abort.signal });
    reader.status = res.status;
    reader.contentType = res.headers.get('content-type') ?? '';
    if (res.ok && res.body) void reader.pump(res.body);
    return reader;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) this.events.push({ event, data: JSON.parse(data.join('\n')) as unknown });
          this.wake();
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const fn of waiters) fn();
  }

  async next<T>(pick: (e: SseEvent) => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = 0; ; ) {
      for (; seen < this.events.length; seen++) {
        const found = pick(this.events[seen] as SseEvent);
        if (found) return found;
      }
      if (this.ended) throw new Error(`the stream ended before ${what}; got ${JSON.stringify(this.events.map((e) => e.event))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.events.map((e) => e.event))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.abort.abort();
  }
}

interface Json {
  [key: string]: unknown;
}

describe('the dashboard over HTTP', () => {
  const cluster = new Cluster(['--ui-user', 'ana', '--ui-password-file', tmp.file('password'), '--web-dir', tmp.file('web')]);
  const url = (path: string): string => `http://127.0.0.1:${cluster.httpPort}${path}`;
  const bearer = (): Record<string, string> => ({ authorization: `Bearer ${cluster.token}` });
  const json = { 'content-type': 'application/json' };

  /** Signs in and returns the cookie header and the CSRF token of the new session. */
  const login = async (body: Json): Promise<{ cookie: string; csrf: string; user: string; setCookie: string }> => {
    const res = await fetch(url('/api/login'), { method: 'POST', headers: json, body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    const session = /titan_session=([0-9a-f]{64})/.exec(setCookie)?.[1];
    expect(session).toBeDefined();
    const { user, csrf } = (await res.json()) as { user: string; csrf: string };
    return { cookie: `titan_session=${session}`, csrf, user, setCookie };
  };

  const expectJsonError = async (res: Response, status: number, code?: string): Promise<{ code: string; message: string }> => {
    expect(res.status, `${res.url}: ${await res.clone().text()}`).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { code: string; message: string };
    expect(typeof body.message).toBe('string');
    expect(body.message.length).toBeGreaterThan(0);
    if (code) expect(body.code).toBe(code);
    return body;
  };

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4, permanent: true });
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  describe('sign-in and sessions', () => {
    it('signs in with the token: an HttpOnly, SameSite=Strict session cookie that works for GET', async () => {
      const s = await login({ token: cluster.token });
      expect(s.user).toBe('cluster-token');
      expect(s.csrf).toMatch(/^[0-9a-f]{64}$/);
      expect(s.setCookie).toMatch(/HttpOnly/);
      expect(s.setCookie).toMatch(/SameSite=Strict/);
      expect(s.setCookie).toMatch(/Path=\//);
      expect(s.setCookie).not.toMatch(/Secure/);
      const session = await fetch(url('/api/session'), { headers: { cookie: s.cookie } });
      expect(await session.json()).toEqual({ user: 'cluster-token', csrf: s.csrf, permissions: ['read', 'operate', 'approve', 'admin'] });
      const stats = await fetch(url('/api/stats'), { headers: { cookie: s.cookie } });
      expect(stats.status).toBe(200);
      expect(((await stats.json()) as { workers: { connected: number } }).workers.connected).toBe(1);
      expect((await fetch(url('/metrics'), { headers: { cookie: s.cookie } })).status).toBe(200);
    });

    it('refuses a wrong token, a wrong password, a malformed body and no credentials', async () => {
      await expectJsonError(await fetch(url('/api/login'), { method: 'POST', headers: json, body: JSON.stringify({ token: 'nope' }) }), 401, 'UNAUTHORIZED');
      await expectJsonError(await fetch(url('/api/login'), { method: 'POST', headers: json, body: JSON.stringify({ user: 'ana', password: 'nope' }) }), 401, 'UNAUTHORIZED');
      await expectJsonError(await fetch(url('/api/login'), { method: 'POST', headers: json, body: JSON.stringify({ user: 'bob', password: PASSWORD }) }), 401, 'UNAUTHORIZED');
      await expectJsonError(await fetch(url('/api/login'), { method: 'POST', headers: json, body: JSON.stringify({ token: cluster.token, extra: 1 }) }), 400, 'BAD_REQUEST');
      await expectJsonError(await fetch(url('/api/login'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: cluster.token }), 400, 'BAD_REQUEST');
      await expectJsonError(await fetch(url('/api/session')), 401, 'UNAUTHORIZED');
      await expectJsonError(await fetch(url('/api/stats'), { headers: { cookie: `titan_session=${'0'.repeat(64)}` } }), 401, 'UNAUTHORIZED');
      await expectJsonError(await fetch(url('/metrics')), 401);
      expect((await fetch(url('/healthz'))).status).toBe(200);
    });

    it('needs X-CSRF-Token for a change made with a session cookie, and nothing more with the bearer token', async () => {
      const s = await login({ token: cluster.token });
      const put = (headers: Record<string, string>): Promise<Response> => fetch(url('/api/kv/csrf:key'), { method: 'PUT', headers: { ...json, ...headers }, body: JSON.stringify({ value: 'v' }) });
      await expectJsonError(await put({ cookie: s.cookie }), 403, 'FORBIDDEN');
      await expectJsonError(await put({ cookie: s.cookie, 'x-csrf-token': 'f'.repeat(64) }), 403, 'FORBIDDEN');
      const other = await login({ token: cluster.token });
      await expectJsonError(await put({ cookie: s.cookie, 'x-csrf-token': other.csrf }), 403, 'FORBIDDEN');
      expect((await put({ cookie: s.cookie, 'x-csrf-token': s.csrf })).status).toBe(200);
      expect((await put(bearer())).status).toBe(200);
      // A wrong bearer token is refused even beside a good cookie.
      await expectJsonError(await put({ cookie: s.cookie, 'x-csrf-token': s.csrf, authorization: 'Bearer nope' }), 401);
    });

    it('signs out: the session stops working and the cookie is cleared', async () => {
      const s = await login({ token: cluster.token });
      await expectJsonError(await fetch(url('/api/logout'), { method: 'POST', headers: { cookie: s.cookie } }), 403, 'FORBIDDEN');
      const out = await fetch(url('/api/logout'), { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(/titan_session=;.*Max-Age=0/);
      await expectJsonError(await fetch(url('/api/stats'), { headers: { cookie: s.cookie } }), 401);
      await expectJsonError(await fetch(url('/api/session'), { headers: { cookie: s.cookie } }), 401);
      // Signing out without a session is harmless.
      expect((await fetch(url('/api/logout'), { method: 'POST' })).status).toBe(204);
    });

    it('signs in with --ui-user and --ui-password-file, and decides gates as that user', async () => {
      const s = await login({ user: 'ana', password: PASSWORD });
      expect(s.user).toBe('ana');
      expect(await (await fetch(url('/api/session'), { headers: { cookie: s.cookie } })).json()).toEqual({ user: 'ana', csrf: s.csrf, permissions: ['read', 'operate', 'approve', 'admin'] });
      const client = cluster.client();
      const { runId } = await client.submit({ name: 'http-gate', jobs: [{ id: 'gate', kind: 'approval', message: 'ship?' }, { id: 'after', script: QUICK, dependsOn: ['gate'] }] });
      await waitJob(client, `${runId}/gate`, 'WAITING_APPROVAL');
      const pending = (await (await fetch(url('/api/gates'), { headers: { cookie: s.cookie } })).json()) as { pending: { ref: string }[] };
      expect(pending.pending.map((g) => g.ref)).toContain(`${runId}/gate`);
      const approve = await fetch(url(`/api/runs/${runId}/jobs/gate/approve`), { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, ...json }, body: JSON.stringify({ by: 'mallory', comment: 'looks good' }) });
      expect(approve.status, await approve.clone().text()).toBe(200);
      await waitRunStatus(client, runId, 'COMPLETED');
      const history = (await (await fetch(url('/api/gates?history=5'), { headers: bearer() })).json()) as { history: { runId: string; by: string; comment: string }[] };
      expect(history.history.find((d) => d.runId === runId)).toMatchObject({ by: 'ana', comment: 'looks good' });
    });
  });

  describe('headers and the dashboard files', () => {
    const expectSecurityHeaders = (res: Response): void => {
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    };

    it('sends the security headers on pages, API answers, errors and /healthz', async () => {
      for (const [path, headers] of [
        ['/', {}],
        ['/runs/abc', {}],
        ['/assets/app.js', {}],
        ['/api/stats', {}],
        ['/api/stats', bearer()],
        ['/api/nope', bearer()],
        ['/healthz', {}],
      ] as const) {
        const res = await fetch(url(path), { headers });
        expectSecurityHeaders(res);
        if (path.startsWith('/api/')) {
          expect(res.headers.get('content-type')).toMatch(/^application\/json/);
          if (res.status === 200) expect(res.headers.get('cache-control')).toBe('no-store');
        }
      }
    });

    it('serves the build, and index.html for client-side routes; API paths stay JSON', async () => {
      const root = await fetch(url('/'));
      expect(root.status).toBe(200);
      expect(root.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await root.text()).toContain('fake-dashboard');
      const route = await fetch(url('/runs/abc'));
      expect(route.status).toBe(200);
      expect(route.headers.get('content-type')).toMatch(/^text\/html/);
      expect(route.headers.get('cache-control')).toBe('no-cache');
      expect(await route.text()).toContain('fake-dashboard');
      const asset = await fetch(url('/assets/app.js'));
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      expect(asset.headers.get('cache-control')).toMatch(/immutable/);
      // Dotfiles are not served, whatever the build folder holds.
      expect(await (await fetch(url('/.env'))).text()).not.toContain('SECRET');
      await expectJsonError(await fetch(url('/api/no/such/route'), { headers: bearer() }), 404, 'NOT_FOUND');
      await expectJsonError(await fetch(url('/api/no/such/route')), 404, 'NOT_FOUND');
      await expectJsonError(await fetch(url('/runs/abc'), { method: 'POST' }), 404, 'NOT_FOUND');
    });

    it('answers a page saying the dashboard is not built when there is no build', async () => {
      const bare = new Cluster(['--web-dir', tmp.file('empty-web')]);
      try {
        await bare.startMaster();
        const res = await fetch(`http://127.0.0.1:${bare.httpPort}/`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.headers.get('content-security-policy')).toBe(CSP);
        const text = await res.text();
        expect(text).toContain('not built');
        expect(text).toContain('npm run build');
        const api = await fetch(`http://127.0.0.1:${bare.httpPort}/api/stats`, { headers: { authorization: `Bearer ${bare.token}` } });
        expect(api.status).toBe(200);
      } finally {
        await bare.stop();
      }
    });
  });

  describe('live updates', () => {
    it('/api/events delivers the state, then jobs and run events as a job runs, and workers when one joins', async () => {
      const events = await EventReader.open(url('/api/events'), bearer());
      try {
        expect(events.status).toBe(200);
        expect(events.contentType).toMatch(/^text\/event-stream/);
        const first = await events.next((e) => e.event === 'workers' && (e.data as { workers: { id: string }[] }), 'the first workers event');
        expect(first.workers.length).toBe(1);
        await events.next((e) => e.event === 'stats' && e.data, 'the first stats event');

        const client = cluster.client();
        const { runId } = await client.submit({ name: 'sse-run', jobs: [{ id: 'quick', script: QUICK }] });
        const jobs = await events.next((e) => {
          const d = e.data as { runId: string; jobs: { ref: string; status: string }[] };
          return e.event === 'jobs' && d.runId === runId && d.jobs.some((j) => j.status === 'COMPLETED') && d;
        }, 'a jobs event with the job completed');
        expect(jobs.jobs[0]?.ref).toBe(`${runId}/quick`);
        await events.next((e) => e.event === 'run' && (e.data as { run: { runId: string; status: string } }).run.runId === runId && (e.data as { run: { status: string } }).run.status === 'COMPLETED', 'the run event');

        await cluster.startWorker({ slots: 1, name: 'joiner' });
        const joined = await events.next((e) => e.event === 'workers' && (e.data as { workers: { id: string }[] }).workers.find((w) => w.id.startsWith('joiner')), 'a workers event with the new worker');
        expect(joined.id).toMatch(/^joiner:/);
      } finally {
        events.close();
      }
    });

    it('/api/events announces a commit of more than 2000 jobs by resync instead of sending them', async () => {
      const events = await EventReader.open(url('/api/events'), bearer());
      try {
        const client = cluster.client();
        const gates = Array.from({ length: 2001 }, (_, i) => ({ id: `gate-${i}`, kind: 'approval' as const }));
        const { runId } = await client.submit({ name: 'wide', jobs: gates });
        const resync = await events.next((e) => e.event === 'resync' && (e.data as { runId: string; changed: number }), 'the resync event');
        expect(resync).toEqual({ runId, changed: 2001 });
        expect(events.events.some((e) => e.event === 'jobs' && (e.data as { runId: string }).runId === runId)).toBe(false);
        const cancel = await fetch(url(`/api/runs/${runId}/cancel`), { method: 'POST', headers: bearer() });
        expect(await cancel.json()).toEqual({ cancelled: 2001 });
        await events.next((e) => e.event === 'run' && (e.data as { run: { runId: string; status: string } }).run.status === 'CANCELLED' && (e.data as { run: { runId: string } }).run.runId === runId, 'the run cancelled');
      } finally {
        events.close();
      }
    });

    it('the event stream works with a session cookie and ends when the session signs out', async () => {
      const s = await login({ token: cluster.token });
      const events = await EventReader.open(url('/api/events'), { cookie: s.cookie });
      try {
        expect(events.status).toBe(200);
        await events.next((e) => e.event === 'workers', 'the first workers event');
        await fetch(url('/api/logout'), { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
        await eventually(() => events.ended, 5000, 'the stream to end at sign-out');
      } finally {
        events.close();
      }
      const refused = await EventReader.open(url('/api/events'), { cookie: s.cookie });
      expect(refused.status).toBe(401);
    });

    it('the log stream delivers a line printed by a running job before it ends, then the end', async () => {
      const client = cluster.client();
      const release = tmp.file('release-talker');
      const { runId } = await client.submit({ name: 'talker', jobs: [{ id: 'talk', script: TALKER, args: [release] }] });
      await waitJob(client, `${runId}/talk`, 'RUNNING');
      const stream = await EventReader.open(url(`/api/runs/${runId}/jobs/talk/logs/stream`), bearer());
      try {
        expect(stream.status).toBe(200);
        expect(stream.contentType).toMatch(/^text\/event-stream/);
        const line = await stream.next((e) => e.event === 'log' && (e.data as { attempt: number; data: string }).data.includes('hello-from-job') && (e.data as { attempt: number }), 'the line printed before the release');
        expect(line.attempt).toBe(1);
        expect((await client.getJob(`${runId}/talk`)).job.status).toBe('RUNNING');
        expect(stream.events.some((e) => e.event === 'end')).toBe(false);
        writeFileSync(release, '');
        await stream.next((e) => e.event === 'log' && (e.data as { data: string }).data.includes('released'), 'the line after the release');
        const end = await stream.next((e) => e.event === 'end' && (e.data as { status: string }), 'the end event');
        expect(end.status).toBe('COMPLETED');
        await eventually(() => stream.ended, 5000, 'the stream to close after the end');
      } finally {
        stream.close();
      }

      // A finished job's stream replays its output and ends at once.
      const replay = await EventReader.open(url(`/api/runs/${runId}/jobs/talk/logs/stream`), bearer());
      await replay.next((e) => e.event === 'end', 'the end of a finished job');
      expect(replay.events.filter((e) => e.event === 'log').map((e) => (e.data as { data: string }).data).join('')).toContain('hello-from-job\nreleased\n');

      // The whole attempt as a text file.
      const download = await fetch(url(`/api/runs/${runId}/jobs/talk/logs/download`), { headers: bearer() });
      expect(download.status).toBe(200);
      expect(download.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(download.headers.get('content-disposition')).toBe(`attachment; filename="${runId}-talk-attempt-1.log"; filename*=UTF-8''${runId}-talk-attempt-1.log`);
      expect(download.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await download.text()).toBe('hello-from-job\nreleased\n');
      expect(existsSync(release)).toBe(true);
    });
  });

  it('a log stream of a long output starts with its last 4 MiB, after a truncated event', async () => {
    const client = cluster.client();
    // 6 MiB in 1 MiB bursts, slow enough for the worker to forward all of it.
    const chatty = py('import sys, time\nline = "x" * 1023 + "\\n"\nfor i in range(6):\n    sys.stdout.write(line * 1024)\n    sys.stdout.flush()\n    time.sleep(0.3)\nprint("last line")\n', 'chatty.py');
    const { runId } = await client.submit({ name: 'chatty', jobs: [{ id: 'chat', script: chatty }] });
    await waitRunStatus(client, runId, 'COMPLETED');
    const stream = await EventReader.open(url(`/api/runs/${runId}/jobs/chat/logs/stream`), bearer());
    try {
      await stream.next((e) => e.event === 'end', 'the end');
      expect(stream.events.map((e) => e.event).slice(0, 2)).toEqual(['truncated', 'log']);
      const skipped = (stream.events[0]?.data as { attempt: number; bytes: number }).bytes;
      const text = stream.events.filter((e) => e.event === 'log').map((e) => (e.data as { data: string }).data).join('');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4 * 1024 * 1024);
      expect(skipped + Buffer.byteLength(text)).toBe(6 * 1024 * 1024 + 'last line\n'.length);
      expect(text.endsWith('x\nlast line\n')).toBe(true);
    } finally {
      stream.close();
    }
  });

  describe('API routes', () => {
    it('downloads an artifact with its exact bytes, length and sha256, and lists artifacts', async () => {
      const client = cluster.client();
      const content = randomBytes(3 * 1024 * 1024 + 17);
      const sha = createHash('sha256').update(content).digest('hex');
      await client.publishArtifact('dash/sub/data.bin', content);
      const res = await fetch(url('/api/artifacts/download/dash/sub/data.bin'), { headers: bearer() });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('content-length')).toBe(String(content.length));
      expect(res.headers.get('x-titan-sha256')).toBe(sha);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="data\.bin"/);
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.length).toBe(content.length);
      expect(body.equals(content)).toBe(true);

      await client.publishArtifact('dash/empty', Buffer.alloc(0));
      const empty = await fetch(url('/api/artifacts/download/dash/empty'), { headers: bearer() });
      expect(empty.headers.get('content-length')).toBe('0');
      expect((await empty.arrayBuffer()).byteLength).toBe(0);

      const listed = (await (await fetch(url('/api/artifacts?prefix=dash/&limit=10'), { headers: bearer() })).json()) as { artifacts: { key: string; sha256: string }[]; truncated: boolean };
      expect(listed.artifacts.map((a) => a.key).sort()).toEqual(['dash/empty', 'dash/sub/data.bin']);
      expect(listed.truncated).toBe(false);
      expect(((await (await fetch(url('/api/artifacts?prefix=dash/&limit=1'), { headers: bearer() })).json()) as { truncated: boolean }).truncated).toBe(true);
    });

    it('searches runs by name or id, reruns a run and retries a dead job', async () => {
      const client = cluster.client();
      const alpha = await client.submit({ name: 'Alpha-ETL', tags: ['http-search'], jobs: [{ id: 'quick', script: QUICK }] });
      const beta = await client.submit({ name: 'beta', tags: ['http-search'], jobs: [{ id: 'bad', script: FAIL, retries: 0 }] });
      await waitRunStatus(client, alpha.runId, 'COMPLETED');
      await waitRunStatus(client, beta.runId, 'FAILED');
      const search = async (query: string): Promise<string[]> => ((await (await fetch(url(`/api/runs?${query}`), { headers: bearer() })).json()) as { runs: { runId: string }[] }).runs.map((r) => r.runId);
      expect(await search('q=alpha-')).toEqual([alpha.runId]);
      expect(await search('q=ALPHA&status=COMPLETED')).toEqual([alpha.runId]);
      expect(await search('q=alpha&status=FAILED')).toEqual([]);
      expect(await search(`q=${beta.runId.slice(1).toUpperCase()}`)).toEqual([beta.runId]);
      expect(await search('tag=http-search&limit=1')).toEqual([beta.runId]);

      const rerun = await fetch(url(`/api/runs/${alpha.runId}/rerun`), { method: 'POST', headers: bearer() });
      expect(rerun.status).toBe(200);
      const again = (await rerun.json()) as { runId: string; jobs: string[] };
      expect(again.runId).not.toBe(alpha.runId);
      await waitRunStatus(client, again.runId, 'COMPLETED');

      const retry = await fetch(url(`/api/runs/${beta.runId}/jobs/bad/retry`), { method: 'POST', headers: bearer() });
      expect(retry.status, await retry.clone().text()).toBe(200);
      expect(((await retry.json()) as { job: { ref: string } }).job.ref).toBe(`${beta.runId}/bad`);
      await waitJob(client, `${beta.runId}/bad`, 'DEAD');
      const attempt2 = await fetch(url(`/api/runs/${beta.runId}/jobs/bad/logs/download?attempt=2`), { headers: bearer() });
      expect(await attempt2.text()).toBe('failing on purpose\n');
      await expectJsonError(await fetch(url(`/api/runs/${alpha.runId}/jobs/quick/retry`), { method: 'POST', headers: bearer() }), 409, 'CONFLICT');
      await expectJsonError(await fetch(url(`/api/runs/${alpha.runId}/jobs/quick/stop`), { method: 'POST', headers: bearer() }), 409);
    });

    it('serves a run’s timeline in columns: each attempt a row with its queue, staging and run times', async () => {
      const client = cluster.client();
      const { runId } = await client.submit({ name: 'timeline', jobs: [{ id: 'bad', script: FAIL, retries: 0 }, { id: 'after', script: QUICK, dependsOn: ['bad'] }] });
      await waitRunStatus(client, runId, 'FAILED');
      expect((await fetch(url(`/api/runs/${runId}/jobs/bad/retry`), { method: 'POST', headers: bearer() })).status).toBe(200);
      await waitJob(client, `${runId}/bad`, 'DEAD');
      const t = (await (await fetch(url(`/api/runs/${runId}/timeline`), { headers: bearer() })).json()) as RunTimeline;
      expect(t.jobs.id).toEqual(['bad', 'after']);
      expect(t.jobs.status).toEqual(['DEAD', 'SKIPPED']);
      const a = t.attempts;
      expect(a.job).toEqual([0, 0]);
      expect(a.attempt).toEqual([1, 2]);
      expect(a.outcome).toEqual(['FAILED', 'FAILED']);
      expect(a.exitCode).toEqual([3, 3]);
      for (let i = 0; i < 2; i++) {
        const [queued, started, running, finished] = [a.queuedAt[i], a.startedAt[i], a.runningAt[i], a.finishedAt[i]];
        if (queued == null || started === undefined || running == null || finished == null) throw new Error(`attempt ${i + 1} lacks a time: ${JSON.stringify(a)}`);
        expect(queued).toBeLessThanOrEqual(started);
        expect(started).toBeLessThanOrEqual(running);
        expect(running).toBeLessThanOrEqual(finished);
      }
      await expectJsonError(await fetch(url('/api/runs/nope/timeline'), { headers: bearer() }), 404, 'NOT_FOUND');
    });

    it('lists agent runs, schedules and metrics samples, and acts on schedules and workers', async () => {
      const client = cluster.client();
      const { runId } = await client.submit({ name: 'agent-stage', agentRunId: 'agent-http', jobs: [{ id: 'quick', script: QUICK }] });
      await waitRunStatus(client, runId, 'COMPLETED');
      const agentRuns = (await (await fetch(url('/api/agent-runs?limit=5'), { headers: bearer() })).json()) as { agentRuns: { agentRunId: string }[] };
      expect(agentRuns.agentRuns.map((a) => a.agentRunId)).toContain('agent-http');
      const agentRun = (await (await fetch(url('/api/agent-runs/agent-http'), { headers: bearer() })).json()) as { agentRunId: string; stages: { runId: string }[] };
      expect(agentRun.stages.map((s) => s.runId)).toEqual([runId]);

      await client.putSchedule('http-nightly', { cron: '0 3 * * *' }, { jobs: [{ id: 'quick', script: QUICK }] });
      const listed = (await (await fetch(url('/api/schedules'), { headers: bearer() })).json()) as { schedules: { name: string; paused: boolean }[] };
      expect(listed.schedules.find((s) => s.name === 'http-nightly')).toMatchObject({ paused: false });
      const paused = (await (await fetch(url('/api/schedules/http-nightly/pause'), { method: 'POST', headers: bearer() })).json()) as { schedule: { paused: boolean } };
      expect(paused.schedule.paused).toBe(true);
      const resumed = (await (await fetch(url('/api/schedules/http-nightly/resume'), { method: 'POST', headers: bearer() })).json()) as { schedule: { paused: boolean } };
      expect(resumed.schedule.paused).toBe(false);
      const now = (await (await fetch(url('/api/schedules/http-nightly/run-now'), { method: 'POST', headers: bearer() })).json()) as { runId: string };
      await waitRunStatus(client, now.runId, 'COMPLETED');
      const deleted = await fetch(url('/api/schedules/http-nightly'), { method: 'DELETE', headers: bearer() });
      expect(((await deleted.json()) as { schedule: { name: string } }).schedule.name).toBe('http-nightly');
      expect(await client.schedules()).toEqual([]);

      const history = (await (await fetch(url('/api/metrics/history'), { headers: bearer() })).json()) as { samples: unknown[] };
      expect(Array.isArray(history.samples)).toBe(true);

      const workers = (await (await fetch(url('/api/workers'), { headers: bearer() })).json()) as { workers: { id: string; permanent: boolean }[] };
      const permanent = workers.workers.find((w) => w.permanent);
      const joiner = workers.workers.find((w) => w.id.startsWith('joiner'));
      expect(permanent && joiner).toBeTruthy();
      await expectJsonError(await fetch(url(`/api/workers/${encodeURIComponent(permanent?.id ?? '')}/shutdown`), { method: 'POST', headers: bearer() }), 409, 'CONFLICT');
      const drained = await fetch(url(`/api/workers/${encodeURIComponent(joiner?.id ?? '')}/drain`), { method: 'POST', headers: bearer() });
      expect(((await drained.json()) as { worker: { state: string } }).worker.state).toBe('draining');
      const shut = await fetch(url(`/api/workers/${encodeURIComponent(joiner?.id ?? '')}/shutdown`), { method: 'POST', headers: { ...bearer(), ...json }, body: JSON.stringify({ force: false }) });
      expect(shut.status).toBe(200);
      await eventually(async () => !(await client.workers()).some((w) => w.id === joiner?.id), 20_000, 'the drained worker to leave');
    });

    it('answers bad parameters of every route with a JSON error', async () => {
      const get = (path: string): Promise<Response> => fetch(url(path), { headers: bearer() });
      const post = (path: string, body?: string): Promise<Response> => fetch(url(path), { method: 'POST', headers: body === undefined ? bearer() : { ...bearer(), ...json }, ...(body !== undefined && { body }) });
      const cases: [Promise<Response>, number][] = [
        [get('/api/runs?q='), 400],
        [get(`/api/runs?q=${'x'.repeat(201)}`), 400],
        [get('/api/runs?limit=5000'), 400],
        [post('/api/runs/.bad/rerun'), 400],
        [post('/api/runs/rnosuch/rerun'), 404],
        [post('/api/runs/rnosuch/jobs/j/retry'), 404],
        [post('/api/runs/rnosuch/jobs/.j/retry'), 400],
        [post('/api/runs/rnosuch/jobs/j/stop'), 404],
        [get('/api/runs/rnosuch/jobs/j/logs/download'), 404],
        [get('/api/runs/rnosuch/jobs/j/logs/download?attempt=abc'), 400],
        [get('/api/runs/rnosuch/jobs/j/logs/download?attempt=0'), 400],
        [get('/api/runs/rnosuch/jobs/j/logs/stream'), 404],
        [get('/api/agent-runs?limit=abc'), 400],
        [get('/api/agent-runs?limit=0'), 400],
        [get('/api/agent-runs/nosuch'), 404],
        [get('/api/agent-runs/.bad'), 400],
        [post('/api/schedules/nosuch/pause'), 404],
        [post('/api/schedules/nosuch/resume'), 404],
        [post('/api/schedules/nosuch/run-now'), 404],
        [post('/api/schedules/.bad/pause'), 400],
        [fetch(url('/api/schedules/nosuch'), { method: 'DELETE', headers: bearer() }), 404],
        [get('/api/artifacts?limit=0'), 400],
        [get('/api/artifacts?runId=.bad'), 400],
        [get('/api/artifacts/download/no/such/key'), 404],
        [get('/api/artifacts/download/a//b'), 400],
        [post('/api/workers/nosuch/drain'), 404],
        [post('/api/workers/nosuch/shutdown'), 404],
        [post('/api/workers/nosuch/shutdown', JSON.stringify({ force: 'yes' })), 400],
        [post('/api/workers/nosuch/shutdown', '[1]'), 400],
        [post('/api/workers/nosuch/shutdown', '{bad json'), 400],
        [get('/api/gates?history=-1'), 400],
        [post('/api/runs/rnosuch/jobs/gate/approve', JSON.stringify({ comment: 5 })), 400],
      ];
      for (const [res, status] of cases) await expectJsonError(await res, status);
    });
  });

  // Last: it leaves 127.0.0.1 unable to sign in for a minute.
  it('limits failed sign-ins per address', async () => {
    const attempt = (): Promise<Response> => fetch(url('/api/login'), { method: 'POST', headers: json, body: JSON.stringify({ user: 'ana', password: 'guess' }) });
    let limited: Response | null = null;
    for (let i = 0; i < 12 && !limited; i++) {
      const res = await attempt();
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(401);
    }
    expect(limited).not.toBeNull();
    const body = await expectJsonError(limited as Response, 429, 'RATE_LIMITED');
    expect(body.message).toMatch(/try again/);
    expect(Number((limited as Response).headers.get('retry-after'))).toBeGreaterThan(0);
    // Even the right password waits; the bearer token still works.
    expect((await fetch(url('/api/login'), { method: 'POST', headers: json, body: JSON.stringify({ user: 'ana', password: PASSWORD }) })).status).toBe(429);
    expect((await fetch(url('/api/stats'), { headers: bearer() })).status).toBe(200);
  });
});
