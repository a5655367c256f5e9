/**
 * Placement on a real cluster: capability pools, pools that do not block each other, jobs for a
 * capability no worker has, required affinity and least-loaded spreading.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/protocol/methods.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster } from '../helpers/cluster.js';
import { EVENTS_PY, GATED_PY, jobOf, readEvents, readPid, TempDir, waitJob, waitRun, waitRunStatus } from '../helpers/scripts.js';

async function workerWith(client: TitanClient, capability: string): Promise<string> {
  const workers = await client.workers();
  const found = workers.filter((w) => w.capabilities.includes(capability));
  if (found.length !== 1) throw new Error(`expected one worker with ${capability}, found ${found.map((w) => w.id).join(', ') || 'none'}`);
  return (found[0] as { id: string }).id;
}

const countBy = (jobs: JobView[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const j of jobs) counts.set(j.workerId ?? '-', (counts.get(j.workerId ?? '-') ?? 0) + 1);
  return counts;
};

describe('capability routing', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-routing-');
  let general = '';
  let gpu = '';

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ capabilities: ['GENERAL'], slots: 4 });
    await cluster.startWorker({ capabilities: ['GPU'], slots: 4 });
    const client = cluster.client();
    general = await workerWith(client, 'GENERAL');
    gpu = await workerWith(client, 'GPU');
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  it('runs GPU jobs only on the GPU worker and GENERAL jobs only on the GENERAL worker', async () => {
    const client = cluster.client();
    const log = tmp.file('split.log');
    const { runId } = await client.submit({
      name: 'split',
      jobs: [
        ...[1, 2, 3, 4, 5, 6].map((i) => ({ id: `gpu${i}`, script: EVENTS_PY, args: [log, `gpu${i}`, '0.2'], requirement: 'GPU' })),
        ...[1, 2, 3, 4, 5, 6].map((i) => ({ id: `cpu${i}`, script: EVENTS_PY, args: [log, `cpu${i}`, '0.2'] })),
      ],
    });
    const view = await waitRunStatus(client, runId, 'COMPLETED');
    for (const j of view.jobs) {
      expect(j.workerId, j.spec.id).toBe(j.spec.id.startsWith('gpu') ? gpu : general);
      expect(j.spec.requirement).toBe(j.spec.id.startsWith('gpu') ? 'GPU' : 'GENERAL');
    }
    expect(readEvents(log)).toHaveLength(24);
  });

  it('never holds a GENERAL job behind a saturated GPU pool, even one with higher priorities', async () => {
    const client = cluster.client();
    const gate = tmp.file('busy.release');
    const log = tmp.file('busy.log');
    const pidFiles = [1, 2, 3, 4].map((i) => tmp.file(`busy.gpu${i}.pid`));
    const long = await client.submit({
      name: 'gpu-long',
      jobs: pidFiles.map((pidFile, i) => ({ id: `long${i + 1}`, script: GATED_PY, args: [pidFile, gate], requirement: 'GPU', priority: 50 })),
    });
    try {
      for (const f of pidFiles) await readPid(f, 'the long GPU jobs to start');
      const queued = await client.submit({
        name: 'gpu-queued',
        jobs: [1, 2, 3].map((i) => ({ id: `queued${i}`, script: EVENTS_PY, args: [log, `queued${i}`], requirement: 'GPU', priority: 100 })),
      });
      const cpu = await client.submit({ name: 'cpu', jobs: [{ id: 'cpu', script: EVENTS_PY, args: [log, 'cpu'], priority: -10 }] });
      const cpuJob = await waitJob(client, `${cpu.runId}/cpu`, ['COMPLETED', 'DEAD'], 20_000);
      expect(cpuJob.status).toBe('COMPLETED');
      expect(cpuJob.workerId).toBe(general);
      // The GPU pool is still saturated: its higher-priority jobs did not get ahead of the GENERAL one.
      const queuedNow = await client.getRun(queued.runId);
      expect(queuedNow.jobs.map((j) => j.status)).toEqual(['QUEUED', 'QUEUED', 'QUEUED']);
      const longNow = await client.getRun(long.runId);
      expect(longNow.jobs.map((j) => j.status)).toEqual(['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);
      expect((await client.stats()).queuedByCapability.GPU).toBe(3);

      writeFileSync(gate, 'go');
      const finalQueued = await waitRunStatus(client, queued.runId, 'COMPLETED');
      for (const j of finalQueued.jobs) expect(j.workerId).toBe(gpu);
      await waitRunStatus(client, long.runId, 'COMPLETED');
    } finally {
      writeFileSync(gate, 'go');
    }
  });

  it('keeps a job for a capability no worker has QUEUED, and runs it once such a worker joins', async () => {
    const client = cluster.client();
    const log = tmp.file('fpga.log');
    const fpga = await client.submit({ name: 'fpga', jobs: [{ id: 'fpga', script: EVENTS_PY, args: [log, 'fpga'], requirement: 'FPGA' }] });
    // Later work flows past it: the master keeps dispatching while the FPGA job waits.
    const later = await client.submit({ name: 'later', jobs: [{ id: 'later', script: EVENTS_PY, args: [log, 'later'] }] });
    await waitRunStatus(client, later.runId, 'COMPLETED');
    const waiting = await client.getJob(`${fpga.runId}/fpga`);
    expect(waiting.job.status).toBe('QUEUED');
    expect(waiting.job.waitingReason).toBe('no connected worker offers FPGA; 2 workers are connected: 1 GENERAL, 1 GPU');
    expect(waiting.job.attempt).toBe(0);
    expect(waiting.attempts).toEqual([]);
    expect((await client.stats()).queuedByCapability.FPGA).toBe(1);
    expect((await client.getRun(fpga.runId)).run.status).toBe('RUNNING');

    await cluster.startWorker({ capabilities: ['FPGA'], slots: 1 });
    const fpgaWorker = await workerWith(client, 'FPGA');
    const view = await waitRunStatus(client, fpga.runId, 'COMPLETED', 20_000);
    expect(jobOf(view, 'fpga').workerId).toBe(fpgaWorker);
    expect(jobOf(view, 'fpga').waitingReason).toBeNull();
    expect(readEvents(log).map((e) => `${e.id} ${e.event}`)).toEqual(['later start', 'later end', 'fpga start', 'fpga end']);
  });
});

describe('placement among workers of one pool', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-placement-');
  let workerIds: string[] = [];

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4 });
    await cluster.startWorker({ slots: 4 });
    workerIds = (await cluster.client().workers()).map((w) => w.id).sort();
    expect(workerIds).toHaveLength(2);
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  it('runs a child with required affinity on the worker that ran its parent', async () => {
    const client = cluster.client();
    const log = tmp.file('affinity.log');
    const parents = ['p1', 'p2', 'p3', 'p4'];
    const { runId } = await client.submit({
      name: 'affinity',
      jobs: [
        ...parents.map((id) => ({ id, script: EVENTS_PY, args: [log, id, '0.3'] })),
        ...parents.map((id) => ({ id: `c-${id}`, script: EVENTS_PY, args: [log, `c-${id}`, '0.3'], dependsOn: [id], affinity: 'required' as const })),
      ],
    });
    const view = await waitRunStatus(client, runId, 'COMPLETED');
    for (const id of parents) expect(jobOf(view, `c-${id}`).workerId, `c-${id}`).toBe(jobOf(view, id).workerId);
    // The parents were spread over both workers, so following them was a real constraint.
    expect([...new Set(parents.map((id) => jobOf(view, id).workerId ?? ''))].sort()).toEqual(workerIds);
  });

  it('spreads concurrent jobs over the least-loaded workers', async () => {
    const client = cluster.client();
    // Four jobs into eight free slots: least-loaded placement gives each worker two.
    const four = await client.submit({ name: 'four', jobs: [1, 2, 3, 4].map((i) => ({ id: `s${i}`, script: EVENTS_PY, args: [tmp.file('four.log'), `s${i}`, '0.5'] })) });
    const fourView = await waitRunStatus(client, four.runId, 'COMPLETED');
    expect([...countBy(fourView.jobs).entries()].sort()).toEqual(workerIds.map((w) => [w, 2]));

    // Eight sleeping jobs at once: both workers take some, and all eight run concurrently.
    const log = tmp.file('eight.log');
    const eight = await client.submit({ name: 'eight', jobs: [1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ id: `e${i}`, script: EVENTS_PY, args: [log, `e${i}`, '2'] })) });
    const eightView = await waitRun(client, eight.runId);
    expect(eightView.run.status).toBe('COMPLETED');
    const counts = countBy(eightView.jobs);
    for (const w of workerIds) expect(counts.get(w) ?? 0, `jobs on ${w}`).toBeGreaterThan(0);
    expect([...counts.values()].sort()).toEqual([4, 4]);
    const events = readEvents(log);
    const lastStart = Math.max(...events.filter((e) => e.event === 'start').map((e) => e.t));
    const firstEnd = Math.min(...events.filter((e) => e.event === 'end').map((e) => e.t));
    expect(lastStart).toBeLessThan(firstEnd);
  });
});
