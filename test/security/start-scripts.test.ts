/**
 * The bundles' start scripts never hand a token over on a command line, where `ps` shows it to
 * every user of the machine: both bundles are built with `titan package` and unzipped, the master
 * is started from a token file, workers from a token file and (as older scripts do) from
 * TITAN_TOKEN, and the running processes' command lines and environments are read from /proc.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cluster.js';
import { freePort } from '../helpers/scripts.js';

const unavailable = process.platform !== 'linux' ? '/proc is Linux only' : spawnSync('unzip', ['-v']).error ? 'the unzip command is missing; install unzip' : null;
if (unavailable) console.warn(`start script test skipped: ${unavailable}`);

const dir = mkdtempSync(join(tmpdir(), 'titan-start-scripts-'));
// Passable: the worker, started as root, runs its jobs as nobody, who must reach its work directory.
chmodSync(dir, 0o711);
const masterDir = join(dir, 'titan-master-bundle');
const workerDir = join(dir, 'titan-worker-bundle');
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? dir, LANG: 'C.UTF-8', TITAN_NODE: process.execPath };
const CLUSTER_TOKEN = 'cluster-token-from-a-file-0123456789';

function run(script: string, args: string[], extraEnv: Record<string, string> = {}): { code: number | null; out: string } {
  const r = spawnSync(script, args, { cwd: dir, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** What `ps` shows of a process (its arguments), and its environment. */
function exposed(pidFile: string): { cmdline: string; environ: string } {
  const pid = readFileSync(pidFile, 'utf8').trim();
  return { cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '), environ: readFileSync(`/proc/${pid}/environ`, 'utf8').replaceAll('\0', '\n') };
}

describe.skipIf(unavailable !== null)('the bundles’ start scripts', () => {
  let port = 0;
  let workerToken = '';

  beforeAll(() => {
    const built = spawnSync(process.execPath, [CLI, 'package', '--out', join(dir, 'out')], { encoding: 'utf8', timeout: 120_000 });
    if (built.status !== 0) throw new Error(`titan package failed: ${built.stderr}`);
    for (const zip of ['titan-master-bundle.zip', 'titan-worker-bundle.zip']) {
      const r = spawnSync('unzip', ['-q', join(dir, 'out', zip), '-d', dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`unzip ${zip}: ${r.stderr}`);
    }
  }, 180_000);

  afterAll(() => {
    if (existsSync(workerDir)) run(join(workerDir, 'stop_worker.sh'), []);
    if (existsSync(masterDir)) run(join(masterDir, 'stop_master.sh'), []);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('start the master from a token file, which it reads from its data folder', async () => {
    const tokenFile = join(dir, 'cluster-token');
    writeFileSync(tokenFile, `${CLUSTER_TOKEN}\n`, { mode: 0o600 });
    port = await freePort();
    const started = run(join(masterDir, 'start_master.sh'), ['--port', String(port), '--http-port', String(await freePort()), '--host', '127.0.0.1', '--token-file', tokenFile]);
    expect(started.code, started.out).toBe(0);
    expect(readFileSync(join(masterDir, 'titan-data', 'token'), 'utf8').trim()).toBe(CLUSTER_TOKEN);
    workerToken = /\(umask 077 && echo '(\S+)' >token\) && \.\/start_worker\.sh /.exec(started.out)?.[1] ?? '';
    expect(workerToken.startsWith('worker.'), started.out).toBe(true);
    const master = exposed(join(masterDir, 'run', 'master.pid'));
    expect(master.cmdline).toContain(' master --data-dir ');
    expect(master.cmdline).not.toContain(CLUSTER_TOKEN);
    expect(master.environ).not.toContain(CLUSTER_TOKEN);
  }, 120_000);

  it('start a worker from a token file: it gets the path, never the token', () => {
    const tokenFile = join(dir, 'worker-token');
    writeFileSync(tokenFile, `${workerToken}\n`, { mode: 0o600 });
    const joined = run(join(workerDir, 'start_worker.sh'), [`127.0.0.1:${port}`, '8085', 'GENERAL', '--token-file', tokenFile]);
    expect(joined.code, joined.out).toBe(0);
    expect(joined.out).toMatch(/joined the master/);
    const worker = exposed(join(workerDir, 'run', 'worker-8085.pid'));
    expect(worker.cmdline).toContain(` --token-file ${tokenFile} `);
    expect(worker.cmdline).not.toContain(workerToken);
    expect(worker.environ).not.toContain(workerToken);
  }, 120_000);

  it('start a worker from TITAN_TOKEN, as before: saved in ./token (0600) and read from there', () => {
    const joined = run(join(workerDir, 'start_worker.sh'), [`127.0.0.1:${port}`, '8086', 'GENERAL'], { TITAN_TOKEN: workerToken });
    expect(joined.code, joined.out).toBe(0);
    const saved = join(workerDir, 'token');
    expect(readFileSync(saved, 'utf8')).toBe(`${workerToken}\n`);
    expect((statSync(saved).mode & 0o777).toString(8)).toBe('600');
    const worker = exposed(join(workerDir, 'run', 'worker-8086.pid'));
    expect(worker.cmdline).toContain(` --token-file ${saved} `);
    expect(worker.cmdline).not.toContain(workerToken);
    expect(worker.environ).not.toContain(workerToken);
  }, 120_000);

  it('refuse a missing or empty token file, and a token given twice, before starting anything', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    const cases: [string[], RegExp][] = [
      [['--token-file', join(dir, 'absent')], /cannot read the token file ".*absent"/],
      [['--token-file', empty], /the first line of ".*empty" is empty/],
      [['--token', 'x', '--token-file', empty], /give --token-file or --token, not both/],
    ];
    for (const [args, message] of cases) {
      const refused = run(join(workerDir, 'start_worker.sh'), [`127.0.0.1:${port}`, '8087', ...args]);
      expect(refused.code, refused.out).toBe(2);
      expect(refused.out).toMatch(message);
    }
    const master = run(join(masterDir, 'start_master.sh'), ['--token-file', empty]);
    expect(master.code, master.out).toBe(2);
    expect(master.out).toMatch(/--token-file: the first line of ".*empty" is empty/);
  });
});
