/**
 * The constructor page's API against a real master and worker, with bearer auth: drafts,
 * the script library, the catalog of every script the cluster knows (library, uploads, past runs),
 * parsing pipelines, and deploying them from known scripts (as runs and as schedules).
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.js';
import { jobOf, sh, waitRunStatus } from '../helpers/scripts.js';

interface Known {
  name: string;
  sha256: string;
  size: number | null;
  source: 'library' | 'upload' | 'run';
  at: number;
  runId?: string;
  available: boolean;
  current: boolean;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('constructor API', () => {
  const cluster = new Cluster();
  let base = '';
  let auth: Record<string, string> = {};
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown; text: string; type: string }> => {
    const init: RequestInit = { method, headers: { ...auth, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body);
      init.headers = { 'content-type': 'application/json', ...auth, ...headers };
    }
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, json, text, type: res.headers.get('content-type') ?? '' };
  };

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 2 });
    base = `http://127.0.0.1:${cluster.httpPort}`;
    auth = { authorization: `Bearer ${cluster.token}` };
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('needs authentication', async () => {
    const res = await fetch(`${base}/api/drafts`);
    expect(res.status).toBe(401);
  });

  it('takes a browser session, whose changes carry the CSRF token', async () => {
    const login = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: cluster.token }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { csrf } = (await login.json()) as { csrf: string };
    const put = (headers: Record<string, string>) => fetch(`${base}/api/drafts/session`, { method: 'PUT', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ content: { nodes: [] } }) });
    expect((await put({})).status).toBe(403);
    expect((await put({ 'x-csrf-token': csrf })).status).toBe(200);
    expect((await fetch(`${base}/api/drafts/session`, { headers: { cookie } })).status).toBe(200);
    expect((await call('DELETE', '/api/drafts/session')).status).toBe(200);
  });

  it('saves, lists, reads, renames and deletes drafts', async () => {
    const content = { nodes: [{ id: 'a', x: 1 }], edges: [{ from: 'a', to: 'b' }] };
    const put = await call('PUT', '/api/drafts/My%20flow', { content });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ name: 'My flow', savedAt: expect.any(Number) });
    await call('PUT', '/api/drafts/other', { content: { nodes: [] } });
    const list = await call('GET', '/api/drafts');
    expect((list.json as { drafts: { name: string }[] }).drafts.map((d) => d.name).sort()).toEqual(['My flow', 'other']);
    expect((await call('GET', '/api/drafts/My%20flow')).json).toMatchObject({ name: 'My flow', content });

    expect(await call('PUT', '/api/drafts/bad%2Fname', { content })).toMatchObject({ status: 400, json: { code: 'BAD_REQUEST' } });
    expect(await call('PUT', '/api/drafts/x', {})).toMatchObject({ status: 400 });
    expect(await call('GET', '/api/drafts/missing')).toMatchObject({ status: 404, json: { code: 'NOT_FOUND' } });

    expect(await call('POST', '/api/drafts/My%20flow/rename', { to: 'other' })).toMatchObject({ status: 409, json: { code: 'CONFLICT' } });
    expect(await call('POST', '/api/drafts/My%20flow/rename', { to: 'renamed' })).toMatchObject({ status: 200, json: { name: 'renamed' } });
    expect(await call('POST', '/api/drafts/renamed/rename', { to: 'other', overwrite: true })).toMatchObject({ status: 200, json: { name: 'other' } });
    expect((await call('GET', '/api/drafts/other')).json).toMatchObject({ content });
    expect(await call('DELETE', '/api/drafts/other')).toMatchObject({ status: 200, json: { name: 'other', deleted: true } });
    expect((await call('GET', '/api/drafts')).json).toEqual({ drafts: [] });
  });

  it('uploads, lists and shows library scripts', async () => {
    const source = 'echo "hello from the library"\n';
    expect(await call('PUT', '/api/scripts/hello.sh', source, { 'content-type': 'text/plain' })).toMatchObject({ status: 200, json: { name: 'hello.sh', size: source.length } });
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(await call('PUT', '/api/scripts/data.bin', bytes, { 'content-type': 'application/octet-stream' })).toMatchObject({ status: 200, json: { name: 'data.bin', size: 4 } });
    const list = (await call('GET', '/api/scripts')).json as { scripts: { name: string; size: number; modifiedAt: number }[] };
    expect(list.scripts.find((s) => s.name === 'hello.sh')).toMatchObject({ size: source.length, modifiedAt: expect.any(Number) });
    const view = await call('GET', '/api/scripts/hello.sh');
    expect(view.status).toBe(200);
    expect(view.type).toMatch(/^text\/plain/);
    expect(view.text).toBe(source);
    expect(await call('GET', '/api/scripts/nope.sh')).toMatchObject({ status: 404, json: { code: 'NOT_FOUND' } });
    expect(await call('PUT', '/api/scripts/a%5Cb.sh', 'x', { 'content-type': 'text/plain' })).toMatchObject({ status: 400 });
    // Over the 1 MiB request limit of other routes, within the 8 MiB of a script.
    const big = 'x'.repeat(2 * 1024 * 1024);
    expect(await call('PUT', '/api/scripts/big.txt', big, { 'content-type': 'text/plain' })).toMatchObject({ status: 200, json: { size: big.length } });
    expect(await call('GET', '/api/scripts/big.txt')).toMatchObject({ status: 413 });
    // The script route's raw body parsing stays with it: text/plain elsewhere is still text.
    expect(await call('PUT', '/api/kv/constructor-check', 'plain value', { 'content-type': 'text/plain' })).toMatchObject({ status: 200 });
    expect((await call('GET', '/api/kv/constructor-check')).json).toMatchObject({ value: 'plain value' });
  });

  it('parses pipelines, with errors positioned', async () => {
    const ok = await call('POST', '/api/pipelines/parse', { yaml: 'name: p\njobs:\n  - id: a\n    file: a.sh\n' });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ pipeline: { name: 'p', project: false, jobs: [{ id: 'a', file: 'a.sh' }] } });
    const bad = await call('POST', '/api/pipelines/parse', { yaml: 'name: p\njobs:\n  - id: a\n    fiel: a.sh\n' });
    expect(bad.status).toBe(400);
    expect((bad.json as { message: string }).message).toMatch(/pipeline\.yaml:\d+:\d+/);
  });

  it('deploys a pipeline from library scripts and the run completes', async () => {
    await call('PUT', '/api/scripts/first.sh', 'echo first\n', { 'content-type': 'text/plain' });
    await call('PUT', '/api/scripts/second.sh', 'echo second\n', { 'content-type': 'text/plain' });
    const yaml = 'name: from-library\ntags: [constructor]\njobs:\n  - id: one\n    file: first.sh\n  - id: two\n    file: ./second.sh\n    depends_on: [one]\n';
    const res = await call('POST', '/api/pipelines/deploy', { yaml });
    expect(res.status).toBe(200);
    const { runId } = res.json as { runId: string };
    const view = await waitRunStatus(cluster.client(), runId, 'COMPLETED');
    expect(view.run.name).toBe('from-library');
    expect(view.run.tags).toEqual(['constructor']);
    expect(jobOf(view, 'two').status).toBe('COMPLETED');
  });

  it('registers a pipeline with a schedule instead of running it', async () => {
    const yaml = 'name: nightly-lib\nschedule: "0 3 * * *"\njobs:\n  - id: one\n    file: first.sh\n';
    const res = await call('POST', '/api/pipelines/deploy', { yaml });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ schedule: 'nightly-lib', nextAt: expect.any(Number) });
    const schedules = (await call('GET', '/api/schedules')).json as { schedules: { name: string }[] };
    expect(schedules.schedules.map((s) => s.name)).toContain('nightly-lib');
  });

  it('refuses a pipeline whose script is not in the library, and project mode', async () => {
    const missing = await call('POST', '/api/pipelines/deploy', { yaml: 'name: m\njobs:\n  - id: lost\n    file: nowhere.sh\n' });
    expect(missing.status).toBe(400);
    expect((missing.json as { message: string }).message).toMatch(/job "lost".*nowhere\.sh/);
    const project = await call('POST', '/api/pipelines/deploy', { yaml: 'name: m\nproject: true\njobs:\n  - id: a\n    file: first.sh\n' });
    expect(project.status).toBe(400);
    expect((project.json as { message: string }).message).toMatch(/project mode/);
  });

  it('lists every script the cluster knows: library, uploads and past runs, newest first, one entry per name and content', async () => {
    const client = cluster.client();
    const runWith = async (name: string, scripts: { name: string; content: string }[]): Promise<string> => {
      const { runId } = await client.submit({ name, jobs: scripts.map((script, i) => ({ id: `j${i}`, script })) });
      await waitRunStatus(client, runId, 'COMPLETED');
      return runId;
    };
    const v1 = 'echo "ran v1"\n';
    const v2 = 'echo "ran v2"\n';
    await runWith('cli-1', [sh(v1, 'ran.sh')]);
    await runWith('cli-2', [sh(v2, 'ran.sh'), sh('echo other\n', 'other.sh')]);
    const newest = await runWith('cli-3', [sh(v2, 'ran.sh')]);
    const gone = await runWith('cli-4', [sh('echo gone\n', 'gone.sh')]);
    await client.putFile('uploads', { name: 'up.sh', content: 'echo up\n' });
    await client.putFile('uploads', { name: 'bundle.zip', content: 'not a script' });
    // The content of one run's script leaves the blob store.
    rmSync(join(cluster.dir, 'data', 'blobs', sha('echo gone\n').slice(0, 2), sha('echo gone\n')));

    const started = performance.now();
    const res = await call('GET', '/api/script-catalog');
    console.log(`script catalog: ${((res.json as { scripts: Known[] }).scripts ?? []).length} scripts in ${(performance.now() - started).toFixed(0)} ms`);
    expect(res.status).toBe(200);
    const { scripts, truncated, runsScanned } = res.json as { scripts: Known[]; truncated: boolean; runsScanned: number };
    expect(truncated).toBe(false);
    expect(runsScanned).toBeGreaterThanOrEqual(4);
    const of = (name: string): Known[] => scripts.filter((s) => s.name === name);
    // Two versions of ran.sh, the newer one (of the newest run) deploys; each appears once.
    expect(of('ran.sh').map((s) => [s.sha256, s.current, s.runId === newest])).toEqual([
      [sha(v2), true, true],
      [sha(v1), false, false],
    ]);
    expect(of('ran.sh')[0]).toMatchObject({ source: 'run', size: v2.length, available: true });
    expect(of('other.sh')).toMatchObject([{ source: 'run', current: true }]);
    expect(of('gone.sh')).toMatchObject([{ source: 'run', runId: gone, size: null, available: false, current: false }]);
    expect(of('up.sh')).toMatchObject([{ source: 'upload', sha256: sha('echo up\n'), current: true }]);
    expect(of('bundle.zip')).toEqual([]);
    expect(of('first.sh')).toMatchObject([{ source: 'library', current: true, available: true }]);
    const times = scripts.map((s) => s.at);
    expect(times).toEqual([...times].sort((a, b) => b - a));

    // Capped, and saying so; a run's script is shown by its hash.
    expect((await call('GET', '/api/script-catalog?limit=2')).json).toMatchObject({ scripts: [{}, {}], truncated: true });
    expect(await call('GET', '/api/script-catalog?limit=0')).toMatchObject({ status: 400 });
    expect(await call('GET', `/api/script-catalog/${sha(v1)}`)).toMatchObject({ status: 200, text: v1 });
    expect(await call('GET', `/api/script-catalog/${sha('echo up\n')}`)).toMatchObject({ status: 200, text: 'echo up\n' });
    expect(await call('GET', `/api/script-catalog/${sha('echo gone\n')}`)).toMatchObject({ status: 404 });
    expect(await call('GET', '/api/script-catalog/not-a-hash')).toMatchObject({ status: 400 });

    // A pipeline naming a past run's script deploys its newest content; one whose content is gone is refused.
    const deployed = await call('POST', '/api/pipelines/deploy', { yaml: 'name: from-runs\njobs:\n  - id: again\n    file: ran.sh\n  - id: up\n    file: up.sh\n' });
    expect(deployed.status).toBe(200);
    const { runId } = deployed.json as { runId: string };
    await waitRunStatus(client, runId, 'COMPLETED');
    expect(await client.logs(`${runId}/again`)).toContain('ran v2');
    expect(await client.logs(`${runId}/up`)).toContain('up');
    const refused = await call('POST', '/api/pipelines/deploy', { yaml: 'name: lost\njobs:\n  - id: g\n    file: gone.sh\n' });
    expect(refused.status).toBe(400);
    expect((refused.json as { message: string }).message).toMatch(/job "g": the cluster has no script gone\.sh/);
  });
});
