/**
 * Clients and workers given several master addresses find the one that leads: standbys (fakes
 * that refuse every HELLO with NOT_LEADER, naming the leader or not) are passed over, a named
 * leader is dialled next, and a master restarted on another address mid-session is found again
 * by a watch, a submission and a worker that hold both addresses.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { FakeStandby, freePort } from '../helpers/fake-standby.js';
import { killNine, sleep } from '../helpers/faults.js';
import { sh } from '../helpers/scripts.js';

describe('following the leader among several masters', () => {
  const cluster = new Cluster();
  const standbys: FakeStandby[] = [];
  const clients: TitanClient[] = [];
  const standby = async (leader?: string): Promise<FakeStandby> => {
    const s = await FakeStandby.start(leader);
    standbys.push(s);
    return s;
  };
  const client = (masters: string[]): TitanClient => {
    const c = new TitanClient({ masters, token: cluster.token, connectTimeoutMs: 15_000 });
    clients.push(c);
    return c;
  };
  const master = (): string => `127.0.0.1:${cluster.port}`;

  beforeAll(async () => {
    await cluster.startMaster();
  }, 30_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of standbys) await s.close();
    await cluster.stop();
  });

  it('the SDK passes over a standby that names no leader and reaches the master after it', async () => {
    const mute = await standby();
    const stats = await client([mute.address, master()]).stats();
    expect(stats.workers).toBeDefined();
    expect(mute.hellos).toBe(1);
  });

  it("the SDK follows a standby's hint to the leader before trying the next address", async () => {
    const pointer = await standby(master());
    const never = await standby();
    await client([pointer.address, never.address]).stats();
    expect([pointer.hellos, never.hellos]).toEqual([1, 0]);
  });

  it('the SDK gives up after its connect timeout with UNAVAILABLE naming every address tried', async () => {
    const [a, b] = [await standby(), await standby()];
    const c = new TitanClient({ masters: [a.address, b.address], token: cluster.token, connectTimeoutMs: 1500 });
    clients.push(c);
    const started = Date.now();
    const err = await c.stats().then(
      () => expect.unreachable('no master leads'),
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toContain(`tried ${a.address}, ${b.address}`);
    expect(Date.now() - started).toBeLessThan(5000);
    // Several rounds, with waits between them.
    expect(a.hellos).toBeGreaterThan(1);
  });

  it('the CLI takes the list in --master and in TITAN_MASTERS', async () => {
    const mute = await standby();
    const byFlag = await cluster.cli(['stats', '--json', '--master', `${mute.address},${master()}`]);
    expect(byFlag.code, byFlag.stderr).toBe(0);
    const byEnv = await cluster.cli(['stats', '--json'], { env: { TITAN_MASTERS: `${mute.address},${master()}` } });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    expect(mute.hellos).toBe(2);
    const bad = await cluster.cli(['stats', '--master', `${master()},nope:99999`]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('"nope:99999": the port must be from 1 to 65535')]);
  });

  it('a worker given a standby first follows its hint, joins the master and runs a job', { timeout: 60_000 }, async () => {
    const pointer = await standby(master());
    const worker = await cluster.startWorker({ args: ['--master', `${pointer.address},${master()}`] });
    expect(worker.output()).toMatch(new RegExp(`master ${pointer.address} does not lead \\(the leader is ${master()}\\)`));
    expect(worker.output()).toContain(`joined master ${master()}`);
    const c = client([pointer.address, master()]);
    const { runId } = await c.submit({ name: 'hinted', jobs: [{ id: 'a', script: sh('echo "masters=$TITAN_MASTERS"\n') }] });
    const done = await c.waitForRun(runId);
    expect(done.run.status).toBe('COMPLETED');
    // Jobs get the whole list, so their own SDK calls follow the leader too.
    expect(await c.logs(`${runId}/a`)).toBe(`masters=${pointer.address},${master()}\n`);
  });
});

describe('a master restarted on another address mid-session', () => {
  const cluster = new Cluster(['--reclaim-grace', '30']);
  const clients: TitanClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster.stop();
  });

  it('the worker, a run watch and a submission made while it is down carry on with the master at its new address', { timeout: 90_000 }, async () => {
    await cluster.startMaster();
    const first = `127.0.0.1:${cluster.port}`;
    const second = `127.0.0.1:${await freePort()}`;
    const masters = [first, second];
    await cluster.startWorker({ args: ['--master', masters.join(',')] });
    const c = new TitanClient({ masters, token: cluster.token, connectTimeoutMs: 20_000 });
    clients.push(c);
    const mark = join(cluster.dir, 'go');
    // The job waits for a file the test writes once the master has moved: it spans the failover.
    const { runId } = await c.submit({ name: 'spanning', jobs: [{ id: 'slow', script: sh(`while [ ! -f ${mark} ]; do sleep 0.1; done\necho done\n`), retries: 0 }] });
    const seen: string[] = [];
    const watched = c.waitForRun(runId, (e) => {
      if (e.type === 'job') seen.push(`${e.job.spec.id}:${e.job.status}`);
    });
    await eventually(async () => (await c.getRun(runId)).jobs[0]?.status === 'RUNNING', 15_000, 'the job to run');

    await killNine(cluster.master?.child ?? expect.unreachable('no master'));
    // Submitted while no master answers: sent again (same request id) once one does.
    const late = c.submit({ name: 'late', jobs: [{ id: 'quick', script: sh('echo quick\n') }] });
    await sleep(300);
    cluster.port = Number(second.split(':')[1]);
    await cluster.startMaster();
    await eventually(async () => (await c.workers()).length > 0, 15_000, 'the worker to rejoin the moved master');
    writeFileSync(mark, '');

    const done = await watched;
    expect(done.run.status).toBe('COMPLETED');
    expect(done.jobs.map((j) => [j.spec.id, j.status, j.attempt])).toEqual([['slow', 'COMPLETED', 1]]);
    expect(seen).toContain('slow:COMPLETED');
    const { runId: lateRun } = await late;
    expect((await c.waitForRun(lateRun)).run.status).toBe('COMPLETED');
    expect((await c.listRuns()).filter((r) => r.name === 'late')).toHaveLength(1);
  });
});
