/**
 * The multi-VM deployment, on one Linux host: three network namespaces joined by a bridge act as
 * a master VM, a worker VM and a laptop, each with its own address. Both bundles are built with
 * `titan package`, unzipped into their own folders and started with their scripts; from the
 * laptop the checkout's CLI runs a pipeline on the master's address, reads a job's output and
 * fetches the dashboard. Then the upgrade: a new master bundle unzipped over the old one and the
 * master restarted while a long job runs; the worker reconnects and the job completes once.
 * Namespaces need root (or CAP_SYS_ADMIN) and `ip`; elsewhere the suite skips and says why.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/protocol/methods.js';
import { haveOpenssl, makeCertificates } from '../helpers/certificates.js';
import { isGone, waitUntil } from '../helpers/processes.js';

const REPO = resolve(import.meta.dirname, '../..');
const CLI = join(REPO, 'bin/titan.js');
const tag = randomBytes(3).toString('hex');
const NS = { master: `tt${tag}m`, worker: `tt${tag}w`, client: `tt${tag}c`, wire: `tt${tag}s` };
const IP = { master: '10.77.0.1', worker: '10.77.0.2', client: '10.77.0.3' };

/** Why namespaces cannot be made here, or null when they can. */
function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  const probe = `tt${tag}p`;
  const made = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (made.error) return `the ip command is missing (${made.error.message}); install iproute2`;
  if (made.status !== 0) return `ip netns add failed (${made.stderr.trim()}): run as root or with CAP_SYS_ADMIN`;
  spawnSync('ip', ['netns', 'del', probe]);
  if (spawnSync('unzip', ['-v']).error) return 'the unzip command is missing; install unzip';
  return null;
}
const unavailable = netnsUnavailable();
if (unavailable) console.warn(`deployment test skipped: ${unavailable}`);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command inside a namespace (a "machine") with a clean, explicit environment. */
function inNs(ns: string, command: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Result> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', ...options.env };
  return new Promise((done) => {
    execFile('ip', ['netns', 'exec', ns, ...command], { cwd: options.cwd, env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Three hosts and a switch: a veth from each host into the switch's bridge. */
function makeNetwork(): void {
  for (const ns of Object.values(NS)) ip('netns', 'add', ns);
  ip('-n', NS.wire, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', NS.wire, 'link', 'set', 'br0', 'up');
  for (const [host, short] of [['master', 'm'], ['worker', 'w'], ['client', 'c']] as const) {
    const inside = `t${tag}${short}0`;
    const outside = `t${tag}${short}1`;
    ip('link', 'add', inside, 'netns', NS[host], 'type', 'veth', 'peer', 'name', outside, 'netns', NS.wire);
    ip('-n', NS.wire, 'link', 'set', outside, 'master', 'br0');
    ip('-n', NS.wire, 'link', 'set', outside, 'up');
    ip('-n', NS[host], 'addr', 'add', `${IP[host]}/24`, 'dev', inside);
    ip('-n', NS[host], 'link', 'set', inside, 'up');
    ip('-n', NS[host], 'link', 'set', 'lo', 'up');
  }
}

/** Every process left in our namespaces (they are all this test's), then the namespaces. */
function removeNetwork(): void {
  for (const ns of Object.values(NS)) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

const listening = (text: string): string[] =>
  text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === '0A')
    .map((f) => f[1] ?? '');

describe.skipIf(unavailable !== null)('multi-VM deployment in network namespaces', () => {
  let dir = '';
  let token = '';
  let workerToken = '';
  const masterDir = (): string => join(dir, 'master-vm', 'titan-master-bundle');
  const workerDir = (): string => join(dir, 'worker-vm', 'titan-worker-bundle');
  /** The checkout's CLI on the laptop, talking to the master's address. */
  const laptop = (args: string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<Result> =>
    inNs(NS.client, [process.execPath, CLI, ...args, '--master', `${IP.master}:9090`], { cwd: join(dir, 'laptop'), env: { TITAN_TOKEN: token, ...env }, timeoutMs });
  const jobStatus = async (ref: string): Promise<JobView> => {
    const r = await laptop(['status', ref, '--json']);
    if (r.code !== 0) throw new Error(`titan status ${ref}: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { job: JobView }).job;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-deploy-'));
    // Passable: the worker (started as root) runs jobs as an unprivileged user, who must reach its work directory.
    chmodSync(dir, 0o711);
    const built = spawnSync(process.execPath, [CLI, 'package', '--out', join(dir, 'out'), '--json'], { encoding: 'utf8', timeout: 120_000 });
    if (built.status !== 0) throw new Error(`titan package failed: ${built.stderr}`);
    makeNetwork();
    for (const [zip, to] of [
      ['titan-master-bundle.zip', 'master-vm'],
      ['titan-worker-bundle.zip', 'worker-vm'],
    ] as const) {
      const r = spawnSync('unzip', ['-q', join(dir, 'out', zip), '-d', join(dir, to)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`unzip ${zip}: ${r.stderr}`);
    }
    spawnSync('mkdir', ['-p', join(dir, 'laptop')]);
  }, 180_000);

  afterAll(async () => {
    if (dir && existsSync(workerDir())) await inNs(NS.worker, [join(workerDir(), 'stop_worker.sh')], { timeoutMs: 60_000 });
    if (dir && existsSync(masterDir())) await inNs(NS.master, [join(masterDir(), 'stop_master.sh')], { timeoutMs: 40_000 });
    removeNetwork();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('builds two bundles: the master with its native SQLite module and dashboard, the worker without native modules but with both SDKs', () => {
    const built = JSON.parse(spawnSync(process.execPath, [CLI, 'package', '--out', join(dir, 'out-check'), '--json'], { encoding: 'utf8' }).stdout) as { kind: string; bytes: number; files: number; sha256: string }[];
    expect(built.map((b) => b.kind)).toEqual(['master', 'worker']);
    // Each zip has its checksum beside it, in the format sha256sum -c reads.
    const check = spawnSync('sha256sum', ['-c', 'titan-master-bundle.zip.sha256', 'titan-worker-bundle.zip.sha256'], { cwd: join(dir, 'out-check'), encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/titan-master-bundle\.zip: OK\ntitan-worker-bundle\.zip: OK/);
    const files = (root: string): string[] => {
      const out: string[] = [];
      const walk = (d: string): void => {
        for (const e of readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk : (p: string) => out.push(p))(join(d, e.name));
      };
      walk(root);
      return out.map((p) => p.slice(root.length + 1));
    };
    const master = files(masterDir());
    const worker = files(workerDir());
    expect(master).toContain('node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    expect(master).toContain('dist/web/index.html');
    expect(master).toEqual(expect.arrayContaining(['dist/src/store/redis-scripts.js', 'dist/src/store/redis-lua/commit.lua', 'dist/src/store/redis-lua/includes/agent-index.lua']));
    expect(master).toEqual(expect.arrayContaining(['start_master.sh', 'stop_master.sh', 'README.md', 'bundle.json', 'systemd/titan-master.service']));
    expect(worker.filter((p) => p.endsWith('.node'))).toEqual([]);
    expect(worker.some((p) => p.startsWith('node_modules/better-sqlite3/') || p.startsWith('node_modules/fastify/') || p.startsWith('dist/web/'))).toBe(false);
    expect(worker).toEqual(expect.arrayContaining(['start_worker.sh', 'stop_worker.sh', 'README.md', 'python/titan_sdk/__init__.py', 'dist/src/sdk/index.js', 'systemd/titan-worker@.service']));
    // Unzipped with the system's unzip, the scripts keep their execute bit.
    expect(statSync(join(masterDir(), 'start_master.sh')).mode & 0o111).not.toBe(0);
    expect(statSync(join(workerDir(), 'start_worker.sh')).mode & 0o111).not.toBe(0);
    // The worker bundle is much the smaller.
    const [m, w] = built;
    expect(w && m && w.bytes < m.bytes / 3).toBe(true);
    const bundle = JSON.parse(readFileSync(join(masterDir(), 'bundle.json'), 'utf8')) as { node: { modules: string } };
    expect(bundle.node.modules).toBe(process.versions.modules);

    // What a bundle leaves out is refused by name, not with a stack trace.
    const workerMaster = spawnSync(process.execPath, [join(workerDir(), 'bin/titan.js'), 'master', '--port', '0'], { encoding: 'utf8', cwd: dir });
    expect(workerMaster.status).toBe(2);
    expect(workerMaster.stderr).toContain('titan master is not part of this install');
    const masterPackage = spawnSync(process.execPath, [join(masterDir(), 'bin/titan.js'), 'package'], { encoding: 'utf8', cwd: dir });
    expect(masterPackage.status).toBe(2);
    expect(masterPackage.stderr).toMatch(/titan package is not part of this install .*use a Titan checkout/);
  });

  it('starts the master and a worker with the scripts, and runs a pipeline from the laptop', async () => {
    const started = await inNs(NS.master, [join(masterDir(), 'start_master.sh'), '--port', '9090', '--http-port', '5000'], { timeoutMs: 60_000 });
    expect(started.code, started.stdout + started.stderr).toBe(0);
    token = readFileSync(join(masterDir(), 'titan-data', 'token'), 'utf8').trim();
    expect(started.stdout).toContain(token);
    expect(started.stdout).toContain(`http://${IP.master}:5000`);
    // The join command saves the worker token, not the cluster token, in the worker's token file.
    workerToken = /\(umask 077 && echo '(\S+)' >token\) && \.\/start_worker\.sh /.exec(started.stdout)?.[1] ?? '';
    expect(workerToken.startsWith('worker.')).toBe(true);

    // Without the token a worker refuses to start and says what to do.
    const noToken = await inNs(NS.worker, [join(workerDir(), 'start_worker.sh'), IP.master], { timeoutMs: 30_000 });
    expect(noToken.code).toBe(2);
    expect(noToken.stdout + noToken.stderr).toMatch(/token/i);

    // The join command, run on the worker VM exactly as printed: a GENERAL worker, which the jobs
    // below (they name no requirement) need; Titan's default GPU would leave them queued.
    const joinCommand = /^ {2}(\(umask 077 && echo '\S+' >token\) && \.\/start_worker\.sh .*)$/m.exec(started.stdout)?.[1] ?? '';
    expect(joinCommand).toMatch(new RegExp(`\\./start_worker\\.sh ${IP.master.replace(/\./g, '\\.')} 8085 GENERAL$`));
    const joined = await inNs(NS.worker, ['bash', '-c', joinCommand], { cwd: workerDir(), timeoutMs: 60_000 });
    expect(joined.code, joined.stdout + joined.stderr).toBe(0);
    expect(joined.stdout).toMatch(/\[GENERAL\] joined/);
    expect(readFileSync(join(workerDir(), 'token'), 'utf8').trim()).toBe(workerToken);
    expect(readFileSync(join(workerDir(), 'worker.log'), 'utf8')).toContain(`joined master ${IP.master}:9090`);

    // A worker opens no port: nothing listens in its namespace.
    const tcp = await inNs(NS.worker, ['cat', '/proc/net/tcp', '/proc/net/tcp6']);
    expect(listening(tcp.stdout)).toEqual([]);

    const laptopDir = join(dir, 'laptop');
    writeFileSync(join(laptopDir, 'extract.py'), 'import titan_sdk, socket\nprint("extract on", socket.gethostname(), "sdk", titan_sdk.__name__)\n');
    writeFileSync(join(laptopDir, 'report.mjs'), "const { TitanClient } = await import(process.env.TITAN_SDK);\nconsole.log('report with the TypeScript SDK:', typeof TitanClient);\n");
    writeFileSync(
      join(laptopDir, 'pipeline.yaml'),
      ['name: vm-demo', 'jobs:', '  - id: extract', '    file: extract.py', '  - id: report', '    file: report.mjs', '    depends_on: [extract]', ''].join('\n'),
    );
    const run = await laptop(['submit', 'pipeline.yaml', '--wait'], 90_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);

    const extract = await laptop(['logs', 'extract']);
    expect(extract.stdout).toMatch(/extract on .* sdk titan_sdk/);
    expect((await laptop(['logs', 'report'])).stdout).toContain('report with the TypeScript SDK: function');
    const report = await jobStatus('report');
    expect([report.status, report.spec.requirement]).toEqual(['COMPLETED', 'GENERAL']);
    expect(report.workerId).toMatch(/:8085$/);

    // A worker started with Titan's default capability (GPU) says what it will not run.
    const gpu = await inNs(NS.worker, [join(workerDir(), 'start_worker.sh'), IP.master, '8086'], { timeoutMs: 60_000 });
    expect(gpu.code, gpu.stdout + gpu.stderr).toBe(0);
    expect(gpu.stdout).toContain('[GPU] joined');
    expect(gpu.stdout).toMatch(/Jobs that name no requirement need\s+a GENERAL worker: \.\/stop_worker\.sh 8086 && \.\/start_worker\.sh \S+ 8086 GENERAL/);
    expect((await inNs(NS.worker, [join(workerDir(), 'stop_worker.sh'), '8086'], { timeoutMs: 60_000 })).code).toBe(0);

    // The dashboard, served by the master on its one HTTP port.
    const page = await inNs(NS.client, [process.execPath, '-e', `fetch('http://${IP.master}:5000/').then(async (r) => console.log(r.status, r.headers.get('content-type'), await r.text()))`]);
    expect(page.stdout).toMatch(/^200 text\/html/);
    expect(page.stdout).toContain('<div id="root">');
  }, 240_000);

  it('upgrades the master while a long job runs: the worker reconnects and the job completes once', async () => {
    const laptopDir = join(dir, 'laptop');
    writeFileSync(join(laptopDir, 'long.sh'), 'echo "long job started"\nsleep 12\necho "long job finished"\n');
    writeFileSync(join(laptopDir, 'long.yaml'), ['name: vm-long', 'jobs:', '  - id: long', '    file: long.sh', ''].join('\n'));
    const submitted = await laptop(['submit', 'long.yaml', '--json']);
    expect(submitted.code, submitted.stderr).toBe(0);
    await expect.poll(async () => (await jobStatus('long')).status, { timeout: 20_000, interval: 300 }).toBe('RUNNING');

    // A new master bundle, unzipped over the running one's folder; the data folder stays.
    const rebuilt = spawnSync(process.execPath, [CLI, 'package', '--out', join(dir, 'out-new')], { encoding: 'utf8', timeout: 120_000 });
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect(spawnSync('unzip', ['-o', '-q', join(dir, 'out-new', 'titan-master-bundle.zip'), '-d', join(dir, 'master-vm')]).status).toBe(0);
    const pidBefore = Number(readFileSync(join(masterDir(), 'run', 'master.pid'), 'utf8'));
    const stopped = await inNs(NS.master, [join(masterDir(), 'stop_master.sh')], { timeoutMs: 40_000 });
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(0);
    expect(await waitUntil(() => isGone(pidBefore), 5000)).toBe(true);
    const restarted = await inNs(NS.master, [join(masterDir(), 'start_master.sh'), '--port', '9090', '--http-port', '5000'], { timeoutMs: 60_000 });
    expect(restarted.code, restarted.stdout + restarted.stderr).toBe(0);
    expect(readFileSync(join(masterDir(), 'titan-data', 'token'), 'utf8').trim()).toBe(token);

    await expect.poll(() => readFileSync(join(workerDir(), 'worker.log'), 'utf8').split(`joined master ${IP.master}:9090`).length - 1, { timeout: 30_000, interval: 300 }).toBe(2);
    await expect.poll(async () => (await jobStatus('long')).status, { timeout: 40_000, interval: 500 }).toBe('COMPLETED');
    const status = JSON.parse((await laptop(['status', 'long', '--json'])).stdout) as { attempts: unknown[] };
    expect(status.attempts).toHaveLength(1);
    const logs = await laptop(['logs', 'long']);
    expect(logs.stdout.match(/long job finished/g), `${logs.code} ${logs.stdout} ${logs.stderr}`).toHaveLength(1);
    // The run from before the upgrade is still there.
    expect((await jobStatus('extract')).status).toBe('COMPLETED');
  }, 240_000);

  it('stops only what the scripts started, by their pid files', async () => {
    const workerPid = Number(readFileSync(join(workerDir(), 'run', 'worker-8085.pid'), 'utf8'));
    const masterPid = Number(readFileSync(join(masterDir(), 'run', 'master.pid'), 'utf8'));
    const w = await inNs(NS.worker, [join(workerDir(), 'stop_worker.sh')], { timeoutMs: 60_000 });
    expect(w.code, w.stdout + w.stderr).toBe(0);
    const m = await inNs(NS.master, [join(masterDir(), 'stop_master.sh')], { timeoutMs: 40_000 });
    expect(m.code, m.stdout + m.stderr).toBe(0);
    expect(isGone(workerPid) && isGone(masterPid)).toBe(true);
    expect(existsSync(join(workerDir(), 'run', 'worker-8085.pid')) || existsSync(join(masterDir(), 'run', 'master.pid'))).toBe(false);
    expect((await inNs(NS.master, [join(masterDir(), 'stop_master.sh')])).stdout).toMatch(/not running/);

    // A stale pid file that now names somebody else's live process: left alone, file removed.
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(join(masterDir(), 'run', 'master.pid'), `${bystander.pid}\n`);
      const stale = await inNs(NS.master, [join(masterDir(), 'stop_master.sh')]);
      expect(stale.stdout).toMatch(/not running \(removed the stale pid file/);
      expect(isGone(bystander.pid ?? 0)).toBe(false);
      expect(existsSync(join(masterDir(), 'run', 'master.pid'))).toBe(false);
    } finally {
      bystander.kill('SIGKILL');
    }
  }, 120_000);

  it.skipIf(!haveOpenssl)('serves both ports over TLS across the machines when started with a certificate', async () => {
    const certs = join(dir, 'certs');
    spawnSync('mkdir', ['-p', certs]);
    makeCertificates(certs, IP.master);
    const ca = join(certs, 'ca.pem');
    const started = await inNs(NS.master, [join(masterDir(), 'start_master.sh'), '--tls-cert', join(certs, 'server.pem'), '--tls-key', join(certs, 'server.key')], { timeoutMs: 60_000 });
    expect(started.code, started.stdout + started.stderr).toBe(0);
    expect(started.stdout).toContain(`https://${IP.master}:5000/`);
    expect(started.stdout).toContain('--ca');

    const joined = await inNs(NS.worker, [join(workerDir(), 'start_worker.sh'), IP.master, '8085', 'GENERAL', '--ca', ca], { timeoutMs: 60_000 });
    expect(joined.code, joined.stdout + joined.stderr).toBe(0);
    // A second worker that does not trust the master's certificate stops and says why.
    const untrusted = await inNs(NS.worker, [join(workerDir(), 'start_worker.sh'), IP.master, '8086', 'GENERAL', '--ca', join(certs, 'other-ca.pem')], { timeoutMs: 60_000 });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/certificate/);

    const run = await laptop(['submit', 'pipeline.yaml', '--wait'], 90_000, { TITAN_CA: ca });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect((await laptop(['logs', 'extract'], 60_000, { TITAN_CA: ca })).stdout).toMatch(/extract on .* sdk titan_sdk/);
    const plain = await laptop(['workers']);
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/TLS/);

    const page = await inNs(NS.client, [process.execPath, '-e', `fetch('https://${IP.master}:5000/').then(async (r) => console.log(r.status, await r.text()))`], { env: { NODE_EXTRA_CA_CERTS: ca } });
    expect(page.stdout).toMatch(/^200 /);
    expect(page.stdout).toContain('<div id="root">');
  }, 180_000);
});
