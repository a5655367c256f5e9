/**
 * A worker's life and death as the master and its jobs see them: the process groups a worker
 * killed -9 (with its reaper) leaves behind are stopped by its next life before it joins.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster, eventually, pidAlive } from '../helpers/cluster.js';
import { killNine, readPidFile, sleep } from '../helpers/faults.js';
import { reaperOf } from '../helpers/processes.js';
import { sh } from '../helpers/scripts.js';

/**
 * `held.sh <pid-file>`: records "<job> <attempt> <worker> <bash pid> <sleep pid>", then sleeps in a
 * child process: a minute at its first attempt, not at all after that.
 */
const HELD = sh('sleep "$([ "$TITAN_ATTEMPT" = 1 ] && echo 60 || echo 0)" &\necho "$TITAN_JOB_ID $TITAN_ATTEMPT $TITAN_WORKER_ID $$ $!" >> "$1"\nwait\n', 'held.sh');

let cluster: Cluster | null = null;
/** Process groups of the tests' own jobs, killed after each test should the worker have left them. */
const jobGroups = new Set<number>();

afterEach(async () => {
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

describe('worker lifecycle', () => {
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
});
