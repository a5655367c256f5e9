/**
 * A full disk never stops the master. Its data directory is on a 32 MiB tmpfs that the test fills
 * with a file: submissions and data bus writes are refused with UNAVAILABLE naming the disk, reads
 * are served, a running job's output that does not fit is counted and reported by `titan logs`,
 * and once the file is deleted the master resumes by itself with an intact database. Mounting
 * needs root: without it the tests are skipped, saying why.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stats } from '../../src/protocol/methods.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually, kill, pidAlive } from '../helpers/cluster.js';
import { py, sh, waitJob, waitRunStatus } from '../helpers/scripts.js';

const base = mkdtempSync(join(tmpdir(), 'titan-full-disk-'));
const disk = join(base, 'disk');
const dataDir = join(disk, 'data');
const filler = join(disk, 'filler');
mkdirSync(disk);
let mountError: string | null = null;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', disk], { stdio: 'pipe' });
} catch (err) {
  mountError = ((err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message).split('\n')[0] ?? 'mount failed';
  console.warn(`full-disk tests skipped: cannot mount a tmpfs for the master's data directory (${mountError})`);
  rmSync(base, { recursive: true, force: true });
}

/** Prints 32 KiB every 50 ms until its stop file exists, then a last line. */
const CHATTY = py(
  'import os, sys, time\nblock = ("z" * 1023 + "\\n") * 32\nn = 0\nwhile not os.path.exists(sys.argv[1]):\n    sys.stdout.write(block)\n    sys.stdout.flush()\n    n += 1\n    time.sleep(0.05)\nprint("done after", n, "blocks")\n',
  'chatty.py',
);
const QUICK = sh('echo quick\n', 'quick.sh');

/** Writes until the disk refuses, in big pieces and then small ones, then gives `leave` bytes back. */
function fillDisk(leave = 0): void {
  const fd = openSync(filler, 'w');
  try {
    for (const size of [1024 * 1024, 4096]) {
      const buf = Buffer.alloc(size, 1);
      try {
        for (;;) if (writeSync(fd, buf) < size) break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  if (leave > 0) truncateSync(filler, statSync(filler).size - leave);
}

async function stats(cluster: Cluster): Promise<Stats> {
  const res = await fetch(`http://127.0.0.1:${cluster.httpPort}/api/stats`, { headers: { authorization: `Bearer ${cluster.token}` } });
  return (await res.json()) as Stats;
}

describe.skipIf(mountError !== null)('a full disk under the master', () => {
  const cluster = new Cluster(['--data-dir', dataDir, '--min-free-mb', '8']);
  const stopChatty = join(cluster.dir, 'stop-chatty');
  let client: TitanClient;
  let chattyRef = '';
  let firstRunId = '';

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
    client = cluster.client();
  });
  afterAll(async () => {
    await cluster.stop();
    // Lazily: it goes even if something still holds a file there.
    execFileSync('umount', ['-l', disk]);
    rmSync(base, { recursive: true, force: true });
  });

  it('runs jobs before the disk fills', async () => {
    const first = await client.submit({ name: 'before', jobs: [{ id: 'quick', script: QUICK }] });
    firstRunId = first.runId;
    await waitRunStatus(client, first.runId, 'COMPLETED');
    expect((await stats(cluster)).disk?.low).toBe(false);
  });

  it('holds a commit that does not fit, serves reads and refuses new work meanwhile, and commits it once space is freed', async () => {
    // Room above the 1 MiB the store keeps in reserve, but not for this run's 2.4 MB of job specs.
    fillDisk(1536 * 1024);
    const jobs = Array.from({ length: 300 }, (_, i) => ({ id: `j${i}`, script: QUICK, args: ['x'.repeat(8000)], requirement: 'NOWHERE' }));
    let acknowledged = false;
    const big = client.submit({ name: 'big', jobs }).then((r) => {
      acknowledged = true;
      return r;
    });
    await eventually(() => cluster.master?.output().includes('holding the commit in flight'), 10_000, 'the commit to be held');
    expect(cluster.master?.output()).toContain(`the disk holding ${dataDir} is full (SQLITE_FULL)`);
    await expect(client.submit({ name: 'refused', jobs: [{ id: 'quick', script: QUICK }] })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(`^the submission was not accepted: the disk holding ${dataDir} is full \\(SQLITE_FULL\\): [\\d.]+ MiB free; try again once it is back$`),
    });
    const runs = await cluster.cli(['runs']);
    expect(runs.code).toBe(0);
    expect(runs.stdout).toContain(firstRunId);
    expect(acknowledged).toBe(false);

    unlinkSync(filler);
    const { runId } = await big;
    expect((await client.getRun(runId)).jobs).toHaveLength(300);
    await eventually(() => cluster.master?.output().includes('the store is back: the held commit went through'), 5_000, 'the master to say it goes on');
    expect(await client.cancelRun(runId)).toBe(300);
  });

  it('refuses submissions and data bus writes with UNAVAILABLE naming the disk, and stays up', async () => {
    const chatty = await client.submit({ name: 'chatty', jobs: [{ id: 'talk', script: CHATTY, args: [stopChatty] }] });
    chattyRef = `${chatty.runId}/talk`;
    await waitJob(client, chattyRef, 'RUNNING');
    fillDisk();
    // A script already on the master: the store refuses the run.
    await expect(client.submit({ name: 'refused', jobs: [{ id: 'quick', script: QUICK }] })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(`^the submission was not accepted: the disk holding ${dataDir} is full( \\([A-Z_]+\\))?: 0\\.0 MiB free; try again once it is back$`),
    });
    // A new script: its upload is refused.
    await expect(client.submit({ name: 'refused', jobs: [{ id: 'new', script: sh('echo new\n', 'new.sh') }] })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining(`the disk holding ${join(dataDir, 'blobs')} is full (ENOSPC)`),
    });
    await expect(client.set('key', 'value')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining(`the disk holding ${dataDir} is full`) });
    expect(pidAlive(cluster.master?.child.pid ?? 0)).toBe(true);
  });

  it('keeps serving reads, and warns below --min-free-mb', async () => {
    const runs = await cluster.cli(['runs']);
    expect(runs.code).toBe(0);
    expect(runs.stdout).toContain(firstRunId);
    const status = await cluster.cli(['status', `${firstRunId}/quick`]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('COMPLETED');
    const s = await cluster.cli(['stats']);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/WARNING: the master's data directory has .* free, below --min-free-mb \(8\.0 MiB\)/);
    const health = (await (await fetch(`http://127.0.0.1:${cluster.httpPort}/healthz`)).json()) as { status: string; disk: Stats['disk'] };
    expect(health).toMatchObject({ status: 'ok', disk: { low: true, minFreeBytes: 8 * 1024 * 1024, totalBytes: 32 * 1024 * 1024 } });
    await eventually(() => cluster.master?.output().includes(`warning: the disk holding ${dataDir} has 0.0 MiB free, below --min-free-mb 8`), 10_000, 'the low-space warning');
  });

  it("marks a running job's output that did not fit, and titan logs exits 1 saying so", async () => {
    const gaps = await eventually(async () => (await client.logGaps(chattyRef)).lost, 10_000, 'output to be lost');
    expect(gaps.bytes).toBeGreaterThan(0);
    expect(gaps.reason).toContain(`the disk holding ${join(dataDir, 'logs')} is full (ENOSPC)`);
    const logs = await cluster.cli(['logs', chattyRef]);
    expect(logs.code).toBe(1);
    expect(logs.stderr).toMatch(new RegExp(`^titan logs: ${chattyRef}: \\d+ bytes of the output of attempt 1 are missing: the master could not store them \\(the disk holding .* is full \\(ENOSPC\\)`, 'm'));
    expect(cluster.master?.output()).toContain(`the output of ${chattyRef} (attempt 1) could not be stored`);
    const job = (await client.getJob(chattyRef)).job;
    expect(job.status).toBe('RUNNING');
  });

  it('resumes by itself once space is freed: submissions work, runs complete, the gap is noted in the log', async () => {
    unlinkSync(filler);
    const again = await eventually(() => client.submit({ name: 'after', jobs: [{ id: 'quick', script: QUICK }] }), 10_000, 'a submission to be accepted');
    await waitRunStatus(client, again.runId, 'COMPLETED');
    expect((await client.set('key', 'value')) > 0).toBe(true);

    writeFileSync(stopChatty, '');
    await waitJob(client, chattyRef, 'COMPLETED');
    const logs = await cluster.cli(['logs', chattyRef]);
    // What was lost stays reported.
    expect(logs.code).toBe(1);
    expect(logs.stdout).toMatch(/\n\[titan: \d+ bytes of output could not be stored: the disk holding .* is full \(ENOSPC\): [\d.]+ MiB free\]\n/);
    expect(logs.stdout).toMatch(/done after \d+ blocks\n$/);
    await eventually(async () => (await stats(cluster)).disk?.low === false, 10_000, 'the disk to be reported as no longer low');
    expect(cluster.master?.output()).toContain(`the disk holding ${dataDir} has`);
    expect(cluster.master?.output()).toMatch(/free again, above --min-free-mb 8/);
  });

  it('leaves an intact database', async () => {
    const master = cluster.master;
    if (!master) throw new Error('no master');
    const exited = new Promise<number | null>((resolve) => master.child.once('exit', (code) => resolve(code)));
    await kill(master, 'SIGTERM');
    expect(await exited).toBe(0);
    const db = new Database(join(dataDir, 'titan.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare('SELECT COUNT(*) AS n FROM runs').get()).toEqual({ n: 4 });
      expect(db.prepare('SELECT COUNT(*) AS n FROM jobs').get()).toEqual({ n: 303 });
    } finally {
      db.close();
    }
  });
});
