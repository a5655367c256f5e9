/**
 * What users stumbled on starting servers with the `titan` command: a busy port (one line naming
 * the port and the option, no data directory left behind), a data directory another master holds (a work directory another worker holds), a silent Ctrl-C on `titan up` while it
 * drains, and a worker's work directory left untracked in a checkout.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, kill, launch, type Proc, ROOT, runCli, waitForOutput } from '../helpers/cluster.js';
import { freePort, readPid, TempDir } from '../helpers/scripts.js';

const STACK = /^\s+at .+[:(]\d+/m;

/** Holds a port on loopback, as another program would. */
function occupy(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

describe('starting servers with the titan CLI', () => {
  const tmp = new TempDir('titan-cli-servers-');
  const started: Proc[] = [];
  let busy: { server: Server; port: number };

  beforeAll(async () => {
    busy = await occupy();
  });
  afterAll(async () => {
    for (const p of started) await kill(p, 'SIGKILL');
    await new Promise<void>((r) => busy.server.close(() => r()));
    tmp.remove();
  });

  describe('a busy port', () => {
    for (const [command, flag] of [
      ['up', '--http-port'],
      ['up', '--port'],
      ['master', '--port'],
      ['master', '--http-port'],
    ] as const) {
      it(`titan ${command} ${flag} <busy> says so in one line and leaves no new data directory`, async () => {
        const dataDir = join(tmp.path, `${command}${flag}`, 'titan-data');
        const other = flag === '--port' ? '--http-port' : '--port';
        const r = await runCli([command, '--host', '127.0.0.1', flag, String(busy.port), other, '0', '--data-dir', dataDir], { cwd: tmp.path, env: { TITAN_TOKEN: '' } });
        expect(r.code).toBe(2);
        expect(r.stderr).toBe(`titan: port ${busy.port} on 127.0.0.1 is already in use (another master?); choose another with ${flag}\n`);
        expect(existsSync(join(tmp.path, `${command}${flag}`))).toBe(false);
      });
    }

    it('keeps a data directory that was there, token and all, untouched', async () => {
      const master = launch(['master', '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--data-dir', join(tmp.path, 'kept')], { TITAN_TOKEN: '' });
      started.push(master);
      const port = Number((await waitForOutput(master, /listening on 127\.0\.0\.1:(\d+)/, 20_000))[1]);
      const token = readFileSync(join(tmp.path, 'kept', 'token'), 'utf8');
      const entries = readdirSync(join(tmp.path, 'kept')).sort();
      // A second master on the same data directory and port: refused before its store is opened.
      const second = await runCli(['master', '--host', '127.0.0.1', '--port', String(port), '--http-port', '0', '--data-dir', join(tmp.path, 'kept')], { env: { TITAN_TOKEN: '' } });
      expect(second.code).toBe(2);
      expect(second.stderr).toBe(`titan: port ${port} on 127.0.0.1 is already in use (another master?); choose another with --port\n`);
      expect(readFileSync(join(tmp.path, 'kept', 'token'), 'utf8')).toBe(token);
      expect(readdirSync(join(tmp.path, 'kept')).sort()).toEqual(entries);
      // On other ports: refused by the data directory's lock, which names the master holding it.
      const other = await runCli(['master', '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--data-dir', join(tmp.path, 'kept')], { env: { TITAN_TOKEN: '' } });
      expect(other.code).toBe(2);
      expect(other.stderr).toMatch(new RegExp(`^titan: ${join(tmp.path, 'kept')} is in use by another master \\(pid ${master.child.pid}\\); stop it first, or choose another directory with --data-dir`));
      expect(other.stderr).not.toMatch(STACK);
      expect(readFileSync(join(tmp.path, 'kept', 'token'), 'utf8')).toBe(token);
      await kill(master, 'SIGTERM');
      expect(existsSync(join(tmp.path, 'kept', 'master.lock'))).toBe(false);
    });

    it('an address that is not this machine\'s names --host, and a failure after the data directory was made removes it', async () => {
      const away = await runCli(['master', '--host', '192.0.2.1', '--port', '0', '--http-port', '0', '--data-dir', join(tmp.path, 'away')], { env: { TITAN_TOKEN: '' } });
      expect(away.code).toBe(2);
      expect(away.stderr).toBe('titan: cannot listen on 192.0.2.1: it is not an address of this machine; choose another with --host\n');
      // An unreachable store fails once the data directory exists: it is removed again.
      const store = await runCli(['master', '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--data-dir', join(tmp.path, 'nostore', 'titan-data'), '--store', `redis://127.0.0.1:${await freePort()}/0`], { env: { TITAN_TOKEN: '' } });
      expect(store.code).toBe(3);
      expect(store.stderr).toMatch(/^titan: cannot reach the Redis store at redis:\/\/127\.0\.0\.1:\d+\/0: .+\n$/);
      expect(existsSync(join(tmp.path, 'nostore'))).toBe(false);
      expect(existsSync(join(tmp.path, 'away'))).toBe(false);
    });

    it('a data directory whose database is not one says so in one line and leaves the file as it was', async () => {
      const dataDir = join(tmp.path, 'corrupt');
      tmp.write('corrupt/titan.db', 'not a database\n');
      const r = await runCli(['master', '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--data-dir', dataDir], { env: { TITAN_TOKEN: '' } });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).toMatch(new RegExp(`^(titan master: .+\\n)*titan: cannot open store database ${dataDir}/titan\\.db: file is not a database\\n$`));
      expect(readFileSync(join(dataDir, 'titan.db'), 'utf8')).toBe('not a database\n');
    });
  });

  it('Ctrl-C on titan up says at once that it drains, and a second one stops it', async () => {
    const up = launch(['up', '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--data-dir', join(tmp.path, 'up'), '--drain-timeout', '120'], { TITAN_TOKEN: '' });
    started.push(up);
    const banner = await waitForOutput(up, /master +127\.0\.0\.1:(\d+)[\s\S]*token +(\S+)[\s\S]*worker +\S+ with 4 slots \[GENERAL\], work directory (\S+)/, 20_000);
    // Beside the data directory, never inside it.
    expect(banner[3]).toBe(`${join(tmp.path, 'up')}-worker`);
    const script = tmp.write('long.py', 'import os, sys, time\nopen(sys.argv[1], "w").write(str(os.getpid()))\ntime.sleep(300)\n');
    const r = await runCli(['run', '--detach', script, '--', tmp.file('long.pid')], { env: { TITAN_HOST: '127.0.0.1', TITAN_PORT: banner[1] as string, TITAN_TOKEN: banner[2] as string } });
    expect(r.code, r.stderr).toBe(0);
    const job = await readPid(tmp.file('long.pid'));
    const exited = new Promise<number | null>((resolve) => up.child.once('exit', (code) => resolve(code)));
    const signalled = Date.now();
    up.child.kill('SIGINT');
    await waitForOutput(up, /draining the local worker: 1 running job\(s\) may finish for up to 120 s; Ctrl-C again to stop now\n/, 5_000);
    expect(Date.now() - signalled).toBeLessThan(2_000);
    expect(up.child.exitCode).toBeNull();
    up.child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(up.output()).not.toMatch(STACK);
    try {
      process.kill(job, 'SIGKILL');
    } catch {
      // Already stopped with its worker.
    }
  });

  it('titan worker says where its work directory is, and a checkout ignores it and the data directory', async () => {
    const cluster = new Cluster();
    try {
      await cluster.startMaster();
      const workDir = join(cluster.dir, 'w');
      const worker = await cluster.startWorker({ workDir });
      expect(worker.output()).toContain(`titan worker starting: work directory ${workDir}, joining 127.0.0.1:${cluster.port}`);
      // A second worker on the same work directory would stop the first one's jobs as leftovers: refused.
      const second = await runCli(['worker', '--master', `127.0.0.1:${cluster.port}`, '--work-dir', workDir], { env: { TITAN_TOKEN: cluster.token } });
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`titan: ${workDir} is in use by another worker (pid ${worker.child.pid}); stop it first, or choose another directory with --work-dir`);
      expect(second.stderr).not.toMatch(STACK);
    } finally {
      await cluster.stop();
    }
    const ignored = execFileSync('git', ['check-ignore', 'titan-worker/run/x', 'titan-data/token', 'titan-data-worker/runs/x', 'examples/etl/titan-worker/x'], { cwd: ROOT, encoding: 'utf8' });
    expect(ignored.split('\n').filter(Boolean)).toHaveLength(4);
  });
});
