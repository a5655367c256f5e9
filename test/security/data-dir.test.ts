/**
 * The data directory holds the token, the state and every job's output: under a umask that
 * would leave everything open, and with a directory made open beforehand, the master keeps it
 * 0700 and its secrets 0600; everything it writes inside (logs, blobs, artifacts, the script
 * library, uploads, drafts) is private too, as are a worker's work directory and pid records.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TitanClient } from '../../src/sdk/client.js';
import { notPrivate } from '../helpers/file-modes.js';
import { CLI, eventually, kill, type Proc, waitForOutput } from '../helpers/cluster.js';
import { sh, waitRunStatus } from '../helpers/scripts.js';

const root = mkdtempSync(join(tmpdir(), 'titan-perms-'));
// Passable: the worker, started as root, runs its job as nobody, who must reach the work directory.
chmodSync(root, 0o711);
const procs: Proc[] = [];
const clients: TitanClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  for (const p of procs) await kill(p, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

/** `titan <args>` under umask 000, where anything created with default modes is open to all. */
function openUmask(args: string[]): Proc {
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const child = spawn('sh', ['-c', `umask 000; exec "${process.execPath}" "${CLI}" ${quoted}`], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const proc = { child, output: () => out };
  procs.push(proc);
  return proc;
}

describe('the data directory', () => {
  it('is 0700 with its token, database and sessions 0600, whatever the umask', async () => {
    const dataDir = join(root, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    const master = openUmask(['master', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--http-port', '0']);
    const [, , httpPort] = await waitForOutput(master, /listening on 127\.0\.0\.1:(\d+) \(http (\d+)\)/, 20_000);
    expect(master.output()).toContain(`the data directory ${dataDir} was open to others (mode 755); it is now 0700`);
    const [, token] = await waitForOutput(master, /token: (\S+)/, 10_000);
    const login = await fetch(`http://127.0.0.1:${httpPort}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    expect(login.status).toBe(200);
    // Sessions are written shortly after a sign-in.
    await eventually(() => existsSync(join(dataDir, 'sessions.json')), 10_000, 'the sessions file');
    expect(modeOf(dataDir)).toBe('700');
    for (const file of ['token', 'titan.db', 'titan.db-wal', 'sessions.json']) {
      const path = join(dataDir, file);
      if (file.endsWith('-wal') && !existsSync(path)) continue;
      expect(modeOf(path), file).toBe('600');
    }
    await kill(master, 'SIGTERM');
  });

  it('holds only 0700 folders and 0600 files after a job, artifacts, the script library, uploads and a draft', async () => {
    const dataDir = join(root, 'busy');
    const workDir = join(root, 'worker');
    const tokenFile = join(root, 'token');
    writeFileSync(tokenFile, 'data-dir-modes-token\n', { mode: 0o600 });
    const master = openUmask(['master', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--token-file', tokenFile]);
    const [, port, httpPort] = await waitForOutput(master, /listening on 127\.0\.0\.1:(\d+) \(http (\d+)\)/, 20_000);
    const worker = openUmask(['worker', '--master', `127.0.0.1:${port}`, '--token-file', tokenFile, '--work-dir', workDir]);
    await waitForOutput(worker, /joined master/, 20_000);
    const c = new TitanClient({ host: '127.0.0.1', port: Number(port), token: 'data-dir-modes-token' });
    clients.push(c);

    const job = sh('echo "a line of output"\necho "accuracy 0.97" > "$TITAN_OUTPUT_DIR/report.txt"\n', 'train.sh');
    const { runId } = await c.submit({ name: 'modes', jobs: [{ id: 'train', script: job }] });
    await waitRunStatus(c, runId, 'COMPLETED');
    expect(await c.logs(`${runId}/train`)).toContain('a line of output');
    expect((await c.listArtifacts({ runId })).map((a) => a.key)).toEqual([`runs/${runId}/train/1/report.txt`]);
    await c.publishArtifact('models/v1.bin', Buffer.from('weights'));
    await c.putFile('scripts', { name: 'lib.sh', content: 'echo library\n' });
    await c.putFile('uploads', { name: 'data.csv', content: 'a,b\n1,2\n' });
    const draft = await fetch(`http://127.0.0.1:${httpPort}/api/drafts/layout`, { method: 'PUT', headers: { authorization: 'Bearer data-dir-modes-token', 'content-type': 'application/json' }, body: JSON.stringify({ content: { nodes: [] } }) });
    expect(draft.status).toBe(200);

    for (const area of ['logs', 'blobs', 'artifacts', 'scripts', 'uploads', 'drafts']) expect(existsSync(join(dataDir, area)), area).toBe(true);
    const offenders = notPrivate(dataDir);
    expect(offenders, `not private in the data directory:\n${offenders.join('\n')}`).toEqual([]);
    expect(modeOf(dataDir)).toBe('700');
    // Jobs run as another user (nobody, under a worker started as root) pass through the work directory by its group, and list nothing.
    const jobsPass = process.getuid?.() === 0 ? '710' : '700';
    expect([modeOf(workDir), modeOf(join(workDir, 'pids'))]).toEqual([jobsPass, '700']);
  });
});
