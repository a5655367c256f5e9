/**
 * Flow control on real processes: jobs write when they start and end, and the timestamps show
 * that a concurrency key never lets more than its limit run at once (within a run, across runs,
 * and across a kill -9 of the master), that a rate limit spaces the starts, and that a small run
 * submitted behind a huge one takes its turns and finishes first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/protocol/methods.js';
import type { JobInput, TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { killNine } from '../helpers/faults.js';
import { EVENTS_PY, type EventLine, readEvents, sh, TempDir, waitRunStatus } from '../helpers/scripts.js';

/** The cheapest job a process worker runs (the bench's no-op script). */
const NOOP = sh('exit 0\n', 'noop.sh');

/** Jobs that record `<id> start|end <epoch s>` in `file`, each pausing `pauseS` between the two. */
function recordingJobs(prefix: string, n: number, file: string, pauseS: number, flow: Pick<JobInput, 'concurrency' | 'rateLimit'>): JobInput[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, script: EVENTS_PY, args: [file, `${prefix}${i}`, String(pauseS)], retries: 0, ...flow }));
}

/** Every job started and ended the same number of times, so each start has its end. */
function expectBalanced(events: readonly EventLine[], ids: readonly string[]): void {
  const count = (id: string, event: string): number => events.filter((e) => e.id === id && e.event === event).length;
  expect(ids.filter((id) => count(id, 'start') === 0 || count(id, 'start') !== count(id, 'end'))).toEqual([]);
}

/** The most jobs running at once, swept over the start and end timestamps (an end before a start at the same instant). */
function maxOverlap(events: readonly EventLine[]): number {
  const steps = events.map((e) => ({ t: e.t, d: e.event === 'start' ? 1 : -1 }));
  steps.sort((a, b) => a.t - b.t || a.d - b.d);
  let running = 0;
  let most = 0;
  for (const s of steps) {
    running += s.d;
    most = Math.max(most, running);
  }
  return most;
}

/** Whether jobs of both groups ran at the same moment. */
function ranTogether(events: readonly EventLine[], a: (id: string) => boolean, b: (id: string) => boolean): boolean {
  const spans = (of: (id: string) => boolean): [number, number][] =>
    events.filter((e) => e.event === 'start' && of(e.id)).map((s) => [s.t, events.find((e) => e.id === s.id && e.event === 'end')?.t ?? s.t]);
  return spans(a).some(([s1, e1]) => spans(b).some(([s2, e2]) => s1 < e2 && s2 < e1));
}

const startsOf = (events: readonly EventLine[]): number[] =>
  events
    .filter((e) => e.event === 'start')
    .map((e) => e.t)
    .sort((x, y) => x - y);

describe('flow control on a real cluster', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-flow-');
  let client: TitanClient;

  beforeAll(async () => {
    await cluster.startMaster();
    // 8 slots in all: slots never hold back what the keys should.
    await cluster.startWorker({ slots: 4 });
    await cluster.startWorker({ slots: 4 });
    client = cluster.client();
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  it('runs 10 jobs with a key limit of 2 never more than 2 at once, and 2 at once at times', { timeout: 90_000 }, async () => {
    const file = tmp.file('key-limit.txt');
    const jobs = recordingJobs('k', 10, file, 0.6, { concurrency: { key: 'db', limit: 2 } });
    const { runId } = await client.submit({ name: 'key-limit', jobs });
    // While the first two run, the others wait for the key.
    const waiting = await eventually(async () => {
      const { jobs: views } = await client.getRun(runId);
      const running = views.filter((j) => j.status === 'RUNNING');
      return running.length === 2 && views.some((j) => j.status === 'QUEUED') ? running : null;
    }, 30_000, 'two jobs running and the rest queued');
    expect(waiting).toHaveLength(2);
    const keys = await client.call('limits.list', {});
    const db = keys.keys.find((k) => k.key === 'db');
    expect(db?.holders.length ?? 0).toBeLessThanOrEqual(2);

    await waitRunStatus(client, runId, 'COMPLETED', 60_000);
    const events = readEvents(file);
    expectBalanced(events, jobs.map((j) => j.id ?? ''));
    expect(maxOverlap(events)).toBe(2);
  });

  it('spaces 20 jobs with a rate limit of 5/s over at least 3 s (a burst of 5, then one every 200 ms)', { timeout: 90_000 }, async () => {
    const file = tmp.file('rate.txt');
    const jobs = recordingJobs('r', 20, file, 0, { rateLimit: { key: 'api', limit: 5, per: 'second' } });
    const { runId } = await client.submit({ name: 'rate', jobs });
    const done = await waitRunStatus(client, runId, 'COMPLETED', 60_000);

    // The master's dispatch times follow the bucket exactly: the (5 + n)th start is n × 200 ms after the first.
    const dispatched = done.jobs.map((j: JobView) => j.startedAt ?? 0).sort((a, b) => a - b);
    const first = dispatched[0] ?? 0;
    dispatched.forEach((t, i) => expect(t - first, `start ${i + 1}`).toBeGreaterThanOrEqual(Math.max(0, i - 4) * 200));

    const events = readEvents(file);
    expectBalanced(events, jobs.map((j) => j.id ?? ''));
    const starts = startsOf(events);
    const span = (starts.at(-1) ?? 0) - (starts[0] ?? 0);
    // The first five processes start together and the last alone, so their start-up may differ by a few tens of ms.
    expect(span).toBeGreaterThanOrEqual(2.9);
    // Held back by the rate, not by anything else: 20 quick jobs on 8 slots start within a second otherwise.
    expect(span).toBeLessThan(8);
  });

  it('keeps two runs sharing a key with limit 2 at 2 together, taking turns', { timeout: 90_000 }, async () => {
    const file = tmp.file('shared.txt');
    const flow = { concurrency: { key: 'shared', limit: 2 } };
    const first = recordingJobs('a', 5, file, 0.5, flow);
    const second = recordingJobs('b', 5, file, 0.5, flow);
    const [one, two] = await Promise.all([client.submit({ name: 'shared-a', jobs: first }), client.submit({ name: 'shared-b', jobs: second })]);
    await waitRunStatus(client, one.runId, 'COMPLETED', 60_000);
    await waitRunStatus(client, two.runId, 'COMPLETED', 60_000);

    const events = readEvents(file);
    expectBalanced(events, [...first, ...second].map((j) => j.id ?? ''));
    expect(maxOverlap(events)).toBe(2);
    // The runs shared the key rather than one waiting for the other.
    expect(ranTogether(events, (id) => id.startsWith('a'), (id) => id.startsWith('b'))).toBe(true);
  });

  it('finishes a 3-job run submitted behind a 5,000-job run while the big run still has jobs queued', { timeout: 120_000 }, async () => {
    const big = Array.from({ length: 5_000 }, (_, i): JobInput => ({ id: `n${i}`, script: NOOP, retries: 0 }));
    const { runId: bigRun } = await client.submit({ name: 'big', jobs: big });
    await eventually(async () => ((await client.listRuns({ limit: 10 })).find((r) => r.runId === bigRun)?.counts.COMPLETED ?? 0) > 0, 30_000, 'the big run to be under way');

    const chain: JobInput[] = ['a', 'b', 'c'].map((id, i) => ({ id, script: NOOP, retries: 0, dependsOn: i === 0 ? [] : [['a', 'b'][i - 1] ?? ''] }));
    const { runId: smallRun } = await client.submit({ name: 'small', jobs: chain });
    const small = await client.waitForRun(smallRun);
    const bigNow = (await client.listRuns({ limit: 10 })).find((r) => r.runId === bigRun);
    expect(small.run.status).toBe('COMPLETED');
    expect(bigNow?.status).toBe('RUNNING');
    expect(bigNow?.counts.QUEUED ?? 0).toBeGreaterThan(0);

    await client.cancelRun(bigRun);
    await waitRunStatus(client, bigRun, 'CANCELLED', 60_000);
  });
});

describe('cluster limits across a kill -9 of the master', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-flow-restart-');

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4 });
    await cluster.startWorker({ slots: 4 });
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  it('keeps a limit of 1 set with limits.set, and the jobs on its key never overlap before or after the restart', { timeout: 120_000 }, async () => {
    const client = cluster.client();
    const { limits } = await client.call('limits.set', { key: 'licence', concurrency: 1 });
    expect(limits).toEqual([{ key: 'licence', concurrency: 1 }]);

    const file = tmp.file('licence.txt');
    // The jobs name the key without a limit of their own: the cluster's applies.
    const jobs = recordingJobs('l', 4, file, 2, { concurrency: { key: 'licence' } });
    const { runId } = await client.submit({ name: 'licensed', jobs });
    await eventually(() => readEvents(file).some((e) => e.event === 'start'), 30_000, 'a job on the key to start');
    const running = (await client.getRun(runId)).jobs.filter((j) => j.status === 'RUNNING');
    expect(running).toHaveLength(1);

    await killNine((cluster.master ?? expect.unreachable('no master')).child);
    client.close();
    await cluster.startMaster();
    const after = cluster.client();
    const listed = await after.call('limits.list', {});
    expect(listed.keys.find((k) => k.key === 'licence')?.limit).toEqual({ key: 'licence', concurrency: 1 });

    const final = await waitRunStatus(after, runId, 'COMPLETED', 90_000);
    expect(final.jobs.map((j) => j.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    const events = readEvents(file);
    expectBalanced(events, jobs.map((j) => j.id ?? ''));
    expect(maxOverlap(events)).toBe(1);
    // Still listed once the run is over, with nothing holding it.
    expect((await after.call('limits.list', {})).keys).toEqual([{ key: 'licence', limit: { key: 'licence', concurrency: 1 }, holders: [], waiters: 0, nextTokenAt: null }]);
  });
});
