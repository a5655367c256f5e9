/**
 * Durable steps with real processes: jobs in Python and in Node that fail after their first step
 * and are retried, a step result that survives kill -9 of both the master and the worker, and a
 * job's token that cannot reach another job's steps. One cluster for the file; the kill test
 * runs last, as it restarts the cluster.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, pidAlive } from '../helpers/cluster.js';
import { killNine } from '../helpers/faults.js';
import { js, py, readPid, refusal, waitRun } from '../helpers/scripts.js';

const lines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

describe('durable steps', () => {
  const cluster = new Cluster(['--reclaim-grace', '1']);
  const orphans: number[] = [];
  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
  });
  afterAll(async () => {
    for (const pid of orphans) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    await cluster.stop();
  });

  /** Submits a one-job run whose script fails after its first step on attempt 1, and checks what ran. */
  async function failsAfterFirstStep(id: string, script: ReturnType<typeof py>): Promise<void> {
    const out = join(cluster.dir, `${id}.txt`);
    const client = cluster.client();
    const started = Date.now();
    const { runId } = await client.submit({ name: id, jobs: [{ id, script, retries: 1, env: { OUT: out } }] });
    const view = await waitRun(client, runId);
    console.log(`${id}: two attempts with a retry's backoff in ${Date.now() - started} ms`);
    expect(view.jobs.map((j) => [j.status, j.attempt])).toEqual([['COMPLETED', 2]]);
    // The first step's side effect happened once, in attempt 1; the second ran in attempt 2.
    expect(lines(out)).toEqual(['first 1', 'second 2']);
    expect(await client.logs(`${runId}/${id}`)).toContain('result 42');
    const { steps } = await client.getJob(`${runId}/${id}`);
    expect(steps.map((s) => ({ name: s.name, status: s.status, attempt: s.attempt, cachedIn: s.cachedIn, resultBytes: s.resultBytes }))).toEqual([
      { name: 'first', status: 'COMPLETED', attempt: 1, cachedIn: 2, resultBytes: '{"n":41}'.length },
      { name: 'second', status: 'COMPLETED', attempt: 2, cachedIn: null, resultBytes: 2 },
    ]);
  }

  it('a Python job that fails after its first step runs that step once and the second on its retry', { timeout: 60_000 }, async () => {
    await failsAfterFirstStep(
      'py-steps',
      py(
        [
          'import os',
          'from titan_sdk import step',
          'attempt = int(os.environ["TITAN_ATTEMPT"])',
          'def note(what):',
          '    with open(os.environ["OUT"], "a") as f:',
          '        f.write("%s %d\\n" % (what, attempt))',
          'def first():',
          '    note("first")',
          '    return {"n": 41}',
          'v = step("first", first, timeout=30, retries=1)',
          'if attempt == 1:',
          '    raise SystemExit(3)',
          '@step("second")',
          'def second():',
          '    note("second")',
          '    return v["n"] + 1',
          'print("result", second())',
        ].join('\n'),
        'steps.py',
      ),
    );
  });

  it('a Node job that fails after its first step runs that step once and the second on its retry', { timeout: 60_000 }, async () => {
    await failsAfterFirstStep(
      'js-steps',
      js(
        [
          "import { appendFileSync } from 'node:fs';",
          'const { step } = await import(process.env.TITAN_SDK);',
          'const attempt = Number(process.env.TITAN_ATTEMPT);',
          'const note = (what) => appendFileSync(process.env.OUT, `${what} ${attempt}\\n`);',
          "const v = await step('first', () => (note('first'), { n: 41 }), { timeoutMs: 30_000, retries: 1 });",
          'if (attempt === 1) process.exit(3);',
          "console.log('result', await step('second', () => (note('second'), v.n + 1)));",
        ].join('\n'),
        'steps.mjs',
      ),
    );
  });

  it("a job's token reaches only its own job's steps, and only while its attempt runs", { timeout: 60_000 }, async () => {
    const tokenFile = join(cluster.dir, 'a-token.txt');
    const owner = js("const { step } = await import(process.env.TITAN_SDK);\nawait step('shared', () => 'b only');\n", 'owner.mjs');
    const attacker = js(
      [
        "import { writeFileSync } from 'node:fs';",
        'const { TitanClient } = await import(process.env.TITAN_SDK);',
        'writeFileSync(process.env.TOKEN_FILE, process.env.TITAN_TOKEN);',
        'const c = new TitanClient();',
        'const outcome = (p) => p.then((r) => JSON.stringify(r.result), (e) => e.code);',
        "console.log('own:', await outcome(c.call('step.get', { name: 'shared' })));",
        "console.log('named:', await outcome(c.call('step.get', { name: 'shared', runId: process.env.TITAN_RUN_ID, jobId: 'b' })));",
        "console.log('forge:', await outcome(c.call('step.record', { name: 'shared', jobId: 'b', attempt: 1, status: 'COMPLETED', result: '\"forged\"', startedAt: 1, finishedAt: 2 })));",
        "console.log('other attempt:', await outcome(c.call('step.record', { name: 'shared', attempt: 7, status: 'COMPLETED', result: '\"forged\"', startedAt: 1, finishedAt: 2 })));",
        "console.log('record own:', await outcome(c.call('step.record', { name: 'shared', attempt: Number(process.env.TITAN_ATTEMPT), status: 'COMPLETED', result: '\"a own\"', startedAt: 1, finishedAt: 2 })));",
        'c.close();',
      ].join('\n'),
      'attacker.mjs',
    );
    const client = cluster.client();
    const { runId } = await client.submit({ name: 'reach', jobs: [{ id: 'b', script: owner, retries: 0 }, { id: 'a', script: attacker, retries: 0, dependsOn: ['b'], env: { TOKEN_FILE: tokenFile } }] });
    const view = await waitRun(client, runId);
    expect(view.jobs.map((j) => j.status)).toEqual(['COMPLETED', 'COMPLETED']);
    const log = await client.logs(`${runId}/a`);
    // Same run, same step name: job a sees nothing of job b's record and cannot name b at all.
    expect(log).toContain('own: null');
    expect(log).toContain('named: BAD_REQUEST');
    expect(log).toContain('forge: BAD_REQUEST');
    expect(log).toContain('other attempt: BAD_REQUEST');
    expect(log).toContain('record own: "\\"a own\\""');
    const b = await client.getJob(`${runId}/b`);
    expect(b.steps.map((s) => [s.name, s.attempt, s.resultBytes])).toEqual([['shared', 1, '"b only"'.length]]);
    // The token of a's finished attempt is dead; the cluster token is no job and names no job's steps.
    const leaked = readFileSync(tokenFile, 'utf8');
    expect((await refusal(cluster.client(leaked).call('step.record', { name: 'late', attempt: 1, status: 'COMPLETED', result: '1', startedAt: 1, finishedAt: 2 }))).code).toBe('UNAUTHORIZED');
    expect((await refusal(client.call('step.get', { name: 'shared' }))).code).toBe('FORBIDDEN');
    expect((await client.getJob(`${runId}/a`)).steps.map((s) => s.name)).toEqual(['shared']);
  });

  it('a recorded step survives kill -9 of the master and the worker: the retried job gets its result', { timeout: 90_000 }, async () => {
    const out = join(cluster.dir, 'costly.txt');
    const pidFile = join(cluster.dir, 'costly.pid');
    const script = py(
      [
        'import os, time',
        'from titan_sdk import step',
        'attempt = int(os.environ["TITAN_ATTEMPT"])',
        'def costly():',
        '    with open(os.environ["OUT"], "a") as f:',
        '        f.write("costly %d\\n" % attempt)',
        '    return ["paid", 1]',
        'v = step("costly", costly)',
        'print("value", v, "attempt", attempt)',
        'if attempt == 1:',
        '    with open(os.environ["PID_FILE"], "w") as f:',
        '        f.write(str(os.getpid()))',
        '    time.sleep(60)',
      ].join('\n'),
      'costly.py',
    );
    const client = cluster.client();
    const { runId } = await client.submit({ name: 'crash', jobs: [{ id: 'c', script, retries: 0, env: { OUT: out, PID_FILE: pidFile } }] });
    orphans.push(await readPid(pidFile));
    expect(lines(out)).toEqual(['costly 1']);
    const started = Date.now();
    await killNine(cluster.master?.child ?? expect.unreachable('no master'));
    await killNine(cluster.workers[0]?.child ?? expect.unreachable('no worker'));
    cluster.workers.length = 0;
    await cluster.startMaster();
    await cluster.startWorker();
    const after = cluster.client();
    const view = await waitRun(after, runId, 60_000);
    console.log(`kill -9 of master and worker to the retried job's end: ${Date.now() - started} ms`);
    expect(view.jobs.map((j) => j.status)).toEqual(['COMPLETED']);
    const attempt = view.jobs[0]?.attempt ?? 0;
    expect(attempt).toBeGreaterThan(1);
    expect(lines(out)).toEqual(['costly 1']);
    expect(await after.logs(`${runId}/c`)).toContain(`value ['paid', 1] attempt ${attempt}`);
    const { steps } = await after.getJob(`${runId}/c`);
    expect(steps.map((s) => [s.name, s.attempt, s.cachedIn])).toEqual([['costly', 1, attempt]]);
  });
});
