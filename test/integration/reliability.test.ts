/**
 * Promises a client relies on across failures: a retried submission returns the run the first
 * one created (also after a master crash), the totals of `titan stats` survive a restart, and
 * the run listing pages through every run.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually, runCli } from '../helpers/cluster.js';
import { CuttableProxy, killNine, waitRunDone } from '../helpers/faults.js';

let cluster: Cluster | null = null;
let proxy: CuttableProxy | null = null;

afterEach(async () => {
  await proxy?.close();
  proxy = null;
  await cluster?.stop();
  cluster = null;
});

async function newCluster(workers: number, masterArgs: string[] = [], workerArgs: string[] = []): Promise<Cluster> {
  const c = new Cluster(masterArgs);
  cluster = c;
  await c.startMaster();
  for (let i = 0; i < workers; i++) await c.startWorker({ slots: 4, args: workerArgs });
  return c;
}

const ECHO = { name: 'echo.sh', content: 'echo "$1"\n' };

/** Puts the script's bytes on the master and returns its reference, for hand-made submissions. */
async function uploaded(client: TitanClient, script: { name: string; content: string }): Promise<{ name: string; sha256: string }> {
  const sha256 = createHash('sha256').update(script.content).digest('hex');
  await client.call('blob.put', { sha256, offset: 0, data: Buffer.from(script.content).toString('base64'), final: true });
  return { name: script.name, sha256 };
}

const runNamed = async (client: TitanClient, name: string): Promise<string[]> => (await client.listRuns({ limit: 1000 })).filter((r) => r.name === name).map((r) => r.runId);

describe('submission request ids', () => {
  it('answers a submission sent again under the same request id with the first run, also after the master was killed -9', { timeout: 60_000 }, async () => {
    const c = await newCluster(1);
    const client = c.client();
    const run = { name: 'once', jobs: [{ id: 'a', script: await uploaded(client, ECHO), args: ['hi'] }] };
    const first = await client.call('submit', { run, requestId: 'req-0001' });
    const again = await client.call('submit', { run, requestId: 'req-0001' });
    expect(again).toEqual(first);
    const other = await client.call('submit', { run, requestId: 'req-0002' });
    expect(other.runId).not.toBe(first.runId);
    await killNine((c.master ?? expect.unreachable('no master')).child);
    client.close();
    await c.startMaster();
    const after = c.client();
    expect(await after.call('submit', { run, requestId: 'req-0001' })).toEqual(first);
    expect((await runNamed(after, 'once')).sort()).toEqual([first.runId, other.runId].sort());
    expect((await waitRunDone(after, first.runId, 30_000)).run.status).toBe('COMPLETED');
  });

  it('refuses a request id that is not one', async () => {
    const c = await newCluster(0);
    const client = c.client();
    const run = { jobs: [{ id: 'a', script: await uploaded(client, ECHO) }] };
    await expect(client.call('submit', { run, requestId: 'has spaces' })).rejects.toThrow(/printable ASCII without spaces/);
    await expect(client.call('submit', { run, requestId: 'x'.repeat(129) })).rejects.toThrow(/requestId/);
    expect(await client.listRuns()).toEqual([]);
  });

  it('lets the SDK re-send a submission whose reply was lost, creating one run', { timeout: 60_000 }, async () => {
    const c = await newCluster(1);
    const p = new CuttableProxy(() => c.port);
    proxy = p;
    await p.listen();
    const client = new TitanClient({ host: '127.0.0.1', port: p.port, token: c.token });
    try {
      p.loseReplyTo = '"method":"submit"';
      const { runId } = await client.submit({ name: 'lost-reply', jobs: [{ id: 'a', script: ECHO, args: ['hi'] }] });
      expect(p.resets).toBe(1);
      const direct = c.client();
      expect(await runNamed(direct, 'lost-reply')).toEqual([runId]);
      expect((await waitRunDone(direct, runId, 30_000)).run.status).toBe('COMPLETED');
    } finally {
      client.close();
    }
  });
});

describe('the lost-attempt budget', () => {
  it('stops a job that keeps killing its workers once --max-lost-attempts is spent, without touching its retries', { timeout: 60_000 }, async () => {
    // The job stands for one that brings its worker down (a crash, the OOM killer): it kills its
    // worker itself, which only a job running as the worker's own user can; by default a worker
    // started as root (as here) runs jobs as nobody, who could not.
    const c = await newCluster(3, ['--max-lost-attempts', '1', '--worker-timeout', '2'], ['--run-as', 'root']);
    const client = c.client();
    const killer = { name: 'killer.sh', content: 'kill -9 "$PPID"\nsleep 30\n' };
    const { runId } = await client.submit({ name: 'killer', jobs: [{ id: 'k', script: killer, retries: 0 }] });
    const final = await waitRunDone(client, runId, 45_000);
    const job = final.jobs[0] ?? expect.unreachable('no job');
    expect(job.status).toBe('DEAD');
    expect(job.error).toMatch(/2 attempts were lost to the infrastructure \(the limit is 1\)/);
    const { attempts } = await client.getJob(`${runId}/k`);
    expect(attempts.map((a) => a.outcome)).toEqual(['LOST', 'LOST']);
    expect(new Set(attempts.map((a) => a.workerId)).size).toBe(2);
    // The master's log says which workers it declared dead, what it re-queued, and what it gave up.
    const log = (c.master ?? expect.unreachable('no master')).output();
    for (const a of attempts) expect(log).toContain(`worker ${a.workerId} is dead (no heartbeat for`);
    expect(log).toMatch(/1 attempt lost \(worker \S+ is dead\): \S+\/k; they run again without spending a retry/);
    expect(log).toMatch(/\S+\/k is DEAD: 2 attempts were lost to the infrastructure/);
  });

  it('refuses a budget that is not a whole number', async () => {
    const r = await runCli(['master', '--max-lost-attempts', '-1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--max-lost-attempts.*must be a whole number from 0 to 1000/);
  });
});

describe('totals across a restart', () => {
  it('keeps completed, dead, attempts and retried, and counts an attempt in flight when the master went down', { timeout: 60_000 }, async () => {
    const c = await newCluster(1);
    const client = c.client();
    const flaky = { name: 'flaky.sh', content: 'if [ "$TITAN_ATTEMPT" = 1 ]; then exit 3; fi\necho ok\n' };
    const { runId } = await client.submit({
      name: 'totals',
      jobs: [
        { id: 'ok', script: ECHO, args: ['x'] },
        { id: 'flaky', script: flaky, retries: 1 },
        { id: 'bad', script: { name: 'bad.sh', content: 'exit 1\n' }, retries: 0 },
      ],
    });
    await waitRunDone(client, runId, 30_000);
    const before = (await client.stats()).totals;
    expect(before).toMatchObject({ submitted: 3, completed: 2, dead: 1, attempts: 4, retried: 1 });
    const slow = await client.submit({ name: 'in-flight', jobs: [{ id: 's', script: { name: 'slow.sh', content: 'sleep 3\n' } }] });
    await eventually(async () => (await client.getRun(slow.runId)).jobs.every((j) => j.status === 'RUNNING'), 15_000, 'the slow job to run');
    await killNine((c.master ?? expect.unreachable('no master')).child);
    client.close();
    await c.startMaster();
    const after = c.client();
    expect((await after.stats()).totals).toEqual({ submitted: 4, completed: 2, dead: 1, attempts: 5, retried: 1 });
    await waitRunDone(after, slow.runId, 30_000);
    expect((await after.stats()).totals).toEqual({ submitted: 4, completed: 3, dead: 1, attempts: 5, retried: 1 });
  });
});

describe('run listing', () => {
  it('pages through every run, newest first, over the protocol, the CLI and HTTP', { timeout: 90_000 }, async () => {
    const c = await newCluster(0);
    const client = c.client();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await client.submit({ name: `r${i}`, jobs: [{ id: 'a', script: ECHO, requirement: 'GPU' }] })).runId);
    const newestFirst = [...ids].reverse();

    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await client.runsPage({ limit: 10, ...(after !== undefined && { after }) });
      seen.push(...page.runs.map((r) => r.runId));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual(newestFirst);

    const first = await c.cli(['runs', '--json']);
    expect(first.code).toBe(0);
    const firstIds = (JSON.parse(first.stdout) as { runId: string }[]).map((r) => r.runId);
    expect(firstIds).toEqual(newestFirst.slice(0, 20));
    const plain = await c.cli(['runs']);
    const hint = /more runs: titan runs --after (\S+)\n/.exec(plain.stderr) ?? expect.unreachable(`no next-page hint in ${plain.stderr}`);
    const second = await c.cli(['runs', '--after', hint[1] ?? '', '--json']);
    expect((JSON.parse(second.stdout) as { runId: string }[]).map((r) => r.runId)).toEqual(newestFirst.slice(20));
    expect((await c.cli(['runs', '--after', 'nonsense'])).stderr).toMatch(/--after "nonsense" is not a cursor/);

    const base = `http://127.0.0.1:${c.httpPort}/api/runs`;
    const headers = { authorization: `Bearer ${c.token}` };
    const h1 = (await (await fetch(`${base}?limit=15`, { headers })).json()) as { runs: { runId: string }[]; next: string | null };
    expect(h1.runs.map((r) => r.runId)).toEqual(newestFirst.slice(0, 15));
    const h2 = (await (await fetch(`${base}?limit=15&after=${encodeURIComponent(h1.next ?? '')}`, { headers })).json()) as { runs: { runId: string }[]; next: string | null };
    expect(h2.runs.map((r) => r.runId)).toEqual(newestFirst.slice(15));
    expect(h2.next).toBeNull();
    expect((await fetch(`${base}?after=bad`, { headers })).status).toBe(400);
  });
});
