/**
 * The bundles' start scripts never hand a token over on a command line, where `ps` shows it to
 * every user of the machine: both bundles are built with `titan package` and unzipped, the master
 * is started from a token file, workers from a token file and (as older scripts do) from
 * TITAN_TOKEN, and the running processes' command lines and environments are read from /proc.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cluster.js';
import { RedisServer, redisServerBinary } from '../helpers/redis.js';
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

  it('start a worker with a comma list of masters: one --master list, joining the one that answers', async () => {
    const tokenFile = join(dir, 'worker-token');
    const nobody = await freePort();
    const joined = run(join(workerDir, 'start_worker.sh'), [`127.0.0.1:${nobody},127.0.0.1:${port}`, '8088', 'GENERAL', '--token-file', tokenFile]);
    expect(joined.code, joined.out).toBe(0);
    expect(joined.out).toContain(`joined the master at 127.0.0.1:${port} `);
    const pidFile = join(workerDir, 'run', 'worker-8088.pid');
    expect(exposed(pidFile).cmdline).toContain(` --master 127.0.0.1:${nobody},127.0.0.1:${port} `);
    const stopped = run(join(workerDir, 'stop_worker.sh'), ['8088']);
    expect(stopped.code, stopped.out).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  }, 120_000);

  it('refuse a comma list with a bad entry, naming it, before starting anything', () => {
    const tokenFile = join(dir, 'worker-token');
    const cases: [string, RegExp][] = [
      ['10.0.0.5,,10.0.0.6', /MASTER_HOST has an empty entry in "10\.0\.0\.5,,10\.0\.0\.6"/],
      ['10.0.0.5,', /MASTER_HOST has an empty entry in "10\.0\.0\.5,"/],
      ['10.0.0.5,10.0.0.6:99999', /MASTER_PORT must be a number from 1 to 65535 \(got "99999" in "10\.0\.0\.6:99999"\)/],
      ['[::1]:9090,10.0.0.6:x', /MASTER_PORT must be a number from 1 to 65535 \(got "x" in "10\.0\.0\.6:x"\)/],
      ['10.0.0.5,:9091', /MASTER_HOST is empty in ":9091"/],
      ['10.0.0.5,a/b', /MASTER_HOST "a\/b" is not a host name or IP address/],
    ];
    for (const [masters, message] of cases) {
      const refused = run(join(workerDir, 'start_worker.sh'), [masters, '8089', 'GENERAL', '--token-file', tokenFile]);
      expect(refused.code, refused.out).toBe(2);
      expect(refused.out).toMatch(message);
    }
    expect(existsSync(join(workerDir, 'run', 'worker-8089.pid'))).toBe(false);
  });

  describe.skipIf(redisServerBinary() === null)('two masters sharing a Redis store', () => {
    let redis: RedisServer | null = null;
    const bundles = ['ha-a', 'ha-b'].map((name) => join(dir, name));

    afterAll(async () => {
      for (const bundle of bundles) if (existsSync(bundle)) run(join(bundle, 'stop_master.sh'), []);
      await redis?.remove();
    }, 120_000);

    it('report the second as a standby behind the leader, and stop it with stop_master.sh', async () => {
      redis = await RedisServer.start();
      const tokenFile = join(dir, 'cluster-token');
      const shared = join(dir, 'ha-files');
      const ports: number[] = [];
      for (const bundle of bundles) {
        cpSync(masterDir, bundle, { recursive: true });
        rmSync(join(bundle, 'titan-data'), { recursive: true, force: true });
        rmSync(join(bundle, 'run'), { recursive: true, force: true });
        ports.push(await freePort());
      }
      const start = async (i: number): Promise<{ code: number | null; out: string }> =>
        run(join(bundles[i] ?? '', 'start_master.sh'), ['--port', String(ports[i]), '--http-port', String(await freePort()), '--host', '127.0.0.1', '--advertise', '127.0.0.1', '--store', redis?.url ?? '', '--blob-dir', shared, '--token-file', tokenFile]);

      const leader = await start(0);
      expect(leader.code, leader.out).toBe(0);
      expect(leader.out).toContain('the master is running (pid');
      const standby = await start(1);
      expect(standby.code, standby.out).toBe(0);
      expect(standby.out).toMatch(new RegExp(`the master is running as a standby \\(pid \\d+\\): the master at 127\\.0\\.0\\.1:${ports[0]} leads the cluster`));
      expect(standby.out).toContain('takes over automatically');
      // Workers get both masters, the leader first.
      expect(standby.out).toMatch(new RegExp(`\\./start_worker\\.sh 127\\.0\\.0\\.1:${ports[0]},\\S+:${ports[1]} 8085 GENERAL`));
      expect(standby.out).toContain(`TITAN_MASTERS=<LEADER-EXTERNAL-IP>:${ports[0]},<VM-EXTERNAL-IP>:${ports[1]} `);
      const again = await start(1);
      expect(again.code, again.out).toBe(0);
      expect(again.out).toMatch(new RegExp(`the master is already running as a standby \\(pid \\d+\\): the master at 127\\.0\\.0\\.1:${ports[0]} leads`));

      const pid = Number(readFileSync(join(bundles[1] ?? '', 'run', 'master.pid'), 'utf8').trim());
      const stopped = run(join(bundles[1] ?? '', 'stop_master.sh'), []);
      expect(stopped.code, stopped.out).toBe(0);
      expect(stopped.out).toContain(`stopped master (pid ${pid})`);
      expect(() => process.kill(pid, 0)).toThrow();
    }, 180_000);
  });
});
