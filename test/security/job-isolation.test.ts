/**
 * Jobs are untrusted code and must not read the worker's secrets. Real master and worker processes
 * on loopback run real scripts that try: walk their ancestors' /proc/<pid>/environ, print their
 * own environment, read the worker's pid files and the files at the top of its work directory, and
 * under `titan up` the cluster token in the data directory. A worker started as root (as these
 * tests are) runs its jobs as nobody unless told otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TitanClient } from '../../src/sdk/client.js';
import { CLI, Cluster, kill, launch, type Proc, runCli, waitForOutput } from '../helpers/cluster.js';
import { reaperOf } from '../helpers/processes.js';
import { sh } from '../helpers/scripts.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const SETPRIV = '/usr/bin/setpriv';
const WORKER_SECRET = `worker-secret-${process.pid}-${Math.random().toString(36).slice(2)}`;

/** Walks from the job's parent up to pid 1, printing each ancestor's pid, environment and command line. */
const ANCESTORS_SH = sh(
  `p=$PPID
while [ "$p" -gt 1 ]; do
  echo "ancestor $p"
  tr '\\0' '\\n' < /proc/$p/environ 2>&1
  tr '\\0' ' ' < /proc/$p/cmdline 2>&1; echo
  p=$(sed 's/.*) //' /proc/$p/stat | cut -d' ' -f2)
done
echo done
`,
  'ancestors.sh',
);

/** Tries the worker's own files: its work directory's listing, its credential, a file left open at its root, the attempt's own pid file. */
const WORKER_FILES_SH = sh(
  `w=$1
echo "uid $(id -u) gid $(id -g)"
ls "$w" >/dev/null 2>&1 && echo "listed the work dir" || echo "work dir: not listable"
cat "$w/credential" 2>/dev/null && echo "read the credential" || echo "credential: unreadable"
cat "$w/left-open" 2>/dev/null && echo "read the file left open" || echo "left-open: unreadable"
ls "$w/pids" >/dev/null 2>&1 && echo "listed the pids" || echo "pids: not listable"
pid_file="$w/pids/$(printf '%s' "$TITAN_RUN_ID/$TITAN_JOB_ID#$TITAN_ATTEMPT" | sha256sum | cut -d' ' -f1).json"
cat "$pid_file" 2>/dev/null && echo "read the pid file" || echo "pid file: unreadable"
touch "$w/cache/planted" 2>/dev/null && echo "wrote to the cache" || echo "cache: read-only"
echo shared > "$TITAN_SHARED_DIR/note" && echo "shared: written"
echo out > "$TITAN_OUTPUT_DIR/result.txt" && echo "output: written"
`,
  'worker-files.sh',
);

const ENV_SH = sh('env | sort\n', 'env.sh');

/** Runs `script` on the worker with `capability` and returns its log once it completed. */
async function runOn(client: TitanClient, capability: string, script: { name: string; content: string }, args: string[] = []): Promise<{ ref: string; log: string }> {
  const { runId, jobId } = await client.runScript(script, args, { requirement: capability, retries: 0 });
  const ref = `${runId}/${jobId}`;
  const job = await client.waitForJob(ref);
  const log = await client.logs(ref);
  expect(job.status, log).toBe('COMPLETED');
  return { ref, log };
}

describe.skipIf(!isRoot)('jobs on a worker started as root', () => {
  const cluster = new Cluster();
  let client: TitanClient;
  let isolated: Proc;
  const isolatedDir = (): string => join(cluster.dir, 'isolated');

  /** A worker with the cluster token and a secret in its environment, never on its command line. */
  async function startWorker(name: string, capability: string, args: string[]): Promise<Proc> {
    const proc = launch(['worker', '--master', `127.0.0.1:${cluster.port}`, '--capabilities', capability, '--port', '0', '--name', '127.0.0.1', '--work-dir', join(cluster.dir, name), ...args], {
      TITAN_TOKEN: cluster.token,
      WORKER_SECRET,
      PASSED_VAR: 'passed-on',
      AWS_REGION: 'eu-west-1',
    });
    cluster.workers.push(proc);
    await waitForOutput(proc, /joined master/, 20_000);
    return proc;
  }

  beforeAll(async () => {
    await cluster.startMaster();
    // A file of the worker's at the top of its work directory, left open by mistake.
    mkdirSync(isolatedDir());
    writeFileSync(join(isolatedDir(), 'left-open'), WORKER_SECRET, { mode: 0o644 });
    isolated = await startWorker('isolated', 'ISOLATED', ['--pass-env', 'PASSED_VAR', '--pass-env', 'AWS_*']);
    await startWorker('as-root', 'AS_ROOT', ['--run-as', 'root']);
    client = cluster.client();
  });
  afterAll(() => cluster.stop());

  it("cannot read the worker's token from any ancestor's /proc/<pid>/environ", async () => {
    const { log } = await runOn(client, 'ISOLATED', ANCESTORS_SH);
    // The walk passed through the worker itself, and found nothing of it.
    expect(log).toContain(`ancestor ${isolated.child.pid}\n`);
    expect(log).toMatch(/Permission denied/);
    expect(log).toContain('done\n');
    expect(log).not.toContain(cluster.token);
    expect(log).not.toContain(WORKER_SECRET);
    // The worker dropped the token from its environment once read: its reaper was started without it.
    const [reaper] = reaperOf(isolated.child.pid ?? 0);
    expect(reaper).toBeDefined();
    expect(readFileSync(`/proc/${reaper}/environ`, 'utf8')).not.toContain(cluster.token);
  });

  it('gets the base environment and what --pass-env names, never a secret of the worker', async () => {
    const { ref, log } = await runOn(client, 'ISOLATED', ENV_SH);
    const env = new Map(log.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    expect(env.get('PASSED_VAR')).toBe('passed-on');
    expect(env.get('AWS_REGION')).toBe('eu-west-1');
    expect(env.has('WORKER_SECRET')).toBe(false);
    expect(log).not.toContain(WORKER_SECRET);
    expect(log).not.toContain(cluster.token);
    expect(env.get('TITAN_TOKEN')).toMatch(new RegExp(`^job\\.${ref.replace('.', '\\.')}/1\\.`));
    expect([env.get('USER'), env.get('LOGNAME'), env.get('HOME')]).toEqual(['nobody', 'nobody', '/nonexistent']);
    expect(env.get('PATH')).toBe(process.env.PATH);
  });

  it("runs as nobody, and cannot read the worker's own files outside its attempt", async () => {
    expect(isolated.output()).toContain(`jobs run as nobody (uid ${NOBODY}, gid ${NOBODY})`);
    const { ref, log } = await runOn(client, 'ISOLATED', WORKER_FILES_SH, [isolatedDir()]);
    expect(log).toBe(
      [
        `uid ${NOBODY} gid ${NOBODY}`,
        'work dir: not listable',
        'credential: unreadable',
        'left-open: unreadable',
        'pids: not listable',
        'pid file: unreadable',
        'cache: read-only',
        'shared: written',
        'output: written',
        `[titan: published 1 output file (4 bytes) as artifacts under runs/${ref}/1/]`,
        '',
      ].join('\n'),
    );
    // The worker's credential is there, and the file left open was closed at start.
    expect(existsSync(join(isolatedDir(), 'credential'))).toBe(true);
    expect(isolated.output()).toContain(`${join(isolatedDir(), 'left-open')} was open to others (mode 644); it is now 0600`);
    expect(existsSync(join(isolatedDir(), 'cache', 'planted'))).toBe(false);
  });

  it("cannot have the worker publish the worker's files by putting a link in place of its output folder", async () => {
    const script = sh('rm -rf "$TITAN_OUTPUT_DIR" && ln -s "$1" "$TITAN_OUTPUT_DIR" && echo linked\n', 'link-out.sh');
    const { ref, log } = await runOn(client, 'ISOLATED', script, [isolatedDir()]);
    const [runId, jobId] = ref.split('/');
    expect(log).toBe(`linked\n[titan: cannot read the output directory ${join(isolatedDir(), 'runs', runId ?? '', `${jobId}.1`, 'out')}: it is not the job's own folder]\n`);
    expect(await client.listArtifacts({ prefix: `runs/${ref}/` })).toEqual([]);
  });

  it('--run-as root keeps root, says so loudly, and still passes only the base environment', async () => {
    const worker = cluster.workers[1] as Proc;
    expect(worker.output()).toMatch(/WARNING: jobs run as root \(--run-as root\)/);
    const { log } = await runOn(client, 'AS_ROOT', sh('id -u; env\n', 'as-root.sh'));
    expect(log.split('\n')[0]).toBe('0');
    expect(log).not.toContain('PASSED_VAR');
    expect(log).not.toContain(WORKER_SECRET);
    expect(log).not.toContain(cluster.token);
  });
});

describe.skipIf(!isRoot)('jobs under titan up', () => {
  const cluster = new Cluster();
  let up: Proc | null = null;
  afterAll(async () => {
    if (up) await kill(up, 'SIGKILL');
    await cluster.stop();
  });

  it('run beside the data directory, never inside it, and cannot read the cluster token', async () => {
    const dataDir = join(cluster.dir, 'data');
    up = launch(['up', '--data-dir', dataDir, '--port', '0', '--http-port', '0']);
    const [, port] = await waitForOutput(up, /master\s+127\.0\.0\.1:(\d+)/, 30_000);
    const [, token] = await waitForOutput(up, /token\s+(\S+)/, 10_000);
    expect(up.output()).toContain(`work directory ${dataDir}-worker`);
    const client = new TitanClient({ host: '127.0.0.1', port: Number(port), token });
    try {
      const script = sh(`id -u; pwd; cat ../../../../token 2>&1; cat "$1/token" 2>&1; ls "$1" 2>&1; true\n`, 'steal.sh');
      const { log } = await runOn(client, 'GENERAL', script, [dataDir]);
      expect(log.split('\n').slice(0, 2)).toEqual([String(NOBODY), expect.stringMatching(new RegExp(`^${dataDir}-worker/runs/`))]);
      expect(log).toContain(`cat: ${join(dataDir, 'token')}: Permission denied`);
      expect(log).not.toContain(token);
    } finally {
      client.close();
    }
  });

  it('refuses a work directory inside the data directory, and the other way round', async () => {
    const dataDir = join(cluster.dir, 'refused');
    const inside = await runCli(['up', '--data-dir', dataDir, '--work-dir', join(dataDir, 'worker'), '--port', '0', '--http-port', '0']);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toContain(`titan: the work directory ${join(dataDir, 'worker')} is inside the data directory ${dataDir}: jobs would run beside the cluster token and the database; choose a --work-dir outside it`);
    const around = await runCli(['up', '--data-dir', join(cluster.dir, 'w', 'data'), '--work-dir', join(cluster.dir, 'w'), '--port', '0', '--http-port', '0']);
    expect(around.code).toBe(2);
    expect(around.stderr).toMatch(/the data directory .* is inside the work directory/);
    expect(existsSync(join(dataDir, 'token'))).toBe(false);
  });
});

describe.skipIf(!isRoot || !existsSync(SETPRIV))('a worker not started as root', () => {
  const cluster = new Cluster();
  beforeAll(() => cluster.startMaster());
  afterAll(() => cluster.stop());

  /** `titan worker` as nobody (setpriv keeps the pid, so the cluster kills it by pid), making its work directory in a folder open to it. */
  const asNobody = (name: string, args: string[]): string[] => {
    const open = join(cluster.dir, name);
    mkdirSync(open);
    chmodSync(open, 0o777);
    const workDir = join(open, 'work');
    return [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, CLI, 'worker', '--master', `127.0.0.1:${cluster.port}`, '--port', '0', '--name', '127.0.0.1', '--work-dir', workDir, ...args];
  };

  it('refuses --run-as another user, saying only root can switch', () => {
    const r = spawnSync(SETPRIV, asNobody('refused', ['--token', cluster.token, '--run-as', 'root']), { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`titan: --run-as root: only a worker started as root can run jobs as another user, and this one runs as uid ${NOBODY}; start it as root, or leave out --run-as to run jobs as uid ${NOBODY}\n`);
  });

  it('runs jobs as itself, and says what that means', async () => {
    const child = spawn(SETPRIV, asNobody('itself', ['--capabilities', 'SELF']), { env: { ...process.env, NO_COLOR: '1', TITAN_TOKEN: cluster.token }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const worker: Proc = { child, output: () => out };
    cluster.workers.push(worker);
    await waitForOutput(worker, /joined master/, 20_000);
    expect(out).toContain(`jobs run as this worker's own user (uid ${NOBODY}): they can read its files and the environment it was started with`);
    const client = cluster.client();
    const { log } = await runOn(client, 'SELF', sh('id -u; echo "$TITAN_TOKEN" | cut -c1-4\n', 'self.sh'));
    expect(log).toBe(`${NOBODY}\njob.\n`);
  });
});
