/**
 * `titan mcp` end to end: a real master and worker, the built CLI spawned as an MCP server over
 * stdio by the SDK's own client, and every tool called the way an agent would call it. Also: the
 * root-folder rule of submit_yaml (a `../` path or a symlink out is refused), bad input is a tool
 * error that leaves the server up, and the server writes no file.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_NAMES } from '../../src/mcp/server.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { CLI, Cluster, ROOT } from '../helpers/cluster.js';
import { TempDir, waitJob } from '../helpers/scripts.js';

interface ToolResult {
  content: { type: string; text?: string }[];
  isError?: boolean;
}

/** An HTTP service on 127.0.0.1:$PORT. */
const SERVE_PY = `import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
print("serving", flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
`;

/** Ports for services between the default range and the ephemeral ports, random per run. */
function portRange(): string {
  const lo = 30_000 + Math.floor(Math.random() * 270) * 10;
  return `${lo}-${lo + 9}`;
}

describe('titan mcp', () => {
  const cluster = new Cluster(['--service-ports', portRange()]);
  const root = new TempDir('titan-mcp-root-');
  const outside = new TempDir('titan-mcp-outside-');
  let sdk: TitanClient;
  let mcp: Client;
  let transport: StdioClientTransport;
  let stderr = '';
  let rootBefore: string[] = [];

  const listing = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();

  async function call(name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
    return (await mcp.callTool({ name, arguments: args })) as ToolResult;
  }
  const textOf = (r: ToolResult, index = 0): string => r.content[index]?.text ?? '';
  /** Calls a tool that must succeed and returns its text. */
  async function ok(name: string, args: Record<string, unknown> = {}): Promise<string> {
    const r = await call(name, args);
    if (r.isError) throw new Error(`${name} failed: ${textOf(r)}\n--- server stderr ---\n${stderr}`);
    return textOf(r);
  }
  const okJson = async <T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> => JSON.parse(await ok(name, args)) as T;
  /** Calls a tool that must fail and returns the error text. */
  async function refused(name: string, args: Record<string, unknown>): Promise<string> {
    const r = await call(name, args);
    expect(r.isError, `${name} should have failed but returned ${textOf(r)}`).toBe(true);
    return textOf(r);
  }

  interface RunResult {
    finished: boolean;
    runId: string;
    status: string;
    jobs: { ref: string; status: string; startedAt: string | null; finishedAt: string | null; service?: { up: boolean; port: number } }[];
  }

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4 });
    sdk = cluster.client();
    root.write('hello.py', 'import sys\nprint("hello from yaml", *sys.argv[1:], flush=True)\n');
    root.write('steps/second.py', 'print("second step", flush=True)\n');
    outside.write('secret.py', 'print("must not run")\n');
    symlinkSync(outside.file('secret.py'), root.file('link.py'));
    rootBefore = listing(root.path);
    // A person granted this agent everything, deciding gates included, under the name "agent".
    transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp', '--root', root.path],
      env: { TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port), TITAN_TOKEN: await cluster.namedToken('agent', ['admin']), NO_COLOR: '1' },
      cwd: cluster.dir,
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    mcp = new Client({ name: 'titan-mcp-test', version: '1.0.0' });
    await mcp.connect(transport);
  });

  afterAll(async () => {
    await mcp?.close();
    await cluster.stop();
    root.remove();
    outside.remove();
  });

  it('lists every tool, each with an object input schema', async () => {
    const { tools } = await mcp.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      expect(t.description).toBeTruthy();
    }
    // What an agent needs to run a whole workflow, with what each may do.
    const hints = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    for (const name of ['list_gates', 'list_workers', 'list_store_keys', 'list_limits']) expect(hints[name], name).toMatchObject({ readOnlyHint: true });
    for (const name of ['retry_job', 'rerun_run', 'extend_run']) expect(hints[name], name).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    const submit = tools.find((t) => t.name === 'submit_job');
    expect(Object.keys(submit?.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(['script_name', 'script_content', 'args', 'requirement', 'priority', 'retries', 'timeout_seconds', 'concurrency', 'rate_limit', 'fairness']));
  });

  it('ping reports the master up', async () => {
    const pong = await okJson<{ status: string; master: string; uptimeMs: number; workers: number }>('ping');
    expect(pong).toMatchObject({ status: 'ok', master: `127.0.0.1:${cluster.port}`, workers: 1 });
    expect(pong.uptimeMs).toBeGreaterThan(0);
  });

  it('submit_job, wait_for_run and get_job_logs show the output, tail-limited on request', async () => {
    const script = 'import sys\nfor i in range(30):\n    print(f"line {i}")\nprint("hello from mcp", *sys.argv[1:], flush=True)\n';
    const submitted = await okJson<{ runId: string; ref: string }>('submit_job', { script_name: 'hello.py', script_content: script, args: ['a', 'two words'], requirement: 'GENERAL', priority: 5, retries: 1, timeout_seconds: 60 });
    expect(submitted.ref).toBe(`${submitted.runId}/hello.py`);
    const done = await okJson<RunResult>('wait_for_run', { run_id: submitted.runId, timeout_seconds: 30 });
    expect(done).toMatchObject({ finished: true, status: 'COMPLETED' });
    const logs = await ok('get_job_logs', { ref: submitted.ref });
    expect(logs).toContain('hello from mcp a two words');
    expect(logs).toContain('line 0');
    const tail = await ok('get_job_logs', { ref: submitted.ref, tail_lines: 2 });
    expect(tail).toBe('[... 29 earlier lines not shown]\nline 29\nhello from mcp a two words\n');
    const status = await okJson<{ status: string; exitCode: number; attempts: unknown[] }>('get_job_status', { ref: submitted.ref });
    expect(status).toMatchObject({ status: 'COMPLETED', exitCode: 0 });
    expect(status.attempts).toHaveLength(1);
  });

  it('submit_dag runs two jobs in dependency order', async () => {
    const { runId, jobs } = await okJson<{ runId: string; jobs: string[] }>('submit_dag', {
      name: 'mcp-dag',
      jobs: [
        { id: 'first', script_content: 'print("first")\n' },
        { id: 'second', script_name: 'second.sh', script_content: 'echo "second after first"\n', depends_on: ['first'] },
      ],
    });
    expect(jobs).toEqual(['first', 'second']);
    const done = await okJson<RunResult>('wait_for_run', { run_id: runId, timeout_seconds: 30 });
    expect(done).toMatchObject({ finished: true, status: 'COMPLETED', runId });
    const [first, second] = done.jobs;
    expect(Date.parse(second?.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(first?.finishedAt ?? ''));
    expect(await ok('get_job_logs', { ref: `${runId}/second` })).toContain('second after first');
  });

  it('submit_yaml reads scripts from the root folder and refuses paths that escape it', async () => {
    const yaml = `name: from-yaml
jobs:
  - id: one
    file: hello.py
    args: [x, 1]
  - id: two
    file: steps/second.py
    depends_on: one
`;
    const { runId, name } = await okJson<{ runId: string; name: string }>('submit_yaml', { yaml });
    expect(name).toBe('from-yaml');
    expect(await okJson<RunResult>('wait_for_run', { run_id: runId, timeout_seconds: 30 })).toMatchObject({ finished: true, status: 'COMPLETED' });
    expect(await ok('get_job_logs', { ref: `${runId}/one` })).toContain('hello from yaml x 1');
    // base_dir moves where file: paths start, still inside the root.
    const { runId: second } = await okJson<{ runId: string }>('submit_yaml', { yaml: 'jobs:\n  - id: s\n    file: second.py\n', base_dir: 'steps' });
    expect(await okJson<RunResult>('wait_for_run', { run_id: second, timeout_seconds: 30 })).toMatchObject({ status: 'COMPLETED' });

    const escape = await refused('submit_yaml', { yaml: 'jobs:\n  - id: bad\n    file: ../outside.py\n' });
    expect(escape).toContain('job "bad": ../outside.py is outside the root folder');
    expect(await refused('submit_yaml', { yaml: `jobs:\n  - id: abs\n    file: ${outside.file('secret.py')}\n` })).toContain('outside the root folder');
    expect(await refused('submit_yaml', { yaml: 'jobs:\n  - id: sym\n    file: link.py\n' })).toContain('through a symbolic link');
    expect(await refused('submit_yaml', { yaml: 'jobs:\n  - id: s\n    file: second.py\n', base_dir: '..' })).toContain('outside the root folder');
    // A pipeline error names the line, as the CLI does.
    expect(await refused('submit_yaml', { yaml: 'jobs:\n  - id: t\n    file: hello.py\n    priorty: 3\n' })).toMatch(/yaml:4:5: unknown key "priorty" \(did you mean "priority"\?\)/);
    expect(await refused('submit_yaml', { yaml: 'jobs:\n  - id: gone\n    file: nothing.py\n' })).toContain('no such file');
  });

  it('submit_dag and submit_yaml carry flow control to the master; list_limits shows the keys', async () => {
    await sdk.limits.set({ key: 'mcp-api', concurrency: 1 });
    const { runId } = await okJson<{ runId: string }>('submit_dag', {
      name: 'mcp-flow',
      fairness: { key: '{name}', weight: 2 },
      jobs: [
        { id: 'one', script_content: 'print("one")\n', concurrency: { key: 'mcp-{job}', limit: 2 }, rate_limit: { key: 'mcp-api', limit: 30, per: 'minute' } },
        { id: 'two', script_content: 'print("two")\n', concurrency: { key: 'mcp-api' } },
      ],
    });
    expect(await okJson<RunResult>('wait_for_run', { run_id: runId, timeout_seconds: 30 })).toMatchObject({ finished: true, status: 'COMPLETED' });
    const view = await sdk.getRun(runId);
    expect(view.jobs.map((j) => [j.spec.concurrency, j.spec.rateLimit])).toEqual([
      [{ key: 'mcp-one', limit: 2 }, { key: 'mcp-api', limit: 30, per: 'minute' }],
      [{ key: 'mcp-api' }, undefined],
    ]);
    const { keys } = await okJson<{ keys: { key: string; limit: unknown; holders: string[]; waiters: number }[] }>('list_limits');
    expect(keys.find((k) => k.key === 'mcp-api')).toMatchObject({ limit: { key: 'mcp-api', concurrency: 1 }, holders: [], waiters: 0 });
    await sdk.limits.remove('mcp-api');

    const yaml = 'name: mcp-yaml-flow\nfairness: {key: "{run}"}\njobs:\n  - id: hello\n    file: hello.py\n    concurrency: {key: "mcp-{name}", limit: 1}\n';
    const fromYaml = await okJson<{ runId: string }>('submit_yaml', { yaml });
    expect((await sdk.getRun(fromYaml.runId)).jobs[0]?.spec.concurrency).toEqual({ key: 'mcp-mcp-yaml-flow', limit: 1 });

    expect(await refused('submit_dag', { jobs: [{ id: 'a', script_content: 'x', rate_limit: { key: 'k', limit: 1, per: 'fortnight' } }] })).toMatch(/Invalid option: expected one of "second"\|"minute"\|"hour"\|"day" at jobs\[0\]\.rate_limit\.per/);
    expect(await refused('submit_dag', { jobs: [{ id: 'a', script_content: 'x', concurrency: { key: 'tenant-{tags.customer}' } }] })).toContain('job a: concurrency key "tenant-{tags.customer}": {tags.customer} needs a tag "customer=<value>" on the run (its tags: none) [BAD_REQUEST]');
  });

  it('store_put and store_get round-trip a value', async () => {
    expect(await okJson('store_put', { key: 'mcp:greeting', value: 'hello, agent' })).toMatchObject({ key: 'mcp:greeting', version: expect.any(Number) });
    expect(await okJson('store_get', { key: 'mcp:greeting' })).toMatchObject({ key: 'mcp:greeting', exists: true, value: 'hello, agent' });
    expect(await sdk.get('mcp:greeting')).toBe('hello, agent');
    expect(await okJson('store_get', { key: 'mcp:absent' })).toMatchObject({ exists: false, value: null, version: 0 });
    expect(await refused('store_put', { key: 'bad key!', value: 'x' })).toContain('a key may contain only');
  });

  it('deploy_script puts a script in the library and refuses a name that is not a bare file name', async () => {
    expect(await okJson('deploy_script', { name: 'etl.py', content: 'print("etl")\n' })).toEqual({ deployed: 'etl.py', size: 13 });
    expect((await sdk.listFiles('scripts')).map((f) => f.name)).toContain('etl.py');
    expect((await sdk.getFile('scripts', 'etl.py')).toString()).toBe('print("etl")\n');
    for (const name of ['../x.py', '/tmp/x.py', '..']) expect(await refused('deploy_script', { name, content: 'x' })).toContain('bare file name');
    expect((await sdk.listFiles('scripts')).map((f) => f.name)).toEqual(['etl.py']);
  });

  it('approve releases a gate; reject fails one and skips what follows', async () => {
    const { runId } = await okJson<{ runId: string }>('submit_dag', {
      name: 'gated',
      jobs: [
        { id: 'build', script_content: 'print("built")\n', hitl_message: 'Ship it?' },
        { id: 'deploy', script_content: 'print("deployed")\n', depends_on: ['build'] },
      ],
    });
    await waitJob(sdk, `${runId}/hitl-gate-build`, 'WAITING_APPROVAL');
    expect(await okJson('get_job_status', { ref: `${runId}/hitl-gate-build` })).toMatchObject({ kind: 'approval', status: 'WAITING_APPROVAL', message: 'Ship it?' });
    expect(await okJson('approve', { gate: `${runId}/hitl-gate-build`, comment: 'looks good' })).toMatchObject({ ref: `${runId}/hitl-gate-build`, decision: 'approved' });
    expect(await okJson<RunResult>('wait_for_run', { run_id: runId, timeout_seconds: 30 })).toMatchObject({ finished: true, status: 'COMPLETED' });
    const { history } = await sdk.gates(10);
    expect(history.find((d) => d.runId === runId)).toMatchObject({ approved: true, by: 'agent', comment: 'looks good' });

    const rejected = await okJson<{ runId: string }>('submit_dag', {
      jobs: [
        { id: 'check', kind: 'approval', message: 'Proceed?' },
        { id: 'after', script_content: 'print("never")\n', depends_on: ['check'] },
      ],
    });
    await waitJob(sdk, `${rejected.runId}/check`, 'WAITING_APPROVAL');
    expect(await okJson('reject', { gate: `${rejected.runId}/check`, comment: 'not today' })).toMatchObject({ decision: 'rejected' });
    const end = await okJson<RunResult>('wait_for_run', { run_id: rejected.runId, timeout_seconds: 30 });
    expect(end.status).toBe('FAILED');
    expect(end.jobs.find((j) => j.ref.endsWith('/after'))?.status).toBe('SKIPPED');
  });

  it('cancel stops a job, or a whole run', async () => {
    const { ref, runId } = await okJson<{ ref: string; runId: string }>('submit_job', { script_name: 'sleep.py', script_content: 'import time\nprint("sleeping", flush=True)\ntime.sleep(60)\n' });
    await waitJob(sdk, ref, 'RUNNING');
    // wait_for_run gives up at its timeout and returns the state as it is.
    const waiting = await okJson<RunResult>('wait_for_run', { run_id: runId, timeout_seconds: 0.3 });
    expect(waiting).toMatchObject({ finished: false, status: 'RUNNING' });
    expect(await okJson('cancel', { ref })).toMatchObject({ ref, status: 'CANCELLED' });
    expect(await okJson<RunResult>('wait_for_run', { run_id: runId, timeout_seconds: 30 })).toMatchObject({ finished: true, status: 'CANCELLED' });

    const gated = await okJson<{ runId: string }>('submit_dag', { jobs: [{ id: 'wait', kind: 'approval' }, { id: 'then', script_content: 'print(1)\n', depends_on: ['wait'] }] });
    await waitJob(sdk, `${gated.runId}/wait`, 'WAITING_APPROVAL');
    expect(await okJson('cancel', { ref: gated.runId, run: true })).toEqual({ runId: gated.runId, cancelled: 2 });
    expect((await sdk.getRun(gated.runId)).run.status).toBe('CANCELLED');
  });

  it('stats and list_runs describe the cluster', async () => {
    const stats = await okJson<{ workers: { connected: number }; totals: { submitted: number } }>('stats');
    expect(stats.workers.connected).toBe(1);
    expect(stats.totals.submitted).toBeGreaterThan(0);
    const runs = await okJson<{ runId: string; name: string; status: string }[]>('list_runs', { limit: 50 });
    expect(runs.map((r) => r.name)).toEqual(expect.arrayContaining(['mcp-dag', 'from-yaml', 'gated']));
    const cancelled = await okJson<{ status: string }[]>('list_runs', { status: 'CANCELLED' });
    expect(cancelled.length).toBeGreaterThanOrEqual(2);
    expect(cancelled.every((r) => r.status === 'CANCELLED')).toBe(true);
  });

  it('list_workers shows the worker, its capabilities and busy slots', async () => {
    const workers = await okJson<{ id: string; state: string; capabilities: string[]; slots: number; running: number; attempts: string[]; connectedAt: string }[]>('list_workers');
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ state: 'connected', capabilities: ['GENERAL'], slots: 4, running: 0, attempts: [] });
    expect(Date.parse(workers[0]?.connectedAt ?? '')).toBeGreaterThan(0);
    expect(await refused('list_workers', { all: true })).toMatch(/all|unrecognized/i);
  });

  it('list_store_keys lists the keys under a prefix, and says when the list is cut', async () => {
    for (const key of ['agent:b', 'agent:a', 'other:c']) await ok('store_put', { key, value: key });
    const listed = await okJson<{ keys: { key: string; type: string; version: number; expiresAt: string | null }[]; truncated: boolean }>('list_store_keys', { prefix: 'agent:' });
    expect(listed.truncated).toBe(false);
    expect(listed.keys.map((k) => k.key)).toEqual(['agent:a', 'agent:b']);
    expect(listed.keys[0]).toMatchObject({ type: 'string', version: expect.any(Number), expiresAt: null });
    expect(await okJson('list_store_keys', { prefix: 'agent:', limit: 1 })).toMatchObject({ keys: [{ key: 'agent:a' }], truncated: true });
    expect(await refused('list_store_keys', { prefix: 'bad prefix!' })).toContain('a prefix may contain only');
  });

  it('list_gates shows a waiting gate with its question and deadline, and history the decision', async () => {
    const { runId } = await okJson<{ runId: string }>('submit_dag', { name: 'gates-list', jobs: [{ id: 'go', kind: 'approval', message: 'Go ahead?', timeout_seconds: 600 }] });
    await waitJob(sdk, `${runId}/go`, 'WAITING_APPROVAL');
    const { pending, history } = await okJson<{ pending: { ref: string; runName: string; message: string; style: string; openedAt: string; deadline: string }[]; history?: unknown[] }>('list_gates');
    expect(history).toBeUndefined();
    const gate = pending.find((g) => g.ref === `${runId}/go`);
    expect(gate).toMatchObject({ runName: 'gates-list', message: 'Go ahead?', style: 'native' });
    expect(Date.parse(gate?.deadline ?? '') - Date.parse(gate?.openedAt ?? '')).toBe(600_000);
    await ok('approve', { gate: `${runId}/go`, comment: 'go' });
    const after = await okJson<{ pending: { ref: string }[]; history: { ref: string; decision: string; by: string; comment: string; reason: string }[] }>('list_gates', { history: 5 });
    expect(after.pending.map((g) => g.ref)).not.toContain(`${runId}/go`);
    expect(after.history[0]).toMatchObject({ ref: `${runId}/go`, decision: 'approved', by: 'agent', comment: 'go', reason: 'decided' });
  });

  it('retry_job runs a dead job again in its run, and refuses one that completed', async () => {
    const marker = outside.file('retry.marker');
    const script = 'import os, sys\nif not os.path.exists(sys.argv[1]):\n    open(sys.argv[1], "w").close()\n    sys.exit(4)\nprint("second time lucky", flush=True)\n';
    const { runId, ref } = await okJson<{ runId: string; ref: string }>('submit_job', { script_name: 'flaky.py', script_content: script, args: [marker], retries: 0 });
    const failed = await okJson<RunResult>('wait_for_run', { run_id: runId, timeout_seconds: 30 });
    expect(failed).toMatchObject({ finished: true, status: 'FAILED' });
    expect(failed.jobs[0]?.status).toBe('DEAD');
    expect((await okJson<{ ref: string; status: string }>('retry_job', { ref })).status).toMatch(/^(PENDING|QUEUED|RUNNING|COMPLETED)$/);
    expect(await okJson<RunResult>('wait_for_run', { run_id: runId, timeout_seconds: 30 })).toMatchObject({ finished: true, status: 'COMPLETED' });
    expect(await ok('get_job_logs', { ref })).toContain('second time lucky');
    expect(await okJson<{ attempts: unknown[] }>('get_job_status', { ref })).toMatchObject({ attempts: [{ outcome: 'FAILED', exitCode: 4 }, { outcome: 'COMPLETED' }] });
    expect(await refused('retry_job', { ref })).toContain('CONFLICT');
  });

  it('rerun_run submits a finished run again as a new run', async () => {
    const first = await okJson<{ runId: string }>('submit_dag', { name: 'again', jobs: [{ id: 'a', script_content: 'print("run a")\n' }, { id: 'b', script_content: 'print("run b")\n', depends_on: ['a'] }] });
    await okJson<RunResult>('wait_for_run', { run_id: first.runId, timeout_seconds: 30 });
    const again = await okJson<{ runId: string; rerunOf: string; jobs: string[] }>('rerun_run', { run_id: first.runId });
    expect(again.runId).not.toBe(first.runId);
    expect(again).toMatchObject({ rerunOf: first.runId, jobs: ['a', 'b'] });
    const done = await okJson<RunResult & { name: string }>('wait_for_run', { run_id: again.runId, timeout_seconds: 30 });
    expect(done).toMatchObject({ finished: true, status: 'COMPLETED', name: 'again' });
    expect(await ok('get_job_logs', { ref: `${again.runId}/b` })).toContain('run b');
    expect(await refused('rerun_run', { run_id: 'no-such-run' })).toContain('NOT_FOUND');
  });

  it('extend_run adds jobs, with their gates, to a run; they may depend on its jobs', async () => {
    const { runId } = await okJson<{ runId: string }>('submit_dag', { name: 'growing', jobs: [{ id: 'first', script_content: 'print("first")\n' }, { id: 'hold', kind: 'approval', depends_on: ['first'] }] });
    await waitJob(sdk, `${runId}/first`, 'COMPLETED');
    const added = await okJson<{ runId: string; jobs: string[] }>('extend_run', { run_id: runId, jobs: [{ id: 'added', script_name: 'added.sh', script_content: 'echo "added after first"\n', depends_on: ['first'], hitl_message: 'Keep it?' }, { id: 'last', script_content: 'print("last")\n', depends_on: ['added'] }] });
    expect(added).toEqual({ runId, jobs: ['added', 'hitl-gate-added', 'last'] });
    await waitJob(sdk, `${runId}/added`, 'COMPLETED');
    expect(await ok('get_job_logs', { ref: `${runId}/added` })).toContain('added after first');
    await waitJob(sdk, `${runId}/hitl-gate-added`, 'WAITING_APPROVAL');
    expect(await okJson('get_job_status', { ref: `${runId}/last` })).toMatchObject({ status: 'PENDING', dependsOn: ['hitl-gate-added'] });
    expect(await refused('extend_run', { run_id: runId, jobs: [{ id: 'orphan', script_content: 'x', depends_on: ['nowhere'] }] })).toContain('nowhere');
    expect(await okJson('cancel', { ref: runId, run: true })).toMatchObject({ runId });
    // A finished run is reopened for the jobs added to it.
    expect(await okJson('extend_run', { run_id: runId, jobs: [{ id: 'late', script_content: 'print("late")\n', depends_on: ['first'] }] })).toEqual({ runId, jobs: ['late'] });
    await waitJob(sdk, `${runId}/late`, 'COMPLETED');
  });

  it('secrets: list_secrets gives names and dates; every submit tool passes a job\'s secrets on; no output holds a value', async () => {
    const value = 'sk-mcp-3e9b7c21d4f05a68';
    await sdk.call('secret.set', { name: 'MCP_KEY', value });
    const outputs: string[] = [];
    const listed = await ok('list_secrets');
    outputs.push(listed);
    expect((JSON.parse(listed) as Record<string, string>[]).map((s) => Object.keys(s).sort())).toEqual([['createdAt', 'name', 'updatedAt']]);
    const prints = 'import os\nprint("key", os.environ["MCP_KEY"], flush=True)\n';
    const one = await okJson<{ runId: string; ref: string }>('submit_job', { script_name: 'prints.py', script_content: prints, secrets: ['MCP_KEY'] });
    const dag = await okJson<{ runId: string }>('submit_dag', { name: 'mcp-secrets', jobs: [{ id: 'a', script_content: prints, secrets: ['MCP_KEY'] }] });
    const extended = await okJson<{ runId: string }>('extend_run', { run_id: dag.runId, jobs: [{ id: 'b', script_content: prints, secrets: ['MCP_KEY'], depends_on: ['a'] }] });
    const yaml = await okJson<{ runId: string }>('submit_yaml', { yaml: 'name: mcp-secrets-yaml\njobs:\n  - id: y\n    file: hello.py\n    secrets: [MCP_KEY]\n' });
    for (const ref of [one.ref, `${dag.runId}/a`, `${extended.runId}/b`, `${yaml.runId}/y`]) expect((await sdk.call('job.get', { ref })).job.spec.secrets, ref).toEqual(['MCP_KEY']);
    for (const runId of [one.runId, dag.runId, yaml.runId]) outputs.push(await ok('wait_for_run', { run_id: runId, timeout_seconds: 30 }));
    await waitJob(sdk, `${dag.runId}/b`, 'COMPLETED');
    const logs = await ok('get_job_logs', { ref: one.ref });
    expect(logs).toContain('key ***');
    outputs.push(logs, await ok('get_job_logs', { ref: `${dag.runId}/b` }), await ok('get_job_status', { ref: one.ref }), await ok('list_runs'), await ok('stats'));
    for (const out of outputs) expect(out).not.toContain(value);
    expect(await refused('submit_dag', { jobs: [{ id: 'g', kind: 'approval', secrets: ['MCP_KEY'] }] })).toContain('secrets');
  });

  it('artifacts: put from text and base64, list, get as text or base64 under a size cap', async () => {
    expect(await okJson('put_artifact', { key: 'mcp/report.txt', content: 'all green\n' })).toMatchObject({ key: 'mcp/report.txt', size: 10 });
    const binary = Buffer.from([0, 1, 2, 250, 255]);
    expect(await okJson('put_artifact', { key: 'mcp/blob.bin', content: binary.toString('base64'), encoding: 'base64' })).toMatchObject({ size: 5 });
    const list = await okJson<{ key: string; size: number }[]>('list_artifacts', { prefix: 'mcp/' });
    expect(list.map((a) => a.key).sort()).toEqual(['mcp/blob.bin', 'mcp/report.txt']);

    const text = await call('get_artifact', { key: 'mcp/report.txt' });
    expect(text.isError).toBeFalsy();
    expect(JSON.parse(textOf(text))).toMatchObject({ key: 'mcp/report.txt', size: 10, encoding: 'text' });
    expect(textOf(text, 1)).toBe('all green\n');
    const blob = await call('get_artifact', { key: 'mcp/blob.bin' });
    expect(JSON.parse(textOf(blob))).toMatchObject({ encoding: 'base64' });
    expect(Buffer.from(textOf(blob, 1), 'base64').equals(binary)).toBe(true);
    expect(await refused('get_artifact', { key: 'mcp/blob.bin', encoding: 'text' })).toContain('not UTF-8 text');
    expect(await refused('get_artifact', { key: 'mcp/report.txt', max_bytes: 4 })).toContain('more than max_bytes (4)');
    expect(await refused('get_artifact', { key: 'mcp/none' })).toContain('NOT_FOUND');
    expect((await sdk.getArtifact('mcp/report.txt')).toString()).toBe('all green\n');
    expect(await refused('put_artifact', { key: '../escape', content: 'x' })).toContain('must not contain');
  });

  it('stop_service stops a running service', async () => {
    const { runId, ref } = await okJson<{ runId: string; ref: string }>('submit_job', { kind: 'service', script_name: 'serve.py', script_content: SERVE_PY, readiness: '/' });
    const up = await okJson<RunResult>('wait_for_run', { run_id: runId, timeout_seconds: 30, until_services_up: true });
    expect(up.finished).toBe(true);
    expect(up.jobs[0]).toMatchObject({ status: 'RUNNING', service: { up: true } });
    const port = up.jobs[0]?.service?.port as number;
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
    expect(await okJson('stop_service', { ref })).toMatchObject({ ref });
    const end = await okJson<RunResult>('wait_for_run', { run_id: runId, timeout_seconds: 30 });
    expect(end.finished).toBe(true);
    expect(end.jobs[0]?.status).not.toBe('RUNNING');
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('an agent holding the cluster token or an operator token cannot decide gates, under any name', async () => {
    const { runId } = await sdk.submit({ name: 'held', jobs: [{ id: 'gate', kind: 'approval', message: 'for a person' }] });
    await waitJob(sdk, `${runId}/gate`, 'WAITING_APPROVAL');
    for (const token of [cluster.token, await cluster.namedToken('operator-agent', ['operator'])]) {
      const other = new Client({ name: 'titan-mcp-test-2', version: '1.0.0' });
      await other.connect(
        new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--root', root.path], env: { TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port), TITAN_TOKEN: token, NO_COLOR: '1' }, cwd: cluster.dir, stderr: 'pipe' }),
      );
      try {
        const r = (await other.callTool({ name: 'approve', arguments: { gate: `${runId}/gate`, comment: 'self-approved' } })) as ToolResult;
        expect(r.isError).toBe(true);
        expect(textOf(r)).toMatch(/no one granted the right to decide gates/);
        expect(((await other.callTool({ name: 'approve', arguments: { gate: `${runId}/gate`, by: 'alice' } })) as ToolResult).isError).toBe(true);
      } finally {
        await other.close();
      }
    }
    expect((await sdk.getJob(`${runId}/gate`)).job.status).toBe('WAITING_APPROVAL');
    await sdk.cancelRun(runId);
  });

  it('bad input and master refusals are tool errors; the server keeps serving', async () => {
    expect(await refused('submit_job', { script_content: 'print(1)\n', priority: 'high' })).toMatch(/priority/);
    expect(await refused('submit_job', { script_name: 'a.py' })).toContain('script_content');
    expect(await refused('submit_job', { script_content: 'x', kind: 'run', port: 8080 })).toContain('applies only to a service');
    expect(await refused('get_job_status', { ref: 'no-such-job' })).toContain('NOT_FOUND');
    expect(await refused('get_job_status', { ref: 'x', extra: 1 })).toMatch(/extra|unrecognized/i);
    expect(await refused('submit_dag', { jobs: [{ id: 'a', script_content: 'x', depends_on: ['missing'] }] })).toMatch(/missing/);
    expect(await refused('approve', { gate: 'no-such-gate' })).toBeTruthy();
    const unknown = await call('no_such_tool', {});
    expect(unknown.isError).toBe(true);
    // Still alive and answering.
    expect(await okJson('ping')).toMatchObject({ status: 'ok' });
  });

  it('exits when its client closes standard input, having written nothing but protocol to standard output', async () => {
    const child = spawn(process.execPath, [CLI, 'mcp', '--root', root.path], { env: { ...process.env, TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port), TITAN_TOKEN: cluster.token }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code, err).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'titan' } } });
    expect(err).toContain('serving over stdio');
  });

  it('refuses a root folder that does not exist (exit 2)', async () => {
    const r = await cluster.cli(['mcp', '--root', join(outside.path, 'missing')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such folder');
    expect(r.stdout).toBe('');
  });

  it('writes no file: the root folder is unchanged and the code has no write calls', () => {
    expect(listing(root.path)).toEqual(rootBefore);
    const dir = join(ROOT, 'src/mcp');
    for (const file of readdirSync(dir)) {
      const source = readFileSync(join(dir, file), 'utf8');
      expect(source, file).not.toMatch(/\b(writeFile|appendFile|createWriteStream|mkdir|mkdtemp|rename|unlink|rmSync|rm\(|copyFile|symlink|truncate|fetchArtifact)\b/);
    }
    expect(stderr).toContain('serving over stdio');
  });
});
