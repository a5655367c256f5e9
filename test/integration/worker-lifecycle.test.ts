/**
 * A worker's life and death as the master and its jobs see them: a drain for shutdown hands back
 * what outlives its grace, an undrain lets a drained worker work again, the process groups a worker
 * killed -9 (with its reaper) leaves behind are stopped by its next life before it joins, and a
 * worker cut off from the master for longer than allowed stops its jobs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TitanClient } from '../../src/sdk/client.js';
import { ConflictError } from '../../src/sdk/errors.js';
import { Cluster, eventually, pidAlive, type Proc, waitForOutput } from '../helpers/cluster.js';
import { CuttableProxy, killNine, readPidFile, sleep, startWorkerVia } from '../helpers/faults.js';
import { reaperOf } from '../helpers/processes.js';
import { refusal, sh, waitJob } from '../helpers/scripts.js';

/**
 * `held.sh <pid-file>`: records "<job> <attempt> <worker> <bash pid> <sleep pid>", then sleeps in a
 * child process: a minute at its first attempt, not at all after that.
 */
const HELD = sh('sleep "$([ "$TITAN_ATTEMPT" = 1 ] && echo 60 || echo 0)" &\necho "$TITAN_JOB_ID $TITAN_ATTEMPT $TITAN_WORKER_ID $$ $!" >> "$1"\nwait\n', 'held.sh');

let cluster: Cluster | null = null;
let proxy: CuttableProxy | null = null;
/** Process groups of the tests' own jobs, killed after each test should the worker have left them. */
const jobGroups = new Set<number>();

afterEach(async () => {
  await proxy?.close();
  proxy = null;
  await cluster?.stop();
  cluster = null;
  for (const pgid of jobGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  jobGroups.clear();
});

async function newCluster(masterArgs: string[] = []): Promise<Cluster> {
  const c = new Cluster(masterArgs);
  cluster = c;
  await c.startMaster();
  return c;
}

/** The processes of the job's first attempt, once it runs (and registered for cleanup). */
async function firstAttemptPids(pidFile: string): Promise<number[]> {
  const started = await eventually(() => readPidFile(pidFile).find((r) => r.attempt === 1), 20_000, 'the job to start');
  const group = started.pids[0] ?? expect.unreachable('no process group recorded');
  jobGroups.add(group);
  return started.pids;
}

/** The job's attempts as [attempt, worker, outcome], once it has completed. */
async function completedAttempts(client: TitanClient, ref: string): Promise<[number, string, string | null][]> {
  const job = await waitJob(client, ref, 'COMPLETED');
  expect(job.attempt).toBeGreaterThan(1);
  return (await client.getJob(ref)).attempts.map((a) => [a.attempt, a.workerId, a.outcome]);
}

const exitOf = (proc: Proc): Promise<number | null> => new Promise((resolve) => proc.child.once('exit', (code) => resolve(code)));

describe('worker lifecycle', () => {
  it('a shutdown with --drain-timeout hands back the job still running when the grace ends: it runs again elsewhere, no retry spent', { timeout: 60_000 }, async () => {
    const c = await newCluster();
    const a = await c.startWorker({ port: 8100 });
    const pidFile = join(c.dir, 'pids.txt');
    const client = c.client();
    const { runId } = await client.submit({ name: 'handback', jobs: [{ id: 'long', script: HELD, args: [pidFile], retries: 0 }] });
    const ref = `${runId}/long`;
    const pids = await firstAttemptPids(pidFile);
    await c.startWorker({ port: 8101 });

    const exited = exitOf(a);
    const asked = Date.now();
    const r = await c.cli(['workers', 'shutdown', '127.0.0.1:8100', '--drain-timeout', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('handing back what still runs after 2 s');
    expect(await exited).toBe(0);
    // Not before the grace, and not long after it (the kill grace of the executor is 2 s).
    expect(Date.now() - asked).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - asked).toBeLessThan(8000);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(a.output()).toMatch(/the drain's grace of 2 s ended: handing back 1 running attempt/);

    expect(await completedAttempts(client, ref)).toEqual([
      [1, '127.0.0.1:8100', 'LOST'],
      [2, '127.0.0.1:8101', 'COMPLETED'],
    ]);
    const { job, attempts } = await client.getJob(ref);
    expect(attempts[0]?.error).toBe('handed back: the worker drained and its grace of 2 s ended');
    // `retries: 0` and still COMPLETED: the handed-back attempt spent none.
    expect(job).toMatchObject({ status: 'COMPLETED', lost: 1 });
  });

  it('an undrained worker takes jobs again; one that is shutting down cannot be undrained', { timeout: 60_000 }, async () => {
    const c = await newCluster();
    const worker = await c.startWorker({ port: 8100 });
    const client = c.client();
    const drained = await c.cli(['workers', 'drain', '127.0.0.1:8100']);
    expect(drained.code, drained.stderr).toBe(0);
    const { runId } = await client.submit({ name: 'waits', jobs: [{ id: 'quick', script: sh('echo ran\n'), retries: 0 }] });
    await sleep(500);
    expect((await client.getJob(`${runId}/quick`)).job.status).toBe('QUEUED');

    const undrained = await c.cli(['workers', 'undrain', '127.0.0.1:8100']);
    expect(undrained.code, undrained.stderr).toBe(0);
    expect(undrained.stdout).toContain('127.0.0.1:8100 takes work again');
    await waitJob(client, `${runId}/quick`, 'COMPLETED');
    expect((await client.workers()).map((w) => [w.id, w.state])).toEqual([['127.0.0.1:8100', 'connected']]);
    await waitForOutput(worker, /undrained by the master: taking work again/, 5000);

    // Shutting down with a job to finish: the worker is still there, and stays on its way out.
    const pidFile = join(c.dir, 'pids.txt');
    const long = await client.submit({ name: 'long', jobs: [{ id: 'long', script: HELD, args: [pidFile] }] });
    await firstAttemptPids(pidFile);
    expect((await c.cli(['workers', 'shutdown', '127.0.0.1:8100', '--drain-timeout', '60'])).code).toBe(0);
    const refused = await c.cli(['workers', 'undrain', '127.0.0.1:8100']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/worker 127\.0\.0\.1:8100 is shutting down and cannot take work again.*\[CONFLICT\]/);
    expect(await refusal(client.undrainWorker('127.0.0.1:8100'))).toBeInstanceOf(ConflictError);
    expect((await client.workers()).map((w) => [w.state, w.exiting])).toEqual([['draining', true]]);
    expect((await client.getJob(`${long.runId}/long`)).job.status).toBe('RUNNING');
  });

  it('a restarted worker stops the process groups its previous life left running before it joins the master', { timeout: 60_000 }, async () => {
    const c = await newCluster();
    const workDir = join(c.dir, 'worker-kept');
    const worker = await c.startWorker({ port: 8100, workDir });
    const pidFile = join(c.dir, 'pids.txt');
    const client = c.client();
    const { runId } = await client.submit({ name: 'orphans', jobs: [{ id: 'held', script: HELD, args: [pidFile], retries: 0 }] });
    const [started] = await eventually(() => (readPidFile(pidFile).length === 1 ? readPidFile(pidFile) : null), 20_000, 'the job to start');
    const orphans = started?.pids ?? expect.unreachable('no pids recorded');
    const group = orphans[0] ?? expect.unreachable('no process group recorded');
    jobGroups.add(group);

    // Both the worker and its orphan reaper die without a word: nothing stops the job's processes.
    const workerPid = worker.child.pid ?? expect.unreachable('no worker pid');
    const reapers = reaperOf(workerPid);
    expect(reapers).toHaveLength(1);
    const reaper = reapers[0] ?? expect.unreachable('no reaper');
    process.kill(reaper, 'SIGKILL');
    await eventually(() => !pidAlive(reaper), 5000, 'the reaper to die');
    await killNine(worker.child);
    await sleep(500);
    expect(orphans.every(pidAlive)).toBe(true);

    const restarted = await c.startWorker({ port: 8100, workDir });
    // By the time it has joined, the old attempt's whole group is gone.
    expect(orphans.filter(pidAlive)).toEqual([]);
    const out = restarted.output();
    const stopped = out.indexOf(`stopped leftover attempt ${runId}/held#1 (process group ${group})`);
    expect(stopped, out).toBeGreaterThanOrEqual(0);
    expect(stopped).toBeLessThan(out.indexOf('joined master'));

    // The master hears the worker came back without the attempt: it runs again without spending a retry.
    const job = await eventually(async () => {
      const j = await client.getJob(`${runId}/held`);
      return j.job.status === 'COMPLETED' ? j : null;
    }, 20_000, 'the job to complete');
    expect(job.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'LOST'],
      [2, 'COMPLETED'],
    ]);
  });

  it('a worker cut off for longer than --stop-after-disconnect stops its job, and reports it lost once it is back', { timeout: 60_000 }, async () => {
    const c = await newCluster();
    const p = new CuttableProxy(() => c.port);
    proxy = p;
    await p.listen();
    const worker = await startWorkerVia(c, p.port, 4, { port: 8100, args: ['--stop-after-disconnect', '2'] });
    const pidFile = join(c.dir, 'pids.txt');
    const go = join(c.dir, 'go');
    const client = c.client();
    // `brief` ends, with its last words, while the worker is cut off: before the stop, so it stands.
    const brief = sh('echo "waiting"\nwhile [ ! -e "$1" ]; do sleep 0.05; done\necho "finished while cut off"\n', 'brief.sh');
    const { runId } = await client.submit({
      name: 'cut-off',
      jobs: [
        { id: 'long', script: HELD, args: [pidFile], retries: 0 },
        { id: 'brief', script: brief, args: [go], retries: 0 },
      ],
    });
    const pids = await firstAttemptPids(pidFile);
    await eventually(async () => (await client.logs(`${runId}/brief`)).includes('waiting'), 10_000, 'brief to start');

    p.refusing = true;
    expect(p.cut()).toBe(1);
    const cutAt = Date.now();
    writeFileSync(go, '');
    await eventually(() => pids.every((pid) => !pidAlive(pid)), 5000, 'the job to be stopped');
    expect(Date.now() - cutAt).toBeLessThan(3500);
    expect(worker.output()).toMatch(/the master has been unreachable for 2 s: stopping 1 running attempt/);
    // The master, whose worker timeout (10 s) has not passed, still counts the attempt as running.
    expect((await client.getJob(`${runId}/long`)).job).toMatchObject({ status: 'RUNNING', attempt: 1 });

    p.refusing = false;
    expect(await completedAttempts(client, `${runId}/long`)).toEqual([
      [1, '127.0.0.1:8100', 'LOST'],
      [2, '127.0.0.1:8100', 'COMPLETED'],
    ]);
    expect((await client.getJob(`${runId}/long`)).attempts[0]?.error).toBe('stopped: the master was unreachable for 2 s');
    // What it wrote while the master was unreachable arrived with its result.
    expect((await client.getJob(`${runId}/brief`)).attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'COMPLETED']]);
    expect(await client.logs(`${runId}/brief`)).toBe('waiting\nfinished while cut off\n');
  });

  it("by default a cut-off worker stops its job after the master's worker timeout; the master, which re-ran it elsewhere, ignores the late report", { timeout: 60_000 }, async () => {
    const c = await newCluster(['--worker-timeout', '3']);
    const p = new CuttableProxy(() => c.port);
    proxy = p;
    await p.listen();
    const cutOff = await startWorkerVia(c, p.port, 4, { port: 8100 });
    const pidFile = join(c.dir, 'pids.txt');
    const client = c.client();
    const { runId } = await client.submit({ name: 'cut-off', jobs: [{ id: 'long', script: HELD, args: [pidFile], retries: 0 }] });
    const pids = await firstAttemptPids(pidFile);
    await c.startWorker({ port: 8101 });

    p.refusing = true;
    expect(p.cut()).toBe(1);
    const cutAt = Date.now();
    await eventually(() => pids.every((pid) => !pidAlive(pid)), 8000, 'the job to be stopped');
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(1000);
    expect(cutOff.output()).toMatch(/the master has been unreachable for 3 s: stopping 1 running attempt/);
    const attempts = await completedAttempts(client, `${runId}/long`);
    expect(attempts).toEqual([
      [1, '127.0.0.1:8100', 'LOST'],
      [2, '127.0.0.1:8101', 'COMPLETED'],
    ]);

    // Back: its report of the attempt the master gave away is ignored, and nothing breaks.
    p.refusing = false;
    await waitForOutput(cutOff, /joined master(.|\n)*joined master/, 15_000);
    await eventually(async () => (await client.workers()).filter((w) => w.state === 'connected').length === 2, 10_000, 'both workers connected');
    await sleep(500);
    const after = await client.getJob(`${runId}/long`);
    expect(after.attempts.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual(attempts);
    expect(after.attempts[0]?.error).toMatch(/worker 127\.0\.0\.1:8100 stopped responding/);
    expect((await client.stats()).workers.connected).toBe(2);
  });
});
