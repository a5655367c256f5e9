/**
 * The commands of Titan's shell and Python CLI and the CLI's own extras against a real cluster:
 * json, upload/files, deploy (service and pipeline), run from the script library, dag, shutdown,
 * retry, rerun, version, --json everywhere, shell completion and `titan shell`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptRecord } from '../../src/core/model.js';
import type { FileInfo, JobView, RunView, ServiceView, Stats, WorkerView } from '../../src/protocol/methods.js';
import { CLI, Cluster, eventually } from '../helpers/cluster.js';
import { freePort, TempDir, waitJob, waitRunStatus } from '../helpers/scripts.js';

const SERVE_PY = `import http.server, os
port = int(os.environ["PORT"])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"deployed"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
print(f"serving on {port}", flush=True)
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
`;

/** Fails the first time (creating the marker file), succeeds the second. */
const FLAKY_PY = `import os, sys
if not os.path.exists(sys.argv[1]):
    open(sys.argv[1], "w").close()
    print("first try fails", flush=True)
    sys.exit(1)
print("second try works", flush=True)
`;

describe('more of the titan CLI', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-cli-more-');
  const env = (): Record<string, string> => ({ TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port), TITAN_TOKEN: cluster.token });
  /** Refs of services started here, stopped at the end if a test left them up. */
  const services: string[] = [];
  let helloRef = '';

  const cliJson = async <T>(args: string[], cwd?: string): Promise<T> => {
    const r = await cluster.cli([...args, '--json'], cwd === undefined ? {} : { cwd });
    expect(r.code, `titan ${args.join(' ')} --json: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  /** Runs the CLI with `input` on its standard input (a pipe, so not a terminal). */
  const withInput = (args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: cluster.dir, env: { ...process.env, NO_COLOR: '1', TITAN_HISTORY: join(tmp.path, 'history'), ...env() }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4 });
    tmp.write('hello.py', 'import sys\nprint("hello", sys.argv[1:])\n');
    tmp.write('serve.py', SERVE_PY);
    const r = await cluster.cli(['run', tmp.file('hello.py'), '--', 'x']);
    expect(r.code, r.stderr).toBe(0);
    helloRef = /submitted (r[0-9a-z]+\/hello\.py)/.exec(r.stderr)?.[1] ?? '';
    expect(helloRef).not.toBe('');
  });
  afterAll(async () => {
    const client = cluster.client();
    for (const ref of services) await client.stopService(ref).catch(() => {});
    await cluster.stop();
    tmp.remove();
  });

  it("titan json prints the statistics as JSON (Titan's STATS_JSON)", async () => {
    const r = await cluster.cli(['json']);
    expect(r.code, r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout) as Stats;
    expect(stats.workers).toMatchObject({ total: 1, connected: 1, slots: 4 });
    const viaStats = await cliJson<Stats>(['stats']);
    expect(Object.keys(stats).sort()).toEqual(Object.keys(viaStats).sort());
  });

  it('titan upload stores a file in uploads, and titan files lists it', async () => {
    const file = tmp.write('data.txt', 'a,b\n1,2\n');
    const plain = await cluster.cli(['upload', file]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe('uploaded data.txt (8 B) to uploads\n');
    expect(await cliJson(['upload', file, '--name', 'renamed.csv'])).toEqual({ name: 'renamed.csv', size: 8, area: 'uploads' });

    const listed = await cluster.cli(['files']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^NAME\s+SIZE\s+MODIFIED$/m);
    expect(listed.stdout).toMatch(/^data\.txt\s+8 B\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
    const files = await cliJson<FileInfo[]>(['files']);
    expect(files.map((f) => f.name).sort()).toEqual(['data.txt', 'renamed.csv']);
    expect(files[0]).toMatchObject({ size: 8, modifiedAt: expect.any(Number) });
    expect((await cliJson<FileInfo[]>(['files', 'scripts'])).map((f) => f.name)).not.toContain('data.txt');

    const missing = await cluster.cli(['upload', tmp.file('nothing.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
    expect((await cluster.cli(['files', 'elsewhere'])).code).toBe(2);
  });

  it('titan deploy <script> <port> stores it in the library and serves it until titan stop', async () => {
    const port = await freePort();
    const r = await cluster.cli(['deploy', tmp.file('serve.py'), String(port)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('stored serve.py');
    const ref = /^service (r[0-9a-z]+\/serve\.py) is up on (127\.0\.0\.1:\d+), port (\d+);/.exec(r.stdout);
    expect(ref, r.stdout).not.toBeNull();
    const serviceRef = ref?.[1] as string;
    services.push(serviceRef);
    expect(Number(ref?.[3])).toBe(port);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('deployed');

    const listed = await cliJson<ServiceView[]>(['services']);
    expect(listed.find((s) => s.ref === serviceRef)).toMatchObject({ status: 'RUNNING', port, workerId: ref?.[2] });
    expect((await cliJson<FileInfo[]>(['files', 'scripts'])).map((f) => f.name)).toContain('serve.py');

    const stopped = await cliJson<JobView>(['stop', serviceRef]);
    expect(stopped.ref).toBe(serviceRef);
    await waitJob(cluster.client(), serviceRef, ['COMPLETED', 'CANCELLED', 'DEAD']);
  });

  it('titan deploy <name> deploys a script of the library, on a port the master assigns', async () => {
    // serve.py is not in this folder: it comes from the library the previous deploy filled.
    tmp.write('elsewhere/.keep', '');
    const r = await cluster.cli(['deploy', 'serve.py', '0', 'GENERAL', '--json'], { cwd: tmp.file('elsewhere') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/from the script library/);
    const job = JSON.parse(r.stdout) as JobView;
    services.push(job.ref);
    expect(job).toMatchObject({ status: 'RUNNING', spec: { kind: 'service', requirement: 'GENERAL' } });
    expect(await (await fetch(`http://127.0.0.1:${job.service?.port}/`)).text()).toBe('deployed');
    const stopped = await cluster.cli(['stop', job.ref]);
    expect(stopped.stdout).toBe(`${job.ref} stopped\n`);

    const unknown = await cluster.cli(['deploy', 'no-such-script.py']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no such file, and the script library has none/);
  });

  it("titan deploy <pipeline.yaml> submits it (Titan's titan_cli.py deploy)", async () => {
    tmp.write('pipe/step.py', 'print("step ran")\n');
    const yaml = tmp.write('pipe/pipeline.yaml', 'name: deployed\nproject: false\njobs:\n  - id: step\n    file: step.py\n');
    const r = await cluster.cli(['deploy', yaml]);
    expect(r.code, r.stderr).toBe(0);
    const runId = /^submitted run (r[0-9a-z]+) \(deployed\) with 1 jobs$/m.exec(r.stdout)?.[1] ?? '';
    expect(runId).not.toBe('');
    await waitRunStatus(cluster.client(), runId, 'COMPLETED');
    expect((await cluster.cli(['logs', `${runId}/step`])).stdout).toBe('step ran\n');
    const extra = await cluster.cli(['deploy', yaml, '8080']);
    expect(extra.code).toBe(2);
  });

  it('titan run <name> runs a script of the library when there is no such local file', async () => {
    await cluster.client().putFile('scripts', { name: 'libhello.py', content: 'print("from the library")\n' });
    const r = await cluster.cli(['run', 'libhello.py'], { cwd: tmp.path });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('from the library\n');
    expect(r.stderr).toMatch(/libhello\.py is not a local file: using libhello\.py from the script library/);
    const job = await cliJson<JobView>(['run', 'libhello.py'], tmp.path);
    expect(job).toMatchObject({ status: 'COMPLETED', exitCode: 0 });
  });

  it("titan dag submits Titan's line format and --wait follows it to the end", async () => {
    const b64 = Buffer.from('print("dag job")\n').toString('base64');
    const payload = `one|RUN_PAYLOAD|one.py||${b64}|GENERAL|1|0|[] ; two|RUN_PAYLOAD|two.py|a b|${b64}|GENERAL|1|0|[one]`;
    const r = await cluster.cli(['dag', payload, '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^one\s+COMPLETED\s+1\s/m);
    expect(r.stdout).toMatch(/^two\s+COMPLETED\s+1\s/m);
    expect(r.stderr).toMatch(/run r[0-9a-z]+ COMPLETED in /);

    const file = tmp.write('dag.txt', `solo|RUN_PAYLOAD|solo.py||${b64}|GENERAL|1|0|[]\n`);
    const submitted = await cliJson<{ runId: string; jobs: string[] }>(['dag', '--file', file]);
    expect(submitted.jobs).toEqual(['solo']);
    await waitRunStatus(cluster.client(), submitted.runId, 'COMPLETED');

    const bad = await cluster.cli(['dag', `one|RUN_PAYLOAD|one.py||${b64}|GENERAL|1|0|[missing]`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad DAG: line 1 \(one\): unknown parent "missing"/);
  });

  it('titan retry runs a DEAD job again: it completes and --wait exits 0', async () => {
    const script = tmp.write('flaky.py', FLAKY_PY);
    const detached = await cluster.cli(['run', '--detach', '--retries', '0', script, '--', tmp.file('flaky.marker')]);
    const ref = detached.stdout.trim();
    expect((await waitJob(cluster.client(), ref, ['DEAD', 'COMPLETED'])).status).toBe('DEAD');

    const r = await cluster.cli(['retry', ref, '--wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^flaky\.py\s+COMPLETED\s+2\s/m);
    const { job, attempts } = await cliJson<{ job: JobView; attempts: AttemptRecord[] }>(['status', ref]);
    expect(job.status).toBe('COMPLETED');
    expect(attempts.map((a) => a.outcome)).toEqual(['FAILED', 'COMPLETED']);
    const logs = await cliJson<{ attempt: number; data: string }>(['logs', ref]);
    expect(logs).toEqual({ attempt: 2, data: 'second try works\n' });

    const again = await cluster.cli(['retry', ref]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/only a DEAD or CANCELLED job can be retried/);
  });

  it('titan rerun submits a run again as a new run and --wait follows it', async () => {
    const runId = helloRef.split('/')[0] as string;
    const r = await cluster.cli(['rerun', runId, '--wait']);
    expect(r.code, r.stderr).toBe(0);
    const newRun = /submitted run (r[0-9a-z]+) \(a rerun of /.exec(r.stderr)?.[1] ?? '';
    expect(newRun).not.toBe('');
    expect(newRun).not.toBe(runId);
    expect(r.stdout).toMatch(/^hello\.py\s+COMPLETED\s+1\s/m);
    const asJson = await cliJson<RunView>(['rerun', runId, '--wait']);
    expect(asJson.run.status).toBe('COMPLETED');
    expect(asJson.run.runId).not.toBe(runId);
  });

  it("titan version shows the CLI's and the master's version", async () => {
    const r = await cluster.cli(['version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^titan \d+\.\d+\.\d+ \(node v\d+/);
    expect(r.stdout).toContain(`master 127.0.0.1:${cluster.port}: `);
    expect(r.stdout).toMatch(/\(protocol 2\)/);
    const v = await cliJson<{ version: string; master: { reachable: boolean; serverVersion: string } }>(['version']);
    expect(v.master).toMatchObject({ reachable: true, serverVersion: v.version });
    const away = await cluster.cli(['version', '--json', '--master', `127.0.0.1:${await freePort()}`]);
    expect(away.code).toBe(0);
    expect(JSON.parse(away.stdout)).toMatchObject({ master: { reachable: false } });
  });

  it('--json output parses for a sample of commands', async () => {
    const run = await cluster.cli(['run', '--json', tmp.file('hello.py'), '--', 'j']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'COMPLETED', exitCode: 0, spec: { args: ['j'] } });
    const detached = await cliJson<{ ref: string }>(['run', '--detach', tmp.file('hello.py')]);
    await waitJob(cluster.client(), detached.ref, 'COMPLETED');
    const cancelled = await cluster.cli(['cancel', detached.ref, '--json']);
    expect(cancelled.code).toBe(1); // already COMPLETED: refused
    expect(await cliJson(['token'])).toEqual({ token: cluster.token });
    expect(await cliJson(['store', 'set', 'cli-more', 'v'])).toMatchObject({ key: 'cli-more', version: expect.any(Number) });
    expect(await cliJson(['store', 'del', 'cli-more'])).toEqual({ key: 'cli-more', deleted: true });
    const gone = await cluster.cli(['store', 'del', 'cli-more', '--json']);
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.stdout)).toEqual({ key: 'cli-more', deleted: false });
    for (const args of [['runs'], ['workers'], ['gates'], ['services'], ['agent-runs'], ['store', 'keys'], ['artifacts', 'list'], ['files', 'uploads']]) await cliJson(args);
  });

  it('--help shows examples', async () => {
    for (const command of ['deploy', 'status', 'workers shutdown', 'completion']) {
      const r = await cluster.cli([...command.split(' '), '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout, command).toMatch(/\nExamples:\n {2}titan /);
    }
  });

  it('titan completion prints completion scripts generated from the commands', async () => {
    const bash = await cluster.cli(['completion', 'bash']);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('submit');
    expect(bash.stdout).toContain('--wait');
    expect(bash.stdout).toContain('complete -o default -o bashdefault -F _titan_complete titan');
    for (const shell of ['zsh', 'fish']) {
      const r = await cluster.cli(['completion', shell]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('deploy');
    }
    expect((await cluster.cli(['completion', 'powershell'])).code).toBe(2);
  });

  it('titan shell runs commands read from standard input', async () => {
    const r = await withInput(['shell'], `status ${helloRef}\nexit\nstats\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${helloRef.replace('.', '\\.')}\\s+COMPLETED$`, 'm'));
    expect(r.stdout).not.toContain('uptime'); // nothing after exit
    expect(r.stdout).not.toContain('titan> ');
  });

  it('titan shell reports a bad command and its exit code, and carries on', async () => {
    const r = await withInput(['shell'], `nosuchcommand\nstore set shell-key "two words"\nstore get 'shell-key'\nstatus "unterminated\nlogs ${helloRef}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/unknown command 'nosuchcommand'/);
    expect(r.stderr).toMatch(/\[exit 2\]/);
    expect(r.stderr).toMatch(/unclosed double quote/);
    expect(r.stdout).toContain('two words\n');
    expect(r.stdout).toContain("hello ['x']\n");
    const failing = await withInput(['shell'], 'store get never-set\n');
    expect(failing.code).toBe(1); // the status of the last command
    expect(failing.stderr).toMatch(/\[exit 1\]/);
  });

  it('titan shutdown stops an ephemeral worker', async () => {
    const extra = await cluster.startWorker({ slots: 1 });
    const workers = await cliJson<WorkerView[]>(['workers']);
    const added = workers.find((w) => w.id.endsWith(':8101'));
    expect(added, JSON.stringify(workers)).toBeDefined();
    const exited = new Promise<void>((resolve) => (extra.child.exitCode !== null ? resolve() : extra.child.once('exit', () => resolve())));
    const [host, port] = (added?.id as string).split(':') as [string, string];
    const r = await cluster.cli(['shutdown', host, port, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as WorkerView).id).toBe(added?.id);
    await exited;
    await eventually(async () => (await cluster.client().workers()).every((w) => w.id !== added?.id || w.state !== 'connected'), 10_000, 'the worker to leave');
    const unknown = await cluster.cli(['shutdown', '127.0.0.1:1']);
    expect(unknown.code).toBe(1);
  });
});
