/**
 * TLS and mutual TLS on both ports, with real processes and real certificates: a CA, a server
 * certificate for IP 127.0.0.1 and a client certificate it signed, and an unrelated second CA,
 * made with openssl in a temporary folder. Every process started here is killed by pid.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveOpenssl, makeCertificates, OPENSSL } from '../helpers/certificates.js';
import { kill, launch, type Proc, ROOT, runCli, waitForOutput } from '../helpers/cluster.js';
import { freePort } from '../helpers/scripts.js';

if (!haveOpenssl) console.warn(`tls.test.ts: skipped, openssl is not at ${OPENSSL} (needed to make the test certificates)`);

const dir = mkdtempSync(join(tmpdir(), 'titan-tls-'));
// Workers started as root run jobs as an unprivileged user: they reach their folders and the CA through here.
chmodSync(dir, 0o711);
const file = (name: string): string => join(dir, name);
const token = `tls-token-${process.pid}`;
const procs: Proc[] = [];

async function startMaster(name: string, extra: string[]): Promise<{ port: number; httpPort: number }> {
  const proc = launch(['master', '--data-dir', file(name), '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--token', token, ...extra]);
  procs.push(proc);
  const m = await waitForOutput(proc, /listening on 127\.0\.0\.1:(\d+) \((https?) (\d+)\)/, 20_000);
  return { port: Number(m[1]), httpPort: Number(m[3]) };
}

async function startWorker(name: string, port: number, extra: string[]): Promise<Proc> {
  const proc = launch(['worker', '--master', `127.0.0.1:${port}`, '--token', token, '--port', '0', '--name', '127.0.0.1', '--work-dir', file(name), ...extra]);
  procs.push(proc);
  await waitForOutput(proc, /joined master/, 20_000);
  return proc;
}

const cli = (args: string[]): ReturnType<typeof runCli> => runCli(args, { cwd: dir, env: { TITAN_HOST: '', TITAN_PORT: '', TITAN_TOKEN: '', TITAN_TLS: '', TITAN_CA: '', TITAN_CERT: '', TITAN_KEY: '' } });

function https(port: number, path: string, options: { method?: string; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', ca: readFileSync(file('ca.pem')), headers: options.body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe.skipIf(!haveOpenssl)('TLS and mutual TLS', () => {
  let tlsMaster = { port: 0, httpPort: 0 };
  let mutualMaster = { port: 0, httpPort: 0 };
  let plainMaster = { port: 0, httpPort: 0 };
  const ca = ['--ca', file('ca.pem')];
  const clientCert = ['--cert', file('client.pem'), '--key', file('client.key')];
  // Jobs present a certificate of their own under mutual TLS, never the worker's key (here the same certificate, its key readable by the jobs' user).
  const jobCert = ['--job-cert', file('client.pem'), '--job-key', file('job.key')];

  beforeAll(async () => {
    makeCertificates(dir);
    copyFileSync(file('client.key'), file('job.key'));
    chmodSync(file('job.key'), 0o644);
    const serverTls = ['--tls-cert', file('server.pem'), '--tls-key', file('server.key')];
    [tlsMaster, mutualMaster, plainMaster] = await Promise.all([startMaster('tls', serverTls), startMaster('mutual', [...serverTls, '--tls-client-ca', file('ca.pem')]), startMaster('plain', [])]);
    await Promise.all([startWorker('w-tls', tlsMaster.port, ca), startWorker('w-mutual', mutualMaster.port, [...ca, ...clientCert, ...jobCert])]);
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) await kill(p, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a job submitted by the CLI with --ca on a worker that joined with --ca', async () => {
    writeFileSync(file('hello.py'), 'import sys\nprint("hello over tls", sys.argv[1:])\n');
    const r = await cli(['run', file('hello.py'), '--master', `127.0.0.1:${tlsMaster.port}`, '--token', token, ...ca, '--', 'x']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.stdout).toContain("hello over tls ['x']");
    expect(r.code).toBe(0);
  }, 30_000);

  it('gives jobs the TLS settings, so titan_sdk inside a job reaches the master', async () => {
    writeFileSync(file('kv.py'), ['import os', 'from titan_sdk import TitanClient', 'c = TitanClient()', 'c.store_put("tls-key", "from-job")', 'print("tls", os.environ["TITAN_TLS"], os.path.isabs(os.environ["TITAN_CA"]), c.store_get("tls-key"))', ''].join('\n'));
    const r = await cli(['run', file('kv.py'), '--master', `127.0.0.1:${tlsMaster.port}`, '--token', token, ...ca]);
    expect(r.stdout + r.stderr).toContain('tls 1 True from-job');
    expect(r.code).toBe(0);
  }, 30_000);

  it('serves the dashboard over https with HSTS, and the sign-in cookie is Secure', async () => {
    const page = await https(tlsMaster.httpPort, '/');
    expect(page.status).toBe(200);
    const login = await https(tlsMaster.httpPort, '/api/login', { method: 'POST', body: JSON.stringify({ token }) });
    expect(login.status).toBe(200);
    expect(String(login.headers['set-cookie'])).toMatch(/titan_session=.*; Secure/);
    // Browsers are told to keep to https for this host.
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('a plain CLI against the TLS master fails fast with a hint, exit 3', async () => {
    const started = Date.now();
    const r = await cli(['workers', '--master', `127.0.0.1:${tlsMaster.port}`, '--token', token]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`127.0.0.1:${tlsMaster.port}`);
    expect(r.stderr).toMatch(/is the master using TLS\? use --tls\/--ca/);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('a CLI trusting another CA fails with a certificate error, exit 3', async () => {
    const r = await cli(['workers', '--master', `127.0.0.1:${tlsMaster.port}`, '--token', token, '--ca', file('other-ca.pem')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/certificate this side does not trust \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });

  it('a TLS CLI against a plain master says the master does not speak TLS, exit 3', async () => {
    const r = await cli(['workers', '--master', `127.0.0.1:${plainMaster.port}`, '--token', token, ...ca]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/does not speak TLS/);
  });

  it('mutual TLS: refuses a CLI without a client certificate and admits one with it', async () => {
    const without = await cli(['workers', '--master', `127.0.0.1:${mutualMaster.port}`, '--token', token, ...ca]);
    expect(without.code).toBe(3);
    expect(without.stderr).toMatch(/refused this side's client certificate/);
    const withCert = await cli(['workers', '--master', `127.0.0.1:${mutualMaster.port}`, '--token', token, ...ca, ...clientCert]);
    expect(withCert.stderr).toBe('');
    expect(withCert.code).toBe(0);
    expect(withCert.stdout).toContain('127.0.0.1');
  });

  it("mutual TLS: a worker with a client certificate runs a job, and its jobs connect with the job certificate, never the worker's key", async () => {
    writeFileSync(file('mutual.py'), 'import os\nfrom titan_sdk import TitanClient\nTitanClient().store_put("m", "ok")\nprint("mutual", TitanClient().store_get("m"), os.environ["TITAN_KEY"])\n');
    const r = await cli(['run', file('mutual.py'), '--master', `127.0.0.1:${mutualMaster.port}`, '--token', token, ...ca, ...clientCert]);
    expect(r.stdout + r.stderr).toContain(`mutual ok ${file('job.key')}`);
    expect(r.code).toBe(0);
  }, 30_000);

  it('a worker with the wrong CA stops with a clear message instead of retrying', async () => {
    const proc = launch(['worker', '--master', `127.0.0.1:${tlsMaster.port}`, '--token', token, '--port', '0', '--work-dir', file('w-wrong'), '--ca', file('other-ca.pem')]);
    procs.push(proc);
    const code = await new Promise<number | null>((resolve) => proc.child.once('exit', (c) => resolve(c)));
    expect(code).toBe(3);
    expect(proc.output()).toMatch(/certificate this side does not trust/);
  }, 20_000);

  it('a worker that had joined exits with code 3 when the master comes back without TLS', async () => {
    const port = await freePort();
    const serverTls = ['--tls-cert', file('server.pem'), '--tls-key', file('server.key')];
    const master = (extra: string[]): Proc => {
      const p = launch(['master', '--data-dir', file('flip'), '--host', '127.0.0.1', '--port', String(port), '--http-port', '0', '--token', token, ...extra]);
      procs.push(p);
      return p;
    };
    const first = master(serverTls);
    await waitForOutput(first, /listening on/, 20_000);
    const worker = launch(['worker', '--master', `127.0.0.1:${port}`, '--token', token, '--port', '0', '--name', '127.0.0.1', '--work-dir', file('w-flip'), ...ca]);
    procs.push(worker);
    await waitForOutput(worker, /joined master/, 20_000);
    const exited = new Promise<number | null>((resolve) => worker.child.once('exit', (c) => resolve(c)));
    await kill(first, 'SIGTERM');
    await waitForOutput(master([]), /listening on/, 20_000);
    expect(await exited).toBe(3);
    expect(worker.output()).toMatch(/does not speak TLS/);
  }, 40_000);

  it('titan up refuses a CA-signed --tls-cert without --ca for its local worker, naming the fix', async () => {
    const r = await cli(['up', '--data-dir', file('up-ca'), '--port', '0', '--http-port', '0', '--tls-cert', file('server.pem'), '--tls-key', file('server.key')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tls-cert .*server\.pem is signed by a CA \(CN=ca\): give the local worker that CA with --ca <file>/);
  });

  it('titan version speaks TLS with --ca, and explains a mismatch without it', async () => {
    const ok = await cli(['version', '--master', `127.0.0.1:${tlsMaster.port}`, '--token', token, ...ca]);
    expect(ok.stdout).toMatch(new RegExp(`master 127\\.0\\.0\\.1:${tlsMaster.port}: \\d+\\.\\d+\\.\\d+ \\(protocol 2\\)`));
    const plain = await cli(['version', '--master', `127.0.0.1:${tlsMaster.port}`, '--token', token]);
    expect(plain.stdout).toMatch(/is the master using TLS\? use --tls\/--ca/);
  });

  it('the Python SDK connects with TITAN_CA, and names the problem with the wrong CA or none', () => {
    const script = 'from titan_sdk import TitanClient\ntry:\n    print("ok", TitanClient().ping())\nexcept Exception as e:\n    print("error", e)\n';
    const run = (extra: Record<string, string>): string =>
      execFileSync('python3', ['-c', script], { env: { ...process.env, PYTHONPATH: join(ROOT, 'python'), PYTHONDONTWRITEBYTECODE: '1', TITAN_HOST: '127.0.0.1', TITAN_PORT: String(mutualMaster.port), TITAN_TOKEN: token, ...extra }, encoding: 'utf8' });
    expect(run({ TITAN_CA: file('ca.pem'), TITAN_CERT: file('client.pem'), TITAN_KEY: file('client.key') })).toMatch(/^ok /);
    expect(run({ TITAN_CA: file('other-ca.pem'), TITAN_CERT: file('client.pem'), TITAN_KEY: file('client.key') })).toMatch(/certificate this side does not trust/);
    expect(run({ TITAN_CA: file('ca.pem') })).toMatch(/refused the TLS connection/);
    expect(run({})).toMatch(/is the master using TLS\?/);
  });

  it('refuses to start on a missing certificate file with exit 2, naming the file', async () => {
    const r = await cli(['master', '--data-dir', file('bad'), '--port', '0', '--http-port', '0', '--tls-cert', file('missing.pem'), '--tls-key', file('server.key')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--tls-cert: cannot read ${file('missing.pem')}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
