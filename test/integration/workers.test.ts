/**
 * Operating workers: drain (finish, take no more) and shutdown (drain, then exit), refused for a
 * permanent worker unless forced; old run folders pruned from a worker's disk.
 */
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, eventually, kill, waitForOutput } from '../helpers/cluster.js';
import { refusal, sh, waitJob } from '../helpers/scripts.js';

const SLEEP = sh('sleep "$1"\necho done\n', 'sleep.sh');

describe('worker operations', () => {
  const cluster = new Cluster();
  beforeAll(() => cluster.startMaster());
  afterAll(() => cluster.stop());

  it('a drained worker finishes its running job but takes no new one', async () => {
    const worker = await cluster.startWorker({ capabilities: ['DRAIN'], port: 8301 });
    const client = cluster.client();
    const first = await client.submit({ name: 'busy', jobs: [{ id: 'long', script: SLEEP, args: ['1.5'], requirement: 'DRAIN' }] });
    await waitJob(client, `${first.runId}/long`, 'RUNNING');
    const drained = await cluster.cli(['workers', 'drain', '127.0.0.1:8301']);
    expect(drained.code, drained.stderr).toBe(0);
    expect((await client.workers()).find((w) => w.id === '127.0.0.1:8301')?.state).toBe('draining');
    const second = await client.submit({ name: 'later', jobs: [{ id: 'next', script: SLEEP, args: ['0'], requirement: 'DRAIN' }] });
    await waitJob(client, `${first.runId}/long`, 'COMPLETED');
    // The drained worker is idle now, and still takes nothing.
    await new Promise((r) => setTimeout(r, 500));
    expect((await client.getJob(`${second.runId}/next`)).job.status).toBe('QUEUED');
    await client.cancelRun(second.runId);
    await kill(worker, 'SIGKILL');
  });

  it('shutdown stops an ephemeral worker process; a permanent one needs --force', async () => {
    const ephemeral = await cluster.startWorker({ port: 8302 });
    const exited = new Promise<number | null>((resolve) => ephemeral.child.once('exit', (code) => resolve(code)));
    const r = await cluster.cli(['workers', 'shutdown', '127.0.0.1:8302']);
    expect(r.code, r.stderr).toBe(0);
    expect(await exited).toBe(0);
    const client = cluster.client();
    await eventually(async () => !(await client.workers()).some((w) => w.id === '127.0.0.1:8302'), 10_000, 'the worker to leave');

    const permanent = await cluster.startWorker({ port: 8303, permanent: true });
    expect((await refusal(client.shutdownWorker('127.0.0.1:8303'))).message).toMatch(/permanent.*--force/);
    const refused = await cluster.cli(['workers', 'shutdown', '127.0.0.1:8303']);
    expect(refused.code).toBe(1);
    const stopped = new Promise<number | null>((resolve) => permanent.child.once('exit', (code) => resolve(code)));
    expect((await cluster.cli(['workers', 'shutdown', '127.0.0.1:8303', '--force'])).code).toBe(0);
    expect(await stopped).toBe(0);
    expect((await refusal(client.drainWorker('127.0.0.1:9999'))).code).toBe('NOT_FOUND');
  });

  it('removes run folders older than --keep-runs-hours at start, and keeps the ones it runs', async () => {
    const workDir = join(cluster.dir, 'pruned-worker');
    const old = join(workDir, 'runs', 'ancient-run', 'step.1');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'output.txt'), 'from last week');
    const weekAgo = new Date(Date.now() - 7 * 24 * 3600_000);
    for (const dir of [old, join(workDir, 'runs', 'ancient-run')]) utimesSync(dir, weekAgo, weekAgo);

    const worker = await cluster.startWorker({ capabilities: ['PRUNE'], port: 8303, workDir, args: ['--keep-runs-hours', '24'] });
    await waitForOutput(worker, /removed 1 run folder and 0 cached files untouched for 24 h/, 10_000);
    expect(existsSync(join(workDir, 'runs', 'ancient-run'))).toBe(false);

    const client = cluster.client();
    const { runId } = await client.submit({ name: 'fresh', jobs: [{ id: 'now', script: SLEEP, args: ['0'], requirement: 'PRUNE' }] });
    await waitJob(client, `${runId}/now`, 'COMPLETED');
    expect(existsSync(join(workDir, 'runs', runId, 'now.1'))).toBe(true);
    await kill(worker, 'SIGKILL');
  });
});
