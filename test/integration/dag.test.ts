/**
 * DAG semantics on a real cluster: ordering, fan-out/fan-in, priorities, delays, retries,
 * cancellation, timeouts and the environment a job sees.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobToken } from '../../src/protocol/derived-tokens.js';
import { TitanClient, TitanError } from '../../src/sdk/client.js';
import { Cluster, eventually, kill, launch, pidAlive } from '../helpers/cluster.js';
import { EVENTS_PY, GATED_PY, jobOf, js, py, readEvents, readPid, readPids, refusal, sh, TempDir, waitJob, waitRun, waitRunStatus } from '../helpers/scripts.js';

describe('DAG execution on a real cluster', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-dag-');
  let generalWorkers: string[] = [];

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
    await cluster.startWorker();
    // A one-slot pool of its own, so priority order is observable without disturbing the others.
    await cluster.startWorker({ capabilities: ['SOLO'], slots: 1 });
    const workers = await cluster.client().workers();
    generalWorkers = workers.filter((w) => w.capabilities.includes('GENERAL')).map((w) => w.id);
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  it('runs a chain a -> b -> c strictly in order', async () => {
    const client = cluster.client();
    const log = tmp.file('chain.log');
    // Listed backwards: the order must come from the dependencies, not from the listing.
    const { runId } = await client.submit({
      name: 'chain',
      jobs: [
        { id: 'c', script: EVENTS_PY, args: [log, 'c', '0.2'], dependsOn: ['b'] },
        { id: 'b', script: EVENTS_PY, args: [log, 'b', '0.2'], dependsOn: ['a'] },
        { id: 'a', script: EVENTS_PY, args: [log, 'a', '0.2'] },
      ],
    });
    const view = await waitRunStatus(client, runId, 'COMPLETED');
    const events = readEvents(log);
    expect(events.map((e) => `${e.id} ${e.event}`)).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    for (let i = 1; i < events.length; i++) expect(events[i]?.t).toBeGreaterThanOrEqual(events[i - 1]?.t ?? Infinity);
    const [a, b, c] = ['a', 'b', 'c'].map((id) => jobOf(view, id));
    expect(b?.startedAt).toBeGreaterThanOrEqual(a?.finishedAt ?? Infinity);
    expect(c?.startedAt).toBeGreaterThanOrEqual(b?.finishedAt ?? Infinity);
    for (const j of view.jobs) expect(j.attempt).toBe(1);
  });

  it('fans out to five jobs and fans in only after all of them finished', async () => {
    const client = cluster.client();
    const log = tmp.file('fan.log');
    const bs = ['b1', 'b2', 'b3', 'b4', 'b5'];
    const { runId } = await client.submit({
      name: 'fan',
      jobs: [
        { id: 'z', script: EVENTS_PY, args: [log, 'z'], dependsOn: bs },
        ...bs.map((id, i) => ({ id, script: EVENTS_PY, args: [log, id, String(0.6 + 0.1 * i)], dependsOn: ['a'] })),
        { id: 'a', script: EVENTS_PY, args: [log, 'a', '0.1'] },
      ],
    });
    const view = await waitRunStatus(client, runId, 'COMPLETED');
    const events = readEvents(log);
    expect(events).toHaveLength(14);
    const t = (id: string, event: string): number => {
      const e = events.find((x) => x.id === id && x.event === event);
      if (!e) throw new Error(`no "${id} ${event}" line in ${log}`);
      return e.t;
    };
    for (const id of bs) expect(t(id, 'start')).toBeGreaterThanOrEqual(t('a', 'end'));
    const lastB = Math.max(...bs.map((id) => t(id, 'end')));
    expect(t('z', 'start')).toBeGreaterThanOrEqual(lastB);
    // The master agrees: z was started after the last b finished.
    const lastBFinished = Math.max(...bs.map((id) => jobOf(view, id).finishedAt ?? Infinity));
    expect(jobOf(view, 'z').startedAt).toBeGreaterThanOrEqual(lastBFinished);
    // The b's are independent, so they overlap (two 4-slot workers).
    const firstBEnd = Math.min(...bs.map((id) => t(id, 'end')));
    expect(bs.filter((id) => t(id, 'start') < firstBEnd).length).toBeGreaterThan(1);
  });

  it('starts queued jobs by priority, and first-in first-out within a priority', async () => {
    const client = cluster.client();
    const gate = tmp.file('prio.release');
    const pidFile = tmp.file('prio.blocker.pid');
    const log = tmp.file('prio.log');
    const blocker = await client.submit({ name: 'blocker', jobs: [{ id: 'blocker', script: GATED_PY, args: [pidFile, gate], requirement: 'SOLO' }] });
    await readPid(pidFile, 'the blocking job to start');
    await waitJob(client, `${blocker.runId}/blocker`, 'RUNNING');

    const submissions: [string, number][] = [
      ['low1', 1],
      ['high1', 5],
      ['mid1', 3],
      ['low2', 1],
      ['neg', -2],
      ['high2', 5],
      ['mid2', 3],
      ['low3', 1],
    ];
    const runs = new Map<string, string>();
    for (const [id, priority] of submissions) {
      const { runId } = await client.submit({ name: id, jobs: [{ id, script: EVENTS_PY, args: [log, id], requirement: 'SOLO', priority }] });
      runs.set(id, runId);
    }
    // Everything is waiting behind the blocker before it is released.
    const stats = await client.stats();
    expect(stats.queuedByCapability.SOLO).toBe(submissions.length);
    for (const [id, runId] of runs) expect((await client.getJob(`${runId}/${id}`)).job.status).toBe('QUEUED');

    writeFileSync(gate, 'go');
    await waitRunStatus(client, blocker.runId, 'COMPLETED');
    const finals = [];
    for (const runId of runs.values()) finals.push(await waitRunStatus(client, runId, 'COMPLETED'));

    const expected = ['high1', 'high2', 'mid1', 'mid2', 'low1', 'low2', 'low3', 'neg'];
    expect(readEvents(log).filter((e) => e.event === 'start').map((e) => e.id)).toEqual(expected);
    const byStart = finals.map((v) => v.jobs[0]).sort((x, y) => (x?.startedAt ?? 0) - (y?.startedAt ?? 0) || (x?.attempt ?? 0) - (y?.attempt ?? 0));
    expect(byStart.map((j) => j?.spec.id)).toEqual(expected);
  });

  it('starts a delayed job no sooner than its delay after its parent finished', async () => {
    const client = cluster.client();
    const log = tmp.file('delay.log');
    const { runId } = await client.submit({
      name: 'delay',
      jobs: [
        { id: 'parent', script: EVENTS_PY, args: [log, 'parent'] },
        { id: 'later', script: EVENTS_PY, args: [log, 'later'], dependsOn: ['parent'], delayMs: 1500 },
      ],
    });
    await waitRunStatus(client, runId, 'COMPLETED');
    const parent = await client.getJob(`${runId}/parent`);
    const later = await client.getJob(`${runId}/later`);
    expect(later.attempts).toHaveLength(1);
    const parentFinished = parent.job.finishedAt ?? Infinity;
    expect(parent.attempts[0]?.finishedAt).toBe(parentFinished);
    expect((later.attempts[0]?.startedAt ?? 0) - parentFinished).toBeGreaterThanOrEqual(1500);
    expect((later.job.startedAt ?? 0) - parentFinished).toBeGreaterThanOrEqual(1500);
    // ...and not absurdly later either.
    expect((later.job.startedAt ?? 0) - parentFinished).toBeLessThan(15_000);
    const events = readEvents(log);
    const parentEnd = events.find((e) => e.id === 'parent' && e.event === 'end')?.t ?? Infinity;
    const laterStart = events.find((e) => e.id === 'later' && e.event === 'start')?.t ?? 0;
    expect(laterStart - parentEnd).toBeGreaterThanOrEqual(1.4);
  });

  it('retries a failing job with backoff, then marks it DEAD and skips its descendants', async () => {
    const client = cluster.client();
    const { runId } = await client.submit({
      name: 'dies',
      jobs: [
        { id: 'fails', script: py('import sys\nprint("failing", flush=True)\nsys.exit(3)\n', 'fails.py'), retries: 2 },
        { id: 'child', script: EVENTS_PY, args: [tmp.file('dies.log'), 'child'], dependsOn: ['fails'] },
        { id: 'grandchild', script: EVENTS_PY, args: [tmp.file('dies.log'), 'grandchild'], dependsOn: ['child'] },
        { id: 'bystander', script: EVENTS_PY, args: [tmp.file('dies.log'), 'bystander'] },
      ],
    });
    const view = await waitRunStatus(client, runId, 'FAILED', 30_000);
    const fails = await client.getJob(`${runId}/fails`);
    expect(fails.job.status).toBe('DEAD');
    expect(fails.job.attempt).toBe(3);
    expect(fails.job.exitCode).toBe(3);
    expect(fails.job.error).toMatch(/exit code 3/);
    expect(fails.attempts.map((a) => [a.attempt, a.outcome, a.exitCode])).toEqual([
      [1, 'FAILED', 3],
      [2, 'FAILED', 3],
      [3, 'FAILED', 3],
    ]);
    const [a1, a2, a3] = fails.attempts;
    // Backoff: about 1 s before the first retry and about 2 s before the second (±20 % jitter).
    expect((a2?.startedAt ?? 0) - (a1?.finishedAt ?? Infinity)).toBeGreaterThanOrEqual(800);
    expect((a3?.startedAt ?? 0) - (a2?.finishedAt ?? Infinity)).toBeGreaterThanOrEqual(1600);
    for (const n of [1, 2, 3]) expect(await client.logs(`${runId}/fails`, n)).toBe('failing\n');

    expect(jobOf(view, 'child').status).toBe('SKIPPED');
    expect(jobOf(view, 'child').attempt).toBe(0);
    expect(jobOf(view, 'child').error).toMatch(/fails/);
    expect(jobOf(view, 'grandchild').status).toBe('SKIPPED');
    expect(jobOf(view, 'bystander').status).toBe('COMPLETED');
    expect(readEvents(tmp.file('dies.log')).map((e) => e.id)).not.toContain('child');
  });

  it('completes on the second attempt a job that fails once', async () => {
    const client = cluster.client();
    const marker = tmp.file('flaky.marker');
    const script = py(
      `import os, sys
print("attempt", os.environ["TITAN_ATTEMPT"], flush=True)
if not os.path.exists(sys.argv[1]):
    open(sys.argv[1], "w").write("failed once")
    sys.exit(1)
`,
      'flaky.py',
    );
    const { runId } = await client.submit({ name: 'flaky', jobs: [{ id: 'flaky', script, args: [marker], retries: 3 }] });
    await waitRunStatus(client, runId, 'COMPLETED');
    const { job, attempts } = await client.getJob(`${runId}/flaky`);
    expect(job.status).toBe('COMPLETED');
    expect(job.attempt).toBe(2);
    expect(job.exitCode).toBe(0);
    expect(attempts.map((a) => [a.outcome, a.exitCode])).toEqual([
      ['FAILED', 1],
      ['COMPLETED', 0],
    ]);
    expect(await client.logs(`${runId}/flaky`, 1)).toBe('attempt 1\n');
    expect(await client.logs(`${runId}/flaky`)).toBe('attempt 2\n');
    expect(existsSync(marker)).toBe(true);
  });

  it('cancels a running job: its process dies, its descendants are skipped, the run is CANCELLED', async () => {
    const client = cluster.client();
    const pidFile = tmp.file('cancel.pid');
    const { runId } = await client.submit({
      name: 'cancel',
      jobs: [
        { id: 'long', script: GATED_PY, args: [pidFile, tmp.file('cancel.never')] },
        { id: 'child', script: EVENTS_PY, args: [tmp.file('cancel.log'), 'child'], dependsOn: ['long'] },
        { id: 'grandchild', script: EVENTS_PY, args: [tmp.file('cancel.log'), 'grandchild'], dependsOn: ['child'] },
      ],
    });
    const pid = await readPid(pidFile, 'the long job to start');
    await waitJob(client, `${runId}/long`, 'RUNNING');
    expect(pidAlive(pid)).toBe(true);
    const running = (await client.getJob(`${runId}/long`)).attempts;
    expect(running.map((a) => [a.attempt, a.outcome, a.finishedAt])).toEqual([[1, null, null]]);

    const cancelled = await client.cancel(`${runId}/long`);
    expect(cancelled.status).toBe('CANCELLED');
    await eventually(() => !pidAlive(pid), 10_000, `the cancelled job's process ${pid} to exit`);

    const view = await waitRunStatus(client, runId, 'CANCELLED');
    expect(jobOf(view, 'long').status).toBe('CANCELLED');
    expect(jobOf(view, 'child').status).toBe('SKIPPED');
    expect(jobOf(view, 'grandchild').status).toBe('SKIPPED');
    const { attempts } = await client.getJob(`${runId}/long`);
    expect(attempts.map((a) => a.outcome)).toEqual(['CANCELLED']);
    // Cancelling what is already cancelled is refused, and changes nothing.
    await expect(client.cancel(`${runId}/long`)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await client.getJob(`${runId}/long`)).job.status).toBe('CANCELLED');
    expect(readEvents(tmp.file('cancel.log'))).toEqual([]);
  });

  it('cancels a whole run: running processes die, nothing else starts', async () => {
    const client = cluster.client();
    const pidX = tmp.file('cancelrun.x.pid');
    const pidY = tmp.file('cancelrun.y.pid');
    const log = tmp.file('cancelrun.log');
    const { runId } = await client.submit({
      name: 'cancel-run',
      jobs: [
        { id: 'x', script: GATED_PY, args: [pidX, tmp.file('cancelrun.never')] },
        { id: 'y', script: GATED_PY, args: [pidY, tmp.file('cancelrun.never')] },
        { id: 'after-x', script: EVENTS_PY, args: [log, 'after-x'], dependsOn: ['x'] },
        { id: 'delayed', script: EVENTS_PY, args: [log, 'delayed'], delayMs: 60_000 },
      ],
    });
    const pids = [await readPid(pidX), await readPid(pidY)];
    const n = await client.cancelRun(runId);
    const view = await waitRunStatus(client, runId, 'CANCELLED');
    expect(jobOf(view, 'x').status).toBe('CANCELLED');
    expect(jobOf(view, 'y').status).toBe('CANCELLED');
    expect(jobOf(view, 'delayed').status).toBe('CANCELLED');
    expect(['CANCELLED', 'SKIPPED']).toContain(jobOf(view, 'after-x').status);
    expect(n).toBe(view.jobs.filter((j) => j.status === 'CANCELLED').length);
    for (const pid of pids) await eventually(() => !pidAlive(pid), 10_000, `process ${pid} of the cancelled run to exit`);
    expect(readEvents(log)).toEqual([]);
    await expect(client.cancelRun(runId)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(client.cancelRun('rnosuchrun')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('kills the whole process tree of a job that exceeds its timeout', async () => {
    const client = cluster.client();
    const pidsFile = tmp.file('timeout.pids');
    // Background children, one of them ignoring SIGTERM: all must go when the attempt times out.
    const script = sh(
      `pids="$1"
sleep 300 &
echo $! >> "$pids"
bash -c 'trap "" TERM; sleep 300 & echo $! >> "$0"; wait' "$pids" &
echo $! >> "$pids"
echo $$ >> "$pids"
echo started
wait
`,
      'tree.sh',
    );
    const started = Date.now();
    const { runId } = await client.submit({ name: 'timeout', jobs: [{ id: 'tree', script, args: [pidsFile], timeoutMs: 1000, retries: 0 }] });
    const view = await waitRunStatus(client, runId, 'FAILED', 20_000);
    const job = jobOf(view, 'tree');
    expect(job.status).toBe('DEAD');
    expect(job.error).toMatch(/timed out/i);
    expect(job.attempt).toBe(1);
    expect((job.finishedAt ?? 0) - (job.startedAt ?? Infinity)).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const { attempts } = await client.getJob(`${runId}/tree`);
    expect(attempts.map((a) => a.outcome)).toEqual(['TIMED_OUT']);
    expect(await client.logs(`${runId}/tree`)).toContain('started');
    const pids = readPids(pidsFile);
    expect(pids).toHaveLength(4);
    for (const pid of pids) await eventually(() => !pidAlive(pid), 10_000, `process ${pid} of the timed-out job to exit`);
  });

  it('gives a job the TITAN_* environment and its own env entries', async () => {
    const client = cluster.client();
    const script = py(
      `import json, os
keys = ["TITAN_RUN_ID", "TITAN_JOB_ID", "TITAN_ATTEMPT", "TITAN_SHARED_DIR", "TITAN_HOST", "TITAN_PORT", "TITAN_TOKEN", "GREETING"]
env = {k: os.environ.get(k) for k in keys}
env["shared_is_dir"] = os.path.isdir(os.environ.get("TITAN_SHARED_DIR", "/nonexistent"))
print(json.dumps(env))
`,
      'env.py',
    );
    const { runId } = await client.submit({ name: 'env', jobs: [{ id: 'env-job', script, env: { GREETING: 'hello there' } }] });
    await waitRunStatus(client, runId, 'COMPLETED');
    const seen = JSON.parse(await client.logs(`${runId}/env-job`)) as Record<string, string | boolean | null>;
    expect(seen).toMatchObject({
      TITAN_RUN_ID: runId,
      TITAN_JOB_ID: 'env-job',
      TITAN_ATTEMPT: '1',
      TITAN_HOST: '127.0.0.1',
      TITAN_PORT: String(cluster.port),
      TITAN_TOKEN: jobToken(cluster.token, { runId, jobId: 'env-job', attempt: 1 }),
      GREETING: 'hello there',
      shared_is_dir: true,
    });
    expect(typeof seen.TITAN_SHARED_DIR).toBe('string');
    expect(seen.TITAN_SHARED_DIR).toContain(runId);
    expect(seen.TITAN_TOKEN).not.toContain(cluster.token);
  });

  it("lets a job's token act as a client, but not register a worker or drain one", async () => {
    const client = cluster.client();
    const script = py(
      `from titan_sdk import TitanClient
c = TitanClient()
c.store_put("job-token-check", "written by the job")
print("store:", c.store_get("job-token-check"))
`,
      'job-token.py',
    );
    const { runId } = await client.submit({ name: 'job-token', jobs: [{ id: 'uses-sdk', script }] });
    await waitRunStatus(client, runId, 'COMPLETED');
    expect(await client.logs(`${runId}/uses-sdk`)).toContain('store: written by the job');

    // The token of an attempt that still runs: a client, but one that manages nothing.
    const busy = await client.submit({ name: 'job-token-busy', jobs: [{ id: 'hold', script: sh('sleep 60\n', 'hold.sh') }, { id: 'gate', kind: 'approval', message: 'hold' }] });
    await waitJob(client, `${busy.runId}/hold`, 'RUNNING');
    await waitJob(client, `${busy.runId}/gate`, 'WAITING_APPROVAL');
    const token = jobToken(cluster.token, { runId: busy.runId, jobId: 'hold', attempt: 1 });
    const asJob = new TitanClient({ host: '127.0.0.1', port: cluster.port, token });
    try {
      expect((await asJob.workers()).length).toBeGreaterThan(0);
      const drain = await refusal(asJob.drainWorker((await asJob.workers())[0]?.id ?? ''));
      expect(drain.code).toBe('FORBIDDEN');
      expect(drain.message).toMatch(/worker.drain administers the cluster: a job's token cannot call it/);
      expect((await refusal(asJob.approve(`${busy.runId}/gate`))).code).toBe('FORBIDDEN');
    } finally {
      asJob.close();
    }
    const worker = launch(['worker', '--master', `127.0.0.1:${cluster.port}`, '--token', token, '--port', '0', '--work-dir', join(cluster.dir, 'job-token-worker')]);
    try {
      const code = await new Promise<number | null>((resolve) => worker.child.once('exit', (c) => resolve(c)));
      expect(code).toBe(3);
      expect(worker.output()).toMatch(/a job's token cannot register a worker/);
    } finally {
      await kill(worker, 'SIGKILL');
    }
    // Once its run is over, the token opens nothing.
    await client.cancelRun(busy.runId);
    const late = new TitanClient({ host: '127.0.0.1', port: cluster.port, token });
    try {
      const refused = await refusal(late.workers());
      expect(refused.code).toBe('UNAUTHORIZED');
      expect(refused.message).toMatch(/no longer running/);
    } finally {
      late.close();
    }
    // A forged job token is refused like a wrong cluster token.
    const forged = new TitanClient({ host: '127.0.0.1', port: cluster.port, token: `job.${runId}.AAAA` });
    try {
      expect((await refusal(forged.workers())).code).toBe('UNAUTHORIZED');
    } finally {
      forged.close();
    }
  });

  it('lets a child read what its parent wrote to TITAN_SHARED_DIR when affinity is required', async () => {
    const client = cluster.client();
    const writer = py(
      `import os, sys
with open(os.path.join(os.environ["TITAN_SHARED_DIR"], "handoff-" + sys.argv[1]), "w") as f:
    f.write("made by " + os.environ["TITAN_JOB_ID"])
`,
      'writer.py',
    );
    const reader = py(
      `import os, sys
with open(os.path.join(os.environ["TITAN_SHARED_DIR"], "handoff-" + sys.argv[1])) as f:
    print(f.read())
`,
      'reader.py',
    );
    const parents = ['p1', 'p2', 'p3', 'p4'];
    const { runId } = await client.submit({
      name: 'shared',
      jobs: [
        ...parents.map((id) => ({ id, script: writer, args: [id] })),
        ...parents.map((id) => ({ id: `read-${id}`, script: reader, args: [id], dependsOn: [id], affinity: 'required' as const, retries: 0 })),
      ],
    });
    const view = await waitRun(client, runId);
    expect(view.run.status, view.jobs.map((j) => `${j.spec.id}=${j.status} ${j.error ?? ''}`).join(', ')).toBe('COMPLETED');
    for (const id of parents) {
      expect(jobOf(view, `read-${id}`).workerId).toBe(jobOf(view, id).workerId);
      expect(await client.logs(`${runId}/read-${id}`)).toBe(`made by ${id}\n`);
    }
    // The parents were spread over both general workers, so the affinity really mattered.
    expect(new Set(parents.map((id) => jobOf(view, id).workerId))).toEqual(new Set(generalWorkers));
  });

  it('runs a .js script with node', async () => {
    const client = cluster.client();
    const script = js('console.log(JSON.stringify({ version: process.version, argv: process.argv.slice(2) }));\n', 'hello.js');
    const { runId, jobId } = await client.runScript(script, ['one', 'two words', '']);
    const job = await client.waitForJob(`${runId}/${jobId}`);
    expect(job.status).toBe('COMPLETED');
    const out = JSON.parse(await client.logs(`${runId}/${jobId}`)) as { version: string; argv: string[] };
    expect(out).toEqual({ version: process.version, argv: ['one', 'two words', ''] });
  });

  it('keeps large output intact, multi-byte and astral characters included, across many log events', async () => {
    const client = cluster.client();
    // One ASCII character, then 200,000 emoji (each a surrogate pair in JavaScript): the output
    // fills several log events, and an even-sized split would land inside a pair.
    const script = py('import sys\nsys.stdout.write("a" + "\\U0001F600" * 200000)\n', 'big.py');
    const { runId, jobId } = await client.runScript(script);
    expect((await client.waitForJob(`${runId}/${jobId}`)).status).toBe('COMPLETED');
    const expected = 'a' + '\u{1F600}'.repeat(200_000);
    const text = await client.logs(`${runId}/${jobId}`);
    expect(text.length).toBe(expected.length);
    expect(text === expected).toBe(true);
  });

  it('waitForJob returns when the job ends, not when the rest of its run does', async () => {
    const client = cluster.client();
    const gate = tmp.file('waitjob.release');
    const pidFile = tmp.file('waitjob.pid');
    const { runId } = await client.submit({
      name: 'wait-job',
      jobs: [
        { id: 'quick', script: py('import time\ntime.sleep(0.3)\nprint("done")\n', 'quick.py') },
        { id: 'slow', script: GATED_PY, args: [pidFile, gate] },
      ],
    });
    try {
      await readPid(pidFile, 'the slow job to start');
      const outcome = await Promise.race([client.waitForJob(`${runId}/quick`), new Promise<'timed out'>((r) => setTimeout(() => r('timed out'), 15_000))]);
      expect(outcome).not.toBe('timed out');
      expect(outcome).toMatchObject({ status: 'COMPLETED', spec: { id: 'quick' } });
      expect((await client.getJob(`${runId}/slow`)).job.status).toBe('RUNNING');
    } finally {
      writeFileSync(gate, 'go');
    }
    await waitRunStatus(client, runId, 'COMPLETED');
  });

  it('waitForRun sees the end of a run that finishes while the watch is being set up', async () => {
    const client = cluster.client();
    const gate = tmp.file('watchrace.release');
    const pidFile = tmp.file('watchrace.pid');
    const { runId } = await client.submit({ name: 'watch-race', jobs: [{ id: 'gated', script: GATED_PY, args: [pidFile, gate] }] });
    await readPid(pidFile, 'the gated job to start');
    await waitJob(client, `${runId}/gated`, 'RUNNING');
    const done = client.waitForRun(runId);
    // Let the run.watch request leave (writes are flushed on the next tick), let the job finish,
    // and keep this process busy meanwhile, so the reply and the run's last events arrive together.
    await new Promise<void>((r) => process.nextTick(r));
    writeFileSync(gate, 'go');
    const busyUntil = Date.now() + 2000;
    while (Date.now() < busyUntil) {
      // busy: no I/O is read until the job has finished
    }
    const final = await Promise.race([done, new Promise<'timed out'>((r) => setTimeout(() => r('timed out'), 15_000))]);
    expect(final, 'waitForRun never saw the run finish').not.toBe('timed out');
    expect(final).toMatchObject({ run: { status: 'COMPLETED' } });
  });

  it('refuses to cancel an unknown job', async () => {
    const client = cluster.client();
    const err = await client.cancel('no-such-job').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TitanError);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
  });
});
