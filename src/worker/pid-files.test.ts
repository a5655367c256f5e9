import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PidFiles } from './pid-files.js';
import { isGone, pidAlive, waitUntil } from '../../test/helpers/processes.js';

let root: string;
let dir: string;
/** Process groups the tests started, killed after each test whatever happened. */
const groups = new Set<number>();

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'titan-pid-files-'));
  dir = join(root, 'pids');
});

afterEach(() => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  groups.clear();
  rmSync(root, { recursive: true, force: true });
});

/** Starts a bash script as its own process group, like the worker starts an attempt. */
function group(script: string): ChildProcess & { pid: number } {
  const child = spawn('bash', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  if (child.pid === undefined) throw new Error('spawn failed');
  groups.add(child.pid);
  return child as ChildProcess & { pid: number };
}

/** The first line the child prints, once it has set itself up. */
async function firstLine(child: ChildProcess): Promise<string> {
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return chunk.toString().trim();
}

const files = (): string[] => readdirSync(dir);

describe('PidFiles', () => {
  it('records an attempt under a hashed file name and forgets it', async () => {
    const pids = new PidFiles(dir);
    await pids.record('run-1/job-a#3', process.pid);
    expect(files()).toHaveLength(1);
    const [name] = files();
    expect(name).toMatch(/^[0-9a-f]{64}\.json$/);
    const record: unknown = JSON.parse(readFileSync(join(dir, name!), 'utf8'));
    expect(record).toEqual({ pgid: process.pid, startTime: expect.any(Number), key: 'run-1/job-a#3' });

    await pids.forget('run-1/job-a#3');
    expect(files()).toEqual([]);
    await pids.forget('run-1/job-a#3');
  });

  it('reads the start time after the last ")", whatever the command name holds', async () => {
    // A command name with spaces and parentheses, as /proc/<pid>/stat shows it: "(x) 1 2 (y) z)".
    const odd = join(root, 'x) 1 2 (y) z');
    symlinkSync(execFileSync('bash', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim(), odd);
    const child = spawn(odd, ['60'], { detached: true, stdio: 'ignore' });
    groups.add(child.pid!);
    await once(child, 'spawn');
    const pids = new PidFiles(dir);
    await pids.record('run/odd#1', child.pid!);

    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    expect(stat).toContain('(x) 1 2 (y) z)');
    const expected = Number(execFileSync('bash', ['-c', `sed 's/.*) //' /proc/${child.pid}/stat | cut -d' ' -f20`], { encoding: 'utf8' }));
    const [name] = files();
    expect(JSON.parse(readFileSync(join(dir, name!), 'utf8'))).toMatchObject({ startTime: expected });

    expect(await pids.sweepLeftovers()).toEqual([`stopped leftover attempt run/odd#1 (process group ${child.pid})`]);
    expect(isGone(child.pid!)).toBe(true);
  });

  it('keeps keys with slashes and .. inside its directory', async () => {
    const pids = new PidFiles(dir);
    for (const key of ['../../escape', 'run/../../job#1', '/etc/passwd', '..']) await pids.record(key, process.pid);
    expect(files()).toHaveLength(4);
    expect(files().every((f) => /^[0-9a-f]{64}\.json$/.test(f))).toBe(true);
    expect(readdirSync(root)).toEqual(['pids']);
  });

  it('refuses a pgid that would signal every process or its own group', async () => {
    const pids = new PidFiles(dir);
    await expect(pids.record('k', 1)).rejects.toThrow(RangeError);
    await expect(pids.record('k', 0)).rejects.toThrow(RangeError);
    expect(files()).toEqual([]);
  });

  it('stops a leftover attempt and everything in its group, and removes the file', async () => {
    const child = group('sleep 60 & echo $!; wait');
    const grandchild = Number(await firstLine(child));
    await new PidFiles(dir).record('run/svc#1', child.pid);

    // A new life of the worker finds the file.
    const report = await new PidFiles(dir).sweepLeftovers();
    expect(report).toEqual([`stopped leftover attempt run/svc#1 (process group ${child.pid})`]);
    expect(isGone(child.pid)).toBe(true);
    expect(await waitUntil(() => isGone(grandchild), 1000)).toBe(true);
    expect(files()).toEqual([]);
  });

  it('kills a group that ignores SIGTERM once the grace period is over', async () => {
    const child = group('trap "" TERM; echo ready; while :; do sleep 0.05; done');
    expect(await firstLine(child)).toBe('ready');
    const pids = new PidFiles(dir);
    await pids.record('run/stubborn#2', child.pid);

    const started = Date.now();
    const report = await pids.sweepLeftovers(300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(report).toEqual([`killed leftover attempt run/stubborn#2 (process group ${child.pid}) after it ignored SIGTERM for 300 ms`]);
    expect(await waitUntil(() => isGone(child.pid), 1000)).toBe(true);
    expect(files()).toEqual([]);
  });

  it('leaves alone a live process whose start time does not match the record (a reused pid)', async () => {
    const child = group('echo ready; exec sleep 60');
    await firstLine(child);
    const pids = new PidFiles(dir);
    await pids.record('run/old#1', child.pid);
    const [name] = files();
    const file = join(dir, name!);
    const record = JSON.parse(readFileSync(file, 'utf8')) as { startTime: number };
    expect(record.startTime).toEqual(expect.any(Number));
    writeFileSync(file, JSON.stringify({ ...record, startTime: record.startTime - 1 }));

    const report = await pids.sweepLeftovers(300);
    expect(report).toEqual([`left pid ${child.pid} alone: it now belongs to another process, not leftover attempt run/old#1`]);
    expect(pidAlive(child.pid)).toBe(true);
    expect(files()).toEqual([]);
  });

  it('reports an attempt that is already gone', async () => {
    const child = group('echo ready; sleep 0.2');
    await firstLine(child);
    const pids = new PidFiles(dir);
    await pids.record('run/done#1', child.pid);
    await once(child, 'exit');
    expect(await pids.sweepLeftovers()).toEqual([`leftover attempt run/done#1 (pid ${child.pid}) was already gone`]);
    expect(files()).toEqual([]);
  });

  it('does not record a group that has already ended', async () => {
    const child = group('exit 0');
    await once(child, 'exit');
    await new PidFiles(dir).record('run/quick#1', child.pid);
    expect(files()).toEqual([]);
  });

  it('a removal asked for at once waits for the recording it undoes', async () => {
    const child = group('echo ready; exec sleep 60');
    await firstLine(child);
    const pids = new PidFiles(dir);
    const recorded = pids.record('run/brief#1', child.pid);
    const forgotten = pids.forget('run/brief#1');
    await Promise.all([recorded, forgotten]);
    expect(files()).toEqual([]);
  });

  it('removes and reports corrupt files without signalling anything they name', async () => {
    const pids = new PidFiles(dir);
    writeFileSync(join(dir, 'garbage.json'), 'not json{');
    writeFileSync(join(dir, 'everyone.json'), JSON.stringify({ pgid: 1, startTime: null, key: 'run/evil#1' }));
    writeFileSync(join(dir, 'nokey.json'), JSON.stringify({ pgid: 12345, startTime: null }));

    const report = await pids.sweepLeftovers();
    expect(report.sort()).toEqual([
      expect.stringMatching(/^removed unreadable pid file everyone\.json: bad pgid 1$/),
      expect.stringMatching(/^removed unreadable pid file garbage\.json: .*JSON/),
      'removed unreadable pid file nokey.json: missing key',
    ]);
    expect(files()).toEqual([]);
  });

  it('sweeps an empty directory to an empty report', async () => {
    expect(await new PidFiles(dir).sweepLeftovers()).toEqual([]);
  });
});
