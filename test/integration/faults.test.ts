/**
 * Fault injection against real master and worker processes. Every job leaves its id in an append
 * file with one O_APPEND write as its very last action, so the file tells exactly how many times
 * each job's work was done: the central promise is "every job once, none lost, none twice".
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobInput, TitanClient } from '../../src/sdk/client.js';
import type { JobView } from '../../src/protocol/methods.js';
import { Cluster, eventually, pidAlive, type Proc } from '../helpers/cluster.js';
import {
  APPEND_SCRIPT,
  CuttableProxy,
  frameHeader,
  garbagePayloads,
  jobsById,
  killNine,
  LONG_SCRIPT,
  notExactlyOnce,
  readLines,
  readPidFile,
  sleep,
  startWorkerVia,
  throwAt,
  waitRunDone,
  workerIndex,
} from '../helpers/faults.js';

let cluster: Cluster | null = null;
let proxy: CuttableProxy | null = null;

/** Each job completed at its first attempt, and its work (one line in the append file) happened once. */
async function expectEachRanOnce(client: TitanClient, runId: string, ids: readonly string[], appendFile: string): Promise<void> {
  for (const id of ids) {
    const { attempts } = await client.getJob(`${runId}/${id}`);
    expect(attempts.map((a) => [a.attempt, a.outcome]), id).toEqual([[1, 'COMPLETED']]);
  }
  expect(notExactlyOnce(ids, readLines(appendFile))).toEqual({});
}

/**
 * A master and one 4-slot worker that reaches it through a proxy the test can cut, strand or
 * black-hole; both are registered for cleanup.
 */
async function proxiedCluster(masterArgs: string[] = []): Promise<{ c: Cluster; p: CuttableProxy; worker: Proc }> {
  const c = new Cluster(masterArgs);
  cluster = c;
  await c.startMaster();
  const p = new CuttableProxy(() => c.port);
  proxy = p;
  await p.listen();
  const worker = await startWorkerVia(c, p.port, 4);
  return { c, p, worker };
}

afterEach(async () => {
  await proxy?.close();
  proxy = null;
  await cluster?.stop();
  cluster = null;
});

async function newCluster(masterArgs: string[], workers: number, slots = 4): Promise<Cluster> {
  const c = new Cluster(masterArgs);
  cluster = c;
  await c.startMaster();
  for (let i = 0; i < workers; i++) await c.startWorker({ slots });
  return c;
}

/** A layered DAG: job L<l>-<i> waits for L<l-1>-<i> and L<l-1>-<i+1 mod width>. */
function layeredDag(layers: number, width: number, appendFile: string, sleepMs: (l: number, i: number) => number): JobInput[] {
  const id = (l: number, i: number): string => `L${String(l).padStart(2, '0')}-${i}`;
  const jobs: JobInput[] = [];
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      jobs.push({
        id: id(l, i),
        script: APPEND_SCRIPT,
        args: [id(l, i), (sleepMs(l, i) / 1000).toFixed(3), appendFile],
        dependsOn: l === 0 ? [] : [...new Set([id(l - 1, i), id(l - 1, (i + 1) % width)])],
      });
    }
  }
  return jobs;
}

/** Every job's id is in the file after the ids of all its parents. */
function orderViolations(jobs: readonly JobInput[], lines: readonly string[]): string[] {
  const position = new Map(lines.map((l, i) => [l, i]));
  const bad: string[] = [];
  for (const job of jobs) {
    for (const parent of job.dependsOn ?? []) {
      if ((position.get(job.id) ?? -1) <= (position.get(parent) ?? Infinity)) bad.push(`${job.id} before ${parent}`);
    }
  }
  return bad;
}

const summary = (jobs: readonly JobView[]): string => JSON.stringify(jobs.filter((j) => j.status !== 'COMPLETED' || j.attempt !== 1).map((j) => ({ id: j.spec.id, status: j.status, attempt: j.attempt, worker: j.workerId, error: j.error })));

/**
 * Every crash test runs with the default retries and with none: an attempt lost to the
 * infrastructure (a dead worker, a dispatch never delivered, a connection dropped) is run again
 * without spending a retry, so a `retries: 0` job completes all the same.
 */
describe.each([3, 0])('fault injection (retries: %i)', (retries) => {
  const submit = (client: TitanClient, input: { name: string; jobs: JobInput[] }): Promise<{ runId: string }> => client.submit({ ...input, jobs: input.jobs.map((j) => ({ ...j, retries })) });

  it('finishes a 200-job DAG exactly once when the master is killed -9 in the middle and restarted', { timeout: 120_000 }, async () => {
    const c = await newCluster(['--reclaim-grace', '5'], 2, 4);
    const appendFile = join(c.dir, 'append.txt');
    const jobs = layeredDag(20, 10, appendFile, (l, i) => 50 + ((l * 37 + i * 61) % 101));
    const ids = jobs.map((j) => j.id);
    const client = c.client();
    const { runId } = await submit(client, { name: 'master-kill', jobs });

    await eventually(() => readLines(appendFile).length >= 67, 60_000, 'a third of the jobs to complete');
    const firstMaster = c.master ?? expect.unreachable('no master');
    await killNine(firstMaster.child);
    const killedAt = Date.now();
    const atKill = readLines(appendFile).length;
    expect(atKill).toBeLessThan(180); // the kill really happened mid-run
    client.close();

    await sleep(1000); // attempts keep finishing on the workers while the master is down
    await c.startMaster();
    const after = c.client();
    const final = await waitRunDone(after, runId, 90_000);

    const lines = readLines(appendFile);
    const wrong = notExactlyOnce(ids, lines);
    const details = await Promise.all(Object.keys(wrong).map(async (id) => ({ id, attempts: (await after.getJob(`${runId}/${id}`)).attempts })));
    expect(wrong, `${JSON.stringify(details)}\n--- first master:\n${firstMaster.output()}\n--- second master:\n${c.master?.output()}\n--- workers:\n${c.workers.map((w) => w.output()).join('\n---\n')}`).toEqual({});
    expect(lines).toHaveLength(200);
    expect(orderViolations(jobs, lines)).toEqual([]);
    expect(final.jobs.filter((j) => j.status !== 'COMPLETED').map((j) => `${j.spec.id}:${j.status}`)).toEqual([]);
    expect(final.run.status).toBe('COMPLETED');
    // Attempts were in flight across the restart, and their results were accepted afterwards.
    const spanning = final.jobs.filter((j) => (j.startedAt ?? Infinity) < killedAt && (j.finishedAt ?? 0) > killedAt);
    expect(spanning.length).toBeGreaterThan(0);
  });

  it('re-runs the attempts of a worker killed -9 on the survivor, reaps its orphans and re-runs nothing that completed', { timeout: 120_000 }, async () => {
    const timeoutS = 4;
    const c = await newCluster(['--worker-timeout', String(timeoutS)], 2, 4);
    const appendFile = join(c.dir, 'append.txt');
    const pidFile = join(c.dir, 'pids.txt');
    const quick = ['q0', 'q1', 'q2', 'q3'];
    const long = ['l0', 'l1', 'l2', 'l3'];
    const client = c.client();
    const { runId } = await submit(client, {
      name: 'worker-kill',
      jobs: [
        ...quick.map((id) => ({ id, script: APPEND_SCRIPT, args: [id, '0.1', appendFile] })),
        ...long.map((id) => ({ id, script: LONG_SCRIPT, args: [id, '4', appendFile, pidFile] })),
      ],
    });

    const before = await eventually(
      async () => {
        const view = await client.getRun(runId);
        const byId = jobsById(view);
        const quickDone = quick.every((id) => byId.get(id)?.status === 'COMPLETED');
        const longRunning = long.every((id) => byId.get(id)?.status === 'RUNNING');
        return quickDone && longRunning && readPidFile(pidFile).length === long.length ? byId : null;
      },
      30_000,
      'quick jobs completed and long jobs running',
    );
    // The victim: a worker that runs long jobs, preferably one that also completed a quick job.
    const workerOf = (id: string): string => before.get(id)?.workerId ?? '';
    const candidates = [...new Set(long.map(workerOf))];
    const victim = candidates.find((w) => quick.some((q) => workerOf(q) === w)) ?? (candidates[0] as string);
    const survivor = [...new Set([...quick, ...long].map(workerOf))].find((w) => w !== victim) ?? expect.unreachable('every job ran on one worker');
    expect(victim).not.toBe(survivor);
    const victimLong = long.filter((id) => workerOf(id) === victim);
    const victimQuick = quick.filter((id) => workerOf(id) === victim);
    expect(victimLong.length).toBeGreaterThan(0);
    expect(victimQuick.length).toBeGreaterThan(0);
    const orphans = readPidFile(pidFile)
      .filter((r) => r.workerId === victim)
      .flatMap((r) => r.pids);
    expect(orphans.length).toBe(victimLong.length * 2);
    expect(orphans.every(pidAlive)).toBe(true);

    const victimProc = c.workers[workerIndex(victim)] ?? expect.unreachable(`no worker process for ${victim}`);
    await killNine(victimProc.child);
    const killedAt = Date.now();

    // The reaper takes the attempt groups down with the worker, before they would have ended by
    // themselves (4 s after their attempts started).
    await eventually(() => orphans.every((pid) => !pidAlive(pid)), 2_500, `orphans ${orphans.join(',')} to die`);
    const naturalEnd = Math.min(...victimLong.map((id) => before.get(id)?.startedAt ?? 0)) + 4000;
    expect(Date.now()).toBeLessThan(naturalEnd);

    // Re-dispatch on the survivor within the liveness timeout, plus sweep, backoff and slack.
    await eventually(
      () => {
        const started = readPidFile(pidFile).filter((r) => r.attempt === 2);
        return victimLong.every((id) => started.some((r) => r.id === id && r.workerId === survivor));
      },
      (timeoutS + 5) * 1000,
      'the lost attempts to start again on the survivor',
    );
    expect(Date.now() - killedAt).toBeLessThan((timeoutS + 5) * 1000);

    const final = await waitRunDone(client, runId, 30_000);
    expect(final.run.status).toBe('COMPLETED');
    const byId = jobsById(final);
    for (const id of victimLong) {
      expect(byId.get(id)).toMatchObject({ status: 'COMPLETED', attempt: 2, workerId: survivor });
      const { attempts } = await client.getJob(`${runId}/${id}`);
      expect(attempts.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual([
        [1, victim, 'LOST'],
        [2, survivor, 'COMPLETED'],
      ]);
    }
    for (const id of [...quick, ...long.filter((l) => !victimLong.includes(l))]) {
      expect(byId.get(id)).toMatchObject({ status: 'COMPLETED', attempt: 1 });
    }
    // No job that completed before the kill ran again; the lost ones finished once, on the survivor.
    expect(notExactlyOnce([...quick, ...long], readLines(appendFile))).toEqual({});
    expect(readPidFile(pidFile).filter((r) => r.attempt > 2 || (r.attempt === 2 && !victimLong.includes(r.id)))).toEqual([]);
  });

  it('keeps attempt 1 of every job when the master restarts under running work (reclaimed, not re-run)', { timeout: 120_000 }, async () => {
    const c = await newCluster(['--reclaim-grace', '10'], 2, 4);
    const appendFile = join(c.dir, 'append.txt');
    const pidFile = join(c.dir, 'pids.txt');
    // Short jobs finish while the master is down (their results wait on the worker); long ones
    // are still running when the workers reconnect.
    const short = ['s0', 's1', 's2', 's3'];
    const long = ['l0', 'l1', 'l2', 'l3'];
    const ids = [...short, ...long];
    const client = c.client();
    const { runId } = await submit(client, {
      name: 'master-restart',
      jobs: ids.map((id) => ({ id, script: LONG_SCRIPT, args: [id, short.includes(id) ? '1' : '5', appendFile, pidFile] })),
    });
    await eventually(() => readPidFile(pidFile).length === ids.length, 30_000, 'every job to start');
    const startedOn = new Map(readPidFile(pidFile).map((r) => [r.id, r.workerId]));
    await killNine((c.master ?? expect.unreachable('no master')).child);
    client.close();
    await eventually(() => short.every((id) => readLines(appendFile).includes(id)), 10_000, 'the short jobs to finish while the master is down');
    await c.startMaster();
    const after = c.client();
    const final = await waitRunDone(after, runId, 60_000);

    expect(summary(final.jobs)).toBe('[]');
    expect(final.run.status).toBe('COMPLETED');
    for (const id of ids) {
      const { attempts } = await after.getJob(`${runId}/${id}`);
      expect(attempts.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual([[1, startedOn.get(id), 'COMPLETED']]);
    }
    expect(notExactlyOnce(ids, readLines(appendFile))).toEqual({});
    expect(readPidFile(pidFile)).toHaveLength(ids.length);
  });

  it('runs again, only after the reclaim grace, the attempts of a worker that did not come back after a master restart', { timeout: 120_000 }, async () => {
    const graceS = 4;
    const c = await newCluster(['--reclaim-grace', String(graceS)], 2, 2);
    const appendFile = join(c.dir, 'append.txt');
    const pidFile = join(c.dir, 'pids.txt');
    const ids = ['j0', 'j1', 'j2', 'j3'];
    const client = c.client();
    const { runId } = await submit(client, { name: 'no-comeback', jobs: ids.map((id) => ({ id, script: LONG_SCRIPT, args: [id, '2.5', appendFile, pidFile] })) });
    await eventually(() => readPidFile(pidFile).length === ids.length, 30_000, 'every job to start');
    const first = readPidFile(pidFile);
    const victim = '127.0.0.1:8101';
    const survivor = '127.0.0.1:8100';
    const lostIds = first.filter((r) => r.workerId === victim).map((r) => r.id);
    expect(lostIds).toHaveLength(2);

    await killNine((c.master ?? expect.unreachable('no master')).child);
    await killNine((c.workers[1] ?? expect.unreachable('no second worker')).child);
    client.close();
    const restartAt = Date.now();
    await c.startMaster();
    const after = c.client();
    const final = await waitRunDone(after, runId, 60_000);

    expect(final.run.status).toBe('COMPLETED');
    for (const id of ids) {
      const { attempts } = await after.getJob(`${runId}/${id}`);
      if (!lostIds.includes(id)) {
        expect(attempts.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual([[1, survivor, 'COMPLETED']]);
        continue;
      }
      expect(attempts.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual([
        [1, victim, 'LOST'],
        [2, survivor, 'COMPLETED'],
      ]);
      expect(attempts[0]?.error).toContain('did not reclaim');
      // Not re-dispatched while its worker might still have come back with it.
      expect(attempts[1]?.startedAt ?? 0).toBeGreaterThanOrEqual(restartAt + graceS * 1000);
    }
    expect(notExactlyOnce(ids, readLines(appendFile))).toEqual({});
  });

  it('runs every job once when the master is killed -9 while its dispatches are still on the way', { timeout: 120_000 }, async () => {
    const c = await newCluster(['--reclaim-grace', '5'], 1, 64);
    const appendFile = join(c.dir, 'append.txt');
    const ids = Array.from({ length: 300 }, (_, i) => `j${String(i).padStart(3, '0')}`);
    const client = c.client();
    const { runId } = await submit(client, { name: 'dispatch-kill', jobs: ids.map((id) => ({ id, script: APPEND_SCRIPT, args: [id, '0.05', appendFile] })) });
    // Dispatches are committed before they are sent: a kill now leaves some committed and unsent.
    await killNine((c.master ?? expect.unreachable('no master')).child);
    client.close();
    await c.startMaster();
    const after = c.client();
    const final = await waitRunDone(after, runId, 90_000);
    expect(final.jobs.filter((j) => j.status !== 'COMPLETED').map((j) => `${j.spec.id}:${j.status}:${j.error}`)).toEqual([]);
    expect(final.run.status).toBe('COMPLETED');
    expect(notExactlyOnce(ids, readLines(appendFile))).toEqual({});
  });

  it('runs the jobs of a frozen worker (SIGSTOP) elsewhere, and a job it held completes whatever its retries', { timeout: 120_000 }, async () => {
    const timeoutS = 3;
    const c = await newCluster(['--worker-timeout', String(timeoutS)], 2, 2);
    const appendFile = join(c.dir, 'append.txt');
    const pidFile = join(c.dir, 'pids.txt');
    const ids = ['a0', 'a1', 'a2', 'a3'];
    const client = c.client();
    const { runId } = await submit(client, { name: 'frozen', jobs: ids.map((id) => ({ id, script: LONG_SCRIPT, args: [id, '6', appendFile, pidFile] })) });
    await eventually(() => readPidFile(pidFile).length === ids.length, 30_000, 'every job to start');
    const victim = '127.0.0.1:8101';
    const frozen = readPidFile(pidFile).filter((r) => r.workerId === victim);
    expect(frozen).toHaveLength(2);
    const victimProc = c.workers[workerIndex(victim)] ?? expect.unreachable('no victim');
    const pid = victimProc.child.pid ?? expect.unreachable('no pid');
    process.kill(pid, 'SIGSTOP');
    try {
      await eventually(async () => (await client.workers()).every((w) => w.id !== victim), (timeoutS + 4) * 1000, 'the frozen worker to be declared dead');
      await eventually(() => frozen.every((r) => readPidFile(pidFile).some((s) => s.id === r.id && s.attempt === 2)), 15_000, 'the frozen jobs to start again elsewhere');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const final = await waitRunDone(client, runId, 60_000);
    expect(final.jobs.map((j) => `${j.spec.id}:${j.status}`)).toEqual(ids.map((id) => `${id}:COMPLETED`));
    for (const r of frozen) {
      const { attempts } = await client.getJob(`${runId}/${r.id}`);
      expect(attempts.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual([
        [1, victim, 'LOST'],
        [2, '127.0.0.1:8100', 'COMPLETED'],
      ]);
    }
    // Only jobs that were genuinely running on the frozen worker may have finished twice.
    const counts = readLines(appendFile).reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<string, number>());
    for (const id of ids) expect(counts.get(id) ?? 0, id).toBeGreaterThanOrEqual(1);
    for (const id of ids.filter((i) => !frozen.some((r) => r.id === i))) expect(counts.get(id), id).toBe(1);
  });

  it('runs again elsewhere, without spending a retry, the dispatches a one-way loss kept from the worker', { timeout: 120_000 }, async () => {
    const { c, p, worker } = await proxiedCluster();
    await c.startWorker({ slots: 4 });
    const appendFile = join(c.dir, 'append.txt');
    const client = c.client();
    await eventually(async () => (await client.workers()).length === 2, 10_000, 'both workers');
    // From now on nothing the master sends reaches the proxied worker; its heartbeats still arrive.
    expect(p.muteToWorker()).toBe(1);
    const ids = Array.from({ length: 16 }, (_, i) => `m${i}`);
    const { runId } = await submit(client, { name: 'one-way', jobs: ids.map((id) => ({ id, script: APPEND_SCRIPT, args: [id, '0.2', appendFile] })) });
    const final = await waitRunDone(client, runId, 60_000);
    expect(final.jobs.filter((j) => j.status !== 'COMPLETED').map((j) => `${j.spec.id}:${j.status}:${j.error}`), worker.output()).toEqual([]);
    expect(notExactlyOnce(ids, readLines(appendFile))).toEqual({});
    // Some dispatches went to the muted worker and were lost, never started.
    const lost = (await Promise.all(ids.map(async (id) => (await client.getJob(`${runId}/${id}`)).attempts))).flat().filter((a) => a.outcome === 'LOST');
    expect(lost.length).toBeGreaterThan(0);
  });

  it('keeps attempt 1 of every job when only the network between a worker and the master drops', { timeout: 120_000 }, async () => {
    const { c, p } = await proxiedCluster();
    const appendFile = join(c.dir, 'append.txt');
    const pidFile = join(c.dir, 'pids.txt');
    const short = ['s0', 's1'];
    const long = ['l0', 'l1'];
    const ids = [...short, ...long];
    const client = c.client();
    const { runId } = await submit(client, {
      name: 'network-drop',
      jobs: ids.map((id) => ({ id, script: LONG_SCRIPT, args: [id, short.includes(id) ? '0.8' : '4', appendFile, pidFile] })),
    });
    await eventually(() => readPidFile(pidFile).length === ids.length, 30_000, 'every job to start');

    p.refusing = true;
    expect(p.cut()).toBe(1);
    await eventually(() => short.every((id) => readLines(appendFile).includes(id)), 10_000, 'the short jobs to finish while disconnected');
    const workers = await client.workers();
    expect(workers.map((w) => w.state)).toEqual(['disconnected']);
    await sleep(300);
    p.refusing = false;
    await eventually(async () => (await client.workers()).every((w) => w.state === 'connected'), 15_000, 'the worker to reconnect');

    const final = await waitRunDone(client, runId, 30_000);
    expect(summary(final.jobs)).toBe('[]');
    expect(final.run.status).toBe('COMPLETED');
    await expectEachRanOnce(client, runId, ids, appendFile);
    expect(readPidFile(pidFile)).toHaveLength(ids.length);
    expect(p.connections).toBeGreaterThanOrEqual(2);
  });

  it('lets a worker whose old connection is half-open (the master has not noticed) rejoin at once and keep its attempts', { timeout: 120_000 }, async () => {
    const timeoutS = 6;
    const { c, p, worker } = await proxiedCluster(['--worker-timeout', String(timeoutS)]);
    const appendFile = join(c.dir, 'append.txt');
    const pidFile = join(c.dir, 'pids.txt');
    const ids = ['s0', 's1', 'l0', 'l1'];
    const client = c.client();
    const { runId } = await submit(client, {
      name: 'half-open',
      jobs: ids.map((id) => ({ id, script: LONG_SCRIPT, args: [id, id.startsWith('s') ? '0.8' : '4', appendFile, pidFile] })),
    });
    await eventually(() => readPidFile(pidFile).length === ids.length, 30_000, 'every job to start');

    expect(p.strand()).toBe(1);
    const strandedAt = Date.now();
    // The worker dials again at once; the master must take the new connection from the same
    // worker process instead of refusing it until the liveness timeout declares it dead.
    await eventually(() => p.connections >= 2 && /joined master.*\n.*joined master/s.test(worker.output()), 10_000, 'the worker to rejoin').catch((err: Error) => {
      throw new Error(`${err.message}\n${worker.output()}`);
    });
    expect(Date.now() - strandedAt).toBeLessThan(timeoutS * 1000);

    const final = await waitRunDone(client, runId, 30_000);
    expect(summary(final.jobs), worker.output()).toBe('[]');
    expect(final.run.status).toBe('COMPLETED');
    await expectEachRanOnce(client, runId, ids, appendFile);
    expect(readPidFile(pidFile)).toHaveLength(ids.length);

    // Another process with the same name (and without its credential) is still refused, and does not displace the worker.
    const pid = worker.child.pid;
    await startWorkerVia(c, c.port, 4, { port: 8100, waitFor: /belongs to a live worker/ });
    const workers = await client.workers();
    expect(workers.map((w) => [w.id, w.state, w.pid])).toEqual([['127.0.0.1:8100', 'connected', pid]]);
  });

  it('notices a connection on which the master has gone silent, and rejoins before the master gives up on it', { timeout: 120_000 }, async () => {
    const { c, p, worker } = await proxiedCluster();
    const appendFile = join(c.dir, 'append.txt');
    const pidFile = join(c.dir, 'pids.txt');
    const ids = ['q0', 'q1'];
    const client = c.client();
    const { runId } = await submit(client, { name: 'silent', jobs: ids.map((id) => ({ id, script: LONG_SCRIPT, args: [id, '9', appendFile, pidFile] })) });
    await eventually(() => readPidFile(pidFile).length === ids.length, 30_000, 'every job to start');

    expect(p.blackhole()).toBe(1);
    const silencedAt = Date.now();
    await eventually(() => /no word from the master/.test(worker.output()) && /joined master.*\n(.|\n)*joined master/.test(worker.output()), 15_000, 'the worker to give up on the silent connection and rejoin').catch((err: Error) => {
      throw new Error(`${err.message}\n${worker.output()}`);
    });
    // The master's liveness timeout is 10 s; the worker must be back well before it.
    expect(Date.now() - silencedAt).toBeLessThan(9_000);

    const final = await waitRunDone(client, runId, 30_000);
    expect(final.run.status).toBe('COMPLETED');
    await expectEachRanOnce(client, runId, ids, appendFile);
  });

  it('re-sends results whose report was lost to a connection reset, instead of running the job again', { timeout: 120_000 }, async () => {
    const { c, p, worker } = await proxiedCluster();
    const appendFile = join(c.dir, 'append.txt');
    const pidFile = join(c.dir, 'pids.txt');
    // `first` reports while the reset is armed; `long` is still running across the reconnect.
    const ids = ['first', 'long'];
    const client = c.client();
    p.resetOnReport = true;
    const { runId } = await submit(client, {
      name: 'report-reset',
      jobs: ids.map((id) => ({ id, script: LONG_SCRIPT, args: [id, id === 'first' ? '0.5' : '3', appendFile, pidFile] })),
    });
    const final = await waitRunDone(client, runId, 30_000);

    expect(p.resets).toBe(1);
    expect(p.connections).toBeGreaterThanOrEqual(2);
    expect(summary(final.jobs), worker.output()).toBe('[]');
    expect(final.run.status).toBe('COMPLETED');
    await expectEachRanOnce(client, runId, ids, appendFile);
    expect(readPidFile(pidFile)).toHaveLength(ids.length);
  });

  it('lets a DAG finish exactly once while raw sockets throw garbage and oversized headers at the master port', { timeout: 120_000 }, async () => {
    const c = await newCluster([], 2, 4);
    const appendFile = join(c.dir, 'append.txt');
    const jobs = layeredDag(10, 8, appendFile, (l, i) => 100 + ((l * 13 + i * 29) % 80));
    const ids = jobs.map((j) => j.id);
    const client = c.client();
    const { runId } = await submit(client, { name: 'garbage', jobs });
    await eventually(() => readLines(appendFile).length >= 8, 30_000, 'the first layer to complete');

    let replies: Buffer[] = [];
    let waves = 0;
    let running = true;
    const attack = (async () => {
      while (running) {
        const payloads = garbagePayloads();
        const shots = [
          ...payloads.map((d) => throwAt(c.port, d, { holdMs: 500 })),
          throwAt(c.port, payloads[payloads.length - 1] as Buffer, { trickle: true, holdMs: 1500 }),
          throwAt(c.port, frameHeader(2, 0x21, 16 * 1024 * 1024 - 1), { holdMs: 1500 }), // a huge frame that never arrives
        ];
        replies = await Promise.all(shots);
        waves++;
      }
    })();
    const final = await waitRunDone(client, runId, 60_000).finally(() => (running = false));
    await attack;

    expect(waves).toBeGreaterThan(0);
    // The oversized HELLO header was refused with an error, not swallowed.
    expect(replies.some((r) => r.toString('utf8').includes('a frame before HELLO may be at most'))).toBe(true);
    expect(final.run.status).toBe('COMPLETED');
    expect(summary(final.jobs)).toBe('[]');
    const lines = readLines(appendFile);
    expect(notExactlyOnce(ids, lines)).toEqual({});
    expect(orderViolations(jobs, lines)).toEqual([]);
    // The master and both workers are still fine.
    const workers = await c.client().workers();
    expect(workers.map((w) => w.state)).toEqual(['connected', 'connected']);
    expect(c.master?.child.exitCode).toBeNull();
  });
});
