/**
 * Singleton and debounce on real processes: a burst of debounced submissions runs once, the
 * others end CANCELLED naming the run that replaced them; a singleton submission while the
 * first run runs is answered with that run, also after the master was killed -9 and restarted
 * on the same SQLite store.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { killNine, waitRunDone } from '../helpers/faults.js';

let cluster: Cluster | null = null;

afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

async function newCluster(): Promise<Cluster> {
  const c = new Cluster();
  cluster = c;
  await c.startMaster();
  await c.startWorker({ slots: 4 });
  return c;
}

const ECHO = { name: 'echo.sh', content: 'echo "$1"\n' };
const SLEEP = { name: 'sleep.sh', content: 'sleep 60\n' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runningJob(client: TitanClient, runId: string): Promise<void> {
  await eventually(async () => (await client.getRun(runId)).jobs.some((j) => j.status === 'RUNNING'), 20_000, `a job of run ${runId} running`);
}

describe('debounce', () => {
  it('five submissions of one key 200 ms apart make one run that runs; the four before it end CANCELLED, each naming the run that replaced it', { timeout: 60_000 }, async () => {
    const c = await newCluster();
    const client = c.client();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      if (i > 0) await sleep(200);
      const answer = await client.submit({ name: 'push', debounce: { key: 'push-{name}', waitMs: 1_500 }, jobs: [{ id: 'build', script: ECHO, args: [`#${i}`] }] });
      expect(answer.replaced).toEqual(i === 0 ? undefined : [ids[i - 1]]);
      ids.push(answer.runId);
    }
    const last = ids[4] as string;
    const done = await waitRunDone(client, last, 30_000);
    expect(done.run.status).toBe('COMPLETED');
    expect(done.run.flow?.debounce).toMatchObject({ key: 'push-push', waitMs: 1_500 });
    // It started no job before its window had passed.
    const started = done.jobs[0]?.startedAt ?? 0;
    expect(started - done.run.createdAt).toBeGreaterThanOrEqual(1_500);
    for (let i = 0; i < 4; i++) {
      const view = await client.getRun(ids[i] as string);
      expect(view.run.status).toBe('CANCELLED');
      expect(view.jobs.map((j) => [j.status, j.error, j.attempt])).toEqual([['CANCELLED', `replaced by run ${ids[i + 1]} (debounce push-push)`, 0]]);
    }
  });
});

describe('debounce across a restart', () => {
  it('keeps the window of a waiting run through kill -9 of the master: a newer submission after the restart replaces it', { timeout: 60_000 }, async () => {
    const c = await newCluster();
    const client = c.client();
    const run = { name: 'sync', debounce: { key: 'sync', waitMs: 4_000 }, jobs: [{ id: 'a', script: ECHO, args: ['x'] }] };
    const first = await client.submit(run);
    await killNine((c.master ?? expect.unreachable('no master')).child);
    client.close();
    await c.startMaster();
    const after = c.client();
    const second = await after.submit(run);
    expect(second.replaced).toEqual([first.runId]);
    expect((await waitRunDone(after, second.runId, 30_000)).run.status).toBe('COMPLETED');
    const replaced = await after.getRun(first.runId);
    expect([replaced.run.status, replaced.jobs[0]?.error, replaced.jobs[0]?.attempt]).toEqual(['CANCELLED', `replaced by run ${second.runId} (debounce sync)`, 0]);
  });
});

describe('singleton', () => {
  it('answers a submission while the holder runs with the holder, also after kill -9 and a restart of the master; a new run once it has ended', { timeout: 90_000 }, async () => {
    const c = await newCluster();
    const client = c.client();
    const run = { name: 'nightly', tags: ['customer=acme'], singleton: 'nightly-{tags.customer}', jobs: [{ id: 'long', script: SLEEP }] };
    const first = await client.submit(run);
    expect(first.singleton).toBeUndefined();
    await runningJob(client, first.runId);
    expect(await client.submit(run)).toEqual({ runId: first.runId, jobs: ['long'], singleton: { key: 'nightly-acme', heldBy: first.runId } });

    await killNine((c.master ?? expect.unreachable('no master')).child);
    client.close();
    await c.startMaster();
    const after = c.client();
    expect(await after.submit(run)).toEqual({ runId: first.runId, jobs: ['long'], singleton: { key: 'nightly-acme', heldBy: first.runId } });
    // The same from pipeline YAML through the CLI.
    writeFileSync(join(c.dir, 'sleep.sh'), SLEEP.content);
    writeFileSync(join(c.dir, 'nightly.yaml'), 'name: nightly\ntags: [customer=acme]\nsingleton: nightly-{tags.customer}\njobs:\n  - id: long\n    file: sleep.sh\n');
    const cli = await c.cli(['submit', 'nightly.yaml']);
    expect(cli.stdout.trim()).toBe(`run ${first.runId} holds the singleton key nightly-acme: no new run was submitted`);
    expect((await after.listRuns({ limit: 100 })).filter((r) => r.name === 'nightly')).toHaveLength(1);

    await after.cancelRun(first.runId);
    expect((await waitRunDone(after, first.runId, 20_000)).run.status).toBe('CANCELLED');
    const next = await after.submit(run);
    expect(next.runId).not.toBe(first.runId);
    expect(next.singleton).toBeUndefined();
    await after.cancelRun(next.runId);
    await waitRunDone(after, next.runId, 20_000);
  });
});
