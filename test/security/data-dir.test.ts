/**
 * The data directory holds the token, the state and every job's output: under a umask that
 * would leave everything open, and with a directory made open beforehand, the master keeps it
 * 0700 and its secrets 0600.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, eventually, kill, type Proc, waitForOutput } from '../helpers/cluster.js';

const root = mkdtempSync(join(tmpdir(), 'titan-perms-'));
let master: Proc | null = null;
afterAll(async () => {
  if (master) await kill(master, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('the data directory', () => {
  it('is 0700 with its token, database and sessions 0600, whatever the umask', async () => {
    const dataDir = join(root, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    const child = spawn('sh', ['-c', `umask 000; exec "${process.execPath}" "${CLI}" master --data-dir "${dataDir}" --host 127.0.0.1 --port 0 --http-port 0`], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    master = { child, output: () => out };
    const [, , httpPort] = await waitForOutput(master, /listening on 127\.0\.0\.1:(\d+) \(http (\d+)\)/, 20_000);
    expect(out).toContain(`the data directory ${dataDir} was open to others (mode 755); it is now 0700`);
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
  });
});
