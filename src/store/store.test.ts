/**
 * The Store conformance suite: every test runs on every backend of storeBackends() (SQLite always;
 * Redis on a private redis-server and PostgreSQL on a private server, both required in CI). Tests
 * specific to one backend live in sqlite-store.test.ts, sqlite-schedules.test.ts,
 * redis-store.test.ts and postgres-store.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ArtifactInfo, DATA_LIMITS, type KvOp, type KvOutcome } from '../core/data.js';
import { RunSpecSchema } from '../core/model.js';
import type { JobRecord } from '../core/model.js';
import { ScheduleSpecSchema } from '../core/schedule.js';
import type { StepRecord } from '../core/steps.js';
import { type DeliveryRecord, type TriggerRecord, TriggerLimitsSchema } from '../core/trigger.js';
import { emptyBatch, type Store, type StoreBatch } from './store.js';
import type { NotificationDelivery } from '../core/notify-spec.js';
import { jobSpec } from '../../test/helpers/records.js';
import { attempt, batch, fullSpec, job, run, schedule, submit } from '../../test/helpers/store-fixtures.js';
import { storeBackends } from '../../test/helpers/stores.js';

const spec = jobSpec;
const { factories, missing } = storeBackends();

// ---- per-test temp dir and open stores ----

let dir: string;
let opened: Store[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'titan-store-'));
  opened = [];
});

afterEach(async () => {
  for (const s of opened) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

if (missing !== null) {
  describe('Store conformance: server backends', () => {
    it('runs in CI', () => {
      throw new Error(missing);
    });
  });
}

describe.each(factories)('Store conformance: $name', (factory) => {
  beforeAll(async () => {
    await factory.setup?.();
  }, 60_000);

  afterAll(async () => {
    await factory.teardown?.();
  });

  const open = async (): Promise<Store> => {
    const s = await factory.open(dir);
    opened.push(s);
    return s;
  };

  it('starts empty', async () => {
    const store = await open();
    expect(await store.getRun('r1')).toBeNull();
    expect(await store.getRunJobs('r1')).toEqual([]);
    expect(await store.findJob('a', null)).toBeNull();
    expect(await store.findJob('a', 'r1')).toBeNull();
    expect(await store.listAttempts('r1', 'a')).toEqual([]);
    expect(await store.listRuns({ limit: 10 })).toEqual([]);
    expect(await store.loadActiveRuns()).toEqual([]);
    expect(await store.totals()).toEqual({ submitted: 0, completed: 0, dead: 0, attempts: 0, retried: 0 });
    expect(await store.getMeta('k')).toBeNull();
  });

  it('reads back committed runs, jobs and attempts with every field equal', async () => {
    const store = await open();
    const r = run('r1', 1_700_000_000_123, 'RUNNING', { name: 'nightly build', agentRunId: 'agent-7' });
    const a = job('r1', fullSpec('a'), {
      status: 'RUNNING',
      attempt: 2,
      notBefore: 1_700_000_000_500,
      workerId: 'host-1:7070',
      exitCode: null,
      error: 'previous attempt: exit 1',
      createdAt: 1_700_000_000_123,
      startedAt: 1_700_000_001_000,
    });
    const b = job('r1', spec('b', { dependsOn: ['a'] }), {
      status: 'COMPLETED',
      attempt: 1,
      workerId: 'host-2:7070',
      exitCode: 0,
      startedAt: 1_700_000_002_000,
      finishedAt: 1_700_000_003_000,
    });
    const at1 = attempt('r1', 'a', 1, {
      workerId: 'host-1:7070',
      finishedAt: 1_700_000_000_900,
      outcome: 'FAILED',
      exitCode: 1,
      error: 'exit 1',
    });
    const at2 = attempt('r1', 'a', 2, { workerId: 'host-1:7070' });
    await store.commit({ runs: [r], newJobs: [a, b], jobs: [], attempts: [at2, at1], decisions: [] });

    expect(await store.getRun('r1')).toStrictEqual(r);
    expect(await store.getRunJobs('r1')).toStrictEqual([a, b]);
    expect(await store.findJob('a', 'r1')).toStrictEqual(a);
    expect(await store.findJob('b', null)).toStrictEqual(b);
    expect(await store.listAttempts('r1', 'a')).toStrictEqual([at1, at2]);
    expect(await store.listAttempts('r1', 'b')).toEqual([]);
  });

  it('keeps the timeline’s times: a job’s queue time, an attempt’s queue and process-start times, read back per job and per run', async () => {
    const store = await open();
    const [a] = await submit(store, run('r1', 1_000), ['a', 'b']);
    if (a === undefined) throw new Error('unreachable');
    const queued = { ...a, status: 'QUEUED' as const, queuedAt: 1_700_000_000_100 };
    const a1 = attempt('r1', 'a', 1, { queuedAt: 1_700_000_000_100, startedAt: 1_700_000_000_150, runningAt: 1_700_000_000_170, finishedAt: 1_700_000_000_900, outcome: 'FAILED', exitCode: 1 });
    const a2 = attempt('r1', 'a', 2, { queuedAt: 1_700_000_001_000, startedAt: 1_700_000_001_010, finishedAt: 1_700_000_001_020, outcome: 'COMPLETED', exitCode: 0 });
    const b1 = attempt('r1', 'b', 1, { finishedAt: 3_000, outcome: 'LOST' });
    await store.commit(batch({ jobs: [queued], attempts: [a2, b1, a1] }));
    expect(await store.findJob('a', 'r1')).toStrictEqual(queued);
    expect(await store.listAttempts('r1', 'a')).toStrictEqual([a1, a2]);
    const all = await store.listRunAttempts('r1');
    expect(all.filter((x) => x.jobId === 'a')).toStrictEqual([a1, a2]);
    expect(all.filter((x) => x.jobId === 'b')).toStrictEqual([b1]);
    expect(all).toHaveLength(3);
    expect(await store.listRunAttempts('nope')).toEqual([]);
  });

  it('returns a run’s jobs in the order they were inserted', async () => {
    const store = await open();
    const ids = ['zeta', 'alpha', 'mid', 'b10', 'b2'];
    await submit(store, run('r1', 1), ids);
    await store.commit(batch({ newJobs: [job('r1', 'later')] }));
    expect((await store.getRunJobs('r1')).map((j) => j.spec.id)).toEqual([...ids, 'later']);
  });

  it('updates only the mutable fields of a stored job', async () => {
    const store = await open();
    const [original] = await submit(store, run('r1', 1_000), [fullSpec('a')]);
    if (original === undefined) throw new Error('unreachable');
    const changed: JobRecord = {
      ...original,
      // Immutable: these must be ignored.
      spec: { ...original.spec, args: ['changed'], retries: 9, env: {} },
      createdAt: 99_999,
      // Mutable.
      status: 'FAILED',
      attempt: 3,
      notBefore: 5_000,
      workerId: 'w9:1',
      exitCode: 137,
      error: 'killed',
      startedAt: 4_000,
      finishedAt: 4_500,
    };
    await store.commit(batch({ jobs: [changed] }));
    expect(await store.findJob('a', 'r1')).toStrictEqual({ ...changed, spec: original.spec, createdAt: original.createdAt });

    // Nullable fields can be cleared again.
    const cleared: JobRecord = { ...changed, status: 'QUEUED', notBefore: null, workerId: null, exitCode: null, error: null, startedAt: null, finishedAt: null };
    await store.commit(batch({ jobs: [cleared] }));
    expect(await store.findJob('a', 'r1')).toStrictEqual({ ...cleared, spec: original.spec, createdAt: original.createdAt });
  });

  it('upserts runs and attempts', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000), ['a']);
    await store.commit(batch({ attempts: [attempt('r1', 'a', 1)] }));

    const finishedRun = run('r1', 1_000, 'COMPLETED', { name: 'renamed', agentRunId: 'ag', finishedAt: 9_000 });
    const finishedAttempt = attempt('r1', 'a', 1, { finishedAt: 8_000, outcome: 'COMPLETED', exitCode: 0 });
    await store.commit(batch({ runs: [finishedRun], attempts: [finishedAttempt] }));

    expect(await store.getRun('r1')).toStrictEqual(finishedRun);
    expect(await store.listAttempts('r1', 'a')).toStrictEqual([finishedAttempt]);
    expect((await store.totals()).attempts).toBe(1);
  });

  it('applies a batch in order: runs, new jobs, job updates, attempts', async () => {
    const store = await open();
    const r = run('r1', 1_000);
    const inserted = job('r1', 'a');
    const updated = job('r1', 'a', { status: 'RUNNING', attempt: 1, workerId: 'w1:7070', startedAt: 2_001 });
    const at = attempt('r1', 'a', 1);
    // Listed in the reverse of the order they must be applied in.
    await store.commit({ decisions: [], attempts: [at], jobs: [updated], newJobs: [inserted], runs: [r] });
    expect(await store.findJob('a', 'r1')).toStrictEqual(updated);
    expect(await store.listAttempts('r1', 'a')).toStrictEqual([at]);
  });

  it.each([
    ['a new job that is already stored', (b: StoreBatch) => b.newJobs.push(job('r0', 'a'))],
    ['a job inserted twice in the batch', (b: StoreBatch) => b.newJobs.push(job('r2', 'x'))],
    ['a new job of a run that was never stored', (b: StoreBatch) => b.newJobs.push(job('no-run', 'x'))],
    ['an update of a job that was never stored', (b: StoreBatch) => b.jobs.push(job('r0', 'nope', { status: 'RUNNING' }))],
    ['an attempt of a job that was never stored', (b: StoreBatch) => b.attempts.push(attempt('r0', 'nope', 1))],
  ])('rejects a batch containing %s and applies none of it', async (_label, spoil) => {
    const store = await open();
    const r0 = run('r0', 1_000);
    const [a] = await submit(store, r0, ['a', 'b']);
    if (a === undefined) throw new Error('unreachable');
    const before = {
      run: await store.getRun('r0'),
      jobs: await store.getRunJobs('r0'),
      totals: await store.totals(),
      runs: await store.listRuns({ limit: 10 }),
    };

    const b = batch({
      runs: [run('r0', 1_000, 'COMPLETED', { finishedAt: 5_000 }), run('r2', 2_000)],
      newJobs: [job('r2', 'x'), job('r2', 'y')],
      jobs: [{ ...a, status: 'RUNNING', attempt: 1, workerId: 'w1:7070' }],
      attempts: [attempt('r0', 'a', 1), attempt('r2', 'x', 1)],
    });
    spoil(b);
    await expect(store.commit(b)).rejects.toThrow();

    expect(await store.getRun('r0')).toStrictEqual(before.run);
    expect(await store.getRunJobs('r0')).toStrictEqual(before.jobs);
    expect(await store.getRun('r2')).toBeNull();
    expect(await store.getRunJobs('r2')).toEqual([]);
    expect(await store.listAttempts('r0', 'a')).toEqual([]);
    expect(await store.totals()).toStrictEqual(before.totals);
    expect(await store.listRuns({ limit: 10 })).toStrictEqual(before.runs);

    // The store is still usable after a rejected batch.
    await store.commit(batch({ attempts: [attempt('r0', 'a', 1)] }));
    expect(await store.listAttempts('r0', 'a')).toHaveLength(1);
  });

  it('keeps committed data across close and reopen', async () => {
    const first = await open();
    const r = run('r1', 1_000, 'RUNNING', { agentRunId: 'ag-1' });
    const jobs = await submit(first, r, [fullSpec('a'), 'b']);
    const at = attempt('r1', 'a', 1, { finishedAt: 3_000, outcome: 'LOST', error: 'worker gone' });
    await first.commit(batch({ attempts: [at] }));
    await first.setMeta('masterId', 'm-1');
    await first.close();
    await first.close(); // idempotent

    const second = await open();
    expect(await second.getRun('r1')).toStrictEqual(r);
    expect(await second.getRunJobs('r1')).toStrictEqual(jobs);
    expect(await second.listAttempts('r1', 'a')).toStrictEqual([at]);
    expect(await second.getMeta('masterId')).toBe('m-1');
    expect(await second.loadActiveRuns()).toStrictEqual([{ run: r, jobs }]);
  });

  it('resolves a bare job id to the most recent run that has it', async () => {
    const store = await open();
    await submit(store, run('r-old', 1_000), ['a', 'only-old']);
    await submit(store, run('r-new', 2_000), ['a']);
    // Newest run, but without job "a".
    await submit(store, run('r-newest', 3_000), ['z']);
    // Inserted last but created earliest: creation time decides, not insertion order.
    await submit(store, run('r-backdated', 500), ['a']);

    expect((await store.findJob('a', null))?.runId).toBe('r-new');
    expect((await store.findJob('a', 'r-old'))?.runId).toBe('r-old');
    expect((await store.findJob('a', 'r-backdated'))?.runId).toBe('r-backdated');
    expect((await store.findJob('only-old', null))?.runId).toBe('r-old');
    expect(await store.findJob('a', 'r-newest')).toBeNull();
    expect(await store.findJob('a', 'no-such-run')).toBeNull();
    expect(await store.findJob('missing', null)).toBeNull();

    // Same creation time: the greater run id wins.
    await submit(store, run('r-tie-b', 2_000), ['a']);
    await submit(store, run('r-tie-a', 2_000), ['a']);
    expect((await store.findJob('a', null))?.runId).toBe('r-tie-b');
  });

  it('lists runs newest first with per-status job counts, a limit and a status filter', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000, 'COMPLETED', { finishedAt: 1_500 }), ['a', 'b']);
    await submit(store, run('r2', 2_000), ['a', 'b', 'c', 'd']);
    await submit(store, run('r3', 3_000, 'FAILED', { finishedAt: 3_500 }), ['a']);
    await store.commit(batch({ runs: [run('r0', 500)] })); // a run without jobs
    await store.commit(
      batch({
        jobs: [
          job('r1', 'a', { status: 'COMPLETED', createdAt: 1_000 }),
          job('r1', 'b', { status: 'COMPLETED', createdAt: 1_000 }),
          job('r2', 'a', { status: 'COMPLETED', createdAt: 2_000 }),
          job('r2', 'b', { status: 'RUNNING', createdAt: 2_000 }),
          job('r2', 'c', { status: 'RUNNING', createdAt: 2_000 }),
          job('r3', 'a', { status: 'DEAD', createdAt: 3_000 }),
        ],
      }),
    );

    const all = await store.listRuns({ limit: 10 });
    expect(all.map((l) => l.run.runId)).toEqual(['r3', 'r2', 'r1', 'r0']);
    expect(all[0]).toStrictEqual({ run: run('r3', 3_000, 'FAILED', { finishedAt: 3_500 }), counts: { DEAD: 1 }, total: 1 });
    expect(all[1]).toStrictEqual({ run: run('r2', 2_000), counts: { COMPLETED: 1, RUNNING: 2, PENDING: 1 }, total: 4 });
    expect(all[2]?.counts).toStrictEqual({ COMPLETED: 2 });
    expect(all[3]).toStrictEqual({ run: run('r0', 500), counts: {}, total: 0 });

    expect((await store.listRuns({ limit: 2 })).map((l) => l.run.runId)).toEqual(['r3', 'r2']);
    expect(await store.listRuns({ limit: 0 })).toEqual([]);

    const running = await store.listRuns({ limit: 10, status: 'RUNNING' });
    expect(running.map((l) => l.run.runId)).toEqual(['r2', 'r0']);
    expect(running[0]?.total).toBe(4);
    expect((await store.listRuns({ limit: 1, status: 'RUNNING' })).map((l) => l.run.runId)).toEqual(['r2']);
    expect(await store.listRuns({ limit: 10, status: 'CANCELLED' })).toEqual([]);
  });

  it('pages through runs after a position, ties on creation time broken by run id, with filters', async () => {
    const store = await open();
    for (const [id, at] of [['r1', 1_000], ['r2a', 2_000], ['r2b', 2_000], ['r2c', 2_000], ['r3', 3_000]] as const) await submit(store, run(id, at, id === 'r2b' ? 'COMPLETED' : 'RUNNING', { tags: id === 'r1' ? [] : ['t'] }), ['a']);
    const pages: string[][] = [];
    let after: { createdAt: number; runId: string } | undefined;
    for (;;) {
      const page = await store.listRuns({ limit: 2, ...(after && { after }) });
      if (page.length === 0) break;
      pages.push(page.map((l) => l.run.runId));
      const last = page[page.length - 1]?.run;
      after = last && { createdAt: last.createdAt, runId: last.runId };
    }
    expect(pages).toEqual([['r3', 'r2c'], ['r2b', 'r2a'], ['r1']]);
    expect((await store.listRuns({ limit: 10, after: { createdAt: 2_000, runId: 'r2b' }, status: 'RUNNING' })).map((l) => l.run.runId)).toEqual(['r2a', 'r1']);
    expect((await store.listRuns({ limit: 10, after: { createdAt: 3_000, runId: 'r3' }, tag: 't' })).map((l) => l.run.runId)).toEqual(['r2c', 'r2b', 'r2a']);
    expect((await store.listRuns({ limit: 10, after: { createdAt: 2_000, runId: 'r2c' }, tag: 't', status: 'RUNNING' })).map((l) => l.run.runId)).toEqual(['r2a']);
  });

  it('finds a run by the request id of the submission that created it, until the run is deleted', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000, 'RUNNING', { requestId: 'req-1' }), ['a']);
    await submit(store, run('r2', 2_000), ['a']);
    expect(await store.findRunByRequest('req-1')).toStrictEqual(run('r1', 1_000, 'RUNNING', { requestId: 'req-1' }));
    expect(await store.findRunByRequest('req-2')).toBeNull();
    expect((await store.getRun('r2'))?.requestId).toBeUndefined();
    // Later updates of the run keep its request id.
    await store.commit(batch({ runs: [run('r1', 1_000, 'COMPLETED', { finishedAt: 1_500 })] }));
    expect((await store.findRunByRequest('req-1'))?.status).toBe('COMPLETED');
    expect(await store.deleteRun('r1')).toBe(true);
    expect(await store.findRunByRequest('req-1')).toBeNull();
  });

  it('keeps the count of attempts lost to the infrastructure with the job', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000), ['a']);
    const updated = job('r1', 'a', { status: 'QUEUED', attempt: 3, lost: 2, retryBase: 1 });
    await store.commit(batch({ jobs: [updated] }));
    expect((await store.getRunJobs('r1'))[0]).toStrictEqual(updated);
  });

  it('keeps which job of the run added a job at runtime, through later updates and a reload', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000), ['agent']);
    const added = job('r1', 'found-3', { addedBy: 'agent' });
    await store.commit(batch({ newJobs: [added] }));
    const ran = job('r1', 'found-3', { addedBy: 'agent', status: 'COMPLETED', attempt: 1, exitCode: 0, finishedAt: 1_500 });
    await store.commit(batch({ jobs: [ran] }));
    expect((await store.getRunJobs('r1'))[1]).toStrictEqual(ran);
    expect((await store.findJob('found-3', 'r1'))?.addedBy).toBe('agent');
    expect((await store.loadActiveRuns())[0]?.jobs.map((j) => j.addedBy)).toEqual([undefined, 'agent']);
  });

  it('loads only RUNNING runs, each with all of its jobs', async () => {
    const store = await open();
    const r1 = await submit(store, run('r1', 1_000), ['a', 'b']);
    await submit(store, run('r2', 2_000, 'COMPLETED', { finishedAt: 2_500 }), ['a']);
    await submit(store, run('r3', 3_000, 'FAILED', { finishedAt: 3_500 }), ['a']);
    await submit(store, run('r4', 4_000, 'CANCELLED', { finishedAt: 4_500 }), ['a']);
    const r5 = await submit(store, run('r5', 5_000), ['x', 'y', 'z']);
    const b = job('r1', 'b', { status: 'COMPLETED', attempt: 1, exitCode: 0, finishedAt: 1_200 });
    await store.commit(batch({ jobs: [b] }));

    const active = await store.loadActiveRuns();
    const byId = new Map(active.map((a) => [a.run.runId, a]));
    expect([...byId.keys()].sort()).toEqual(['r1', 'r5']);
    expect(byId.get('r1')).toStrictEqual({ run: run('r1', 1_000), jobs: [r1[0], b] });
    expect(byId.get('r5')).toStrictEqual({ run: run('r5', 5_000), jobs: r5 });

    // A run that finishes is no longer loaded.
    await store.commit(batch({ runs: [run('r1', 1_000, 'COMPLETED', { finishedAt: 6_000 })] }));
    expect((await store.loadActiveRuns()).map((a) => a.run.runId)).toEqual(['r5']);
  });

  it('counts submitted, completed and dead jobs and attempts', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000), ['a', 'b', 'c']);
    await submit(store, run('r2', 2_000), ['a', 'b']);
    await store.commit(
      batch({
        jobs: [
          job('r1', 'a', { status: 'COMPLETED' }),
          job('r1', 'b', { status: 'DEAD' }),
          job('r2', 'a', { status: 'COMPLETED' }),
          job('r2', 'b', { status: 'FAILED' }),
        ],
        attempts: [attempt('r1', 'a', 1), attempt('r1', 'b', 1), attempt('r1', 'b', 2), attempt('r2', 'b', 1)],
      }),
    );
    expect(await store.totals()).toStrictEqual({ submitted: 5, completed: 2, dead: 1, attempts: 4, retried: 1 });
  });

  it('gets and sets meta values', async () => {
    const store = await open();
    expect(await store.getMeta('k')).toBeNull();
    await store.setMeta('k', 'v1');
    await store.setMeta('other', '');
    expect(await store.getMeta('k')).toBe('v1');
    await store.setMeta('k', 'v2');
    expect(await store.getMeta('k')).toBe('v2');
    expect(await store.getMeta('other')).toBe('');
  });

  it('accepts an empty batch', async () => {
    const store = await open();
    await store.commit(emptyBatch());
    expect(await store.totals()).toStrictEqual({ submitted: 0, completed: 0, dead: 0, attempts: 0, retried: 0 });
  });

  it('lists runs by tag, alone and with a status, following tag changes', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000, 'COMPLETED', { tags: ['nightly', 'etl'], finishedAt: 1_500 }), ['a']);
    await submit(store, run('r2', 2_000, 'RUNNING', { tags: ['nightly'] }), ['a', 'b']);
    await submit(store, run('r3', 3_000, 'RUNNING', { tags: ['adhoc'] }), ['a']);
    const ids = async (o: { limit: number; status?: 'RUNNING' | 'COMPLETED'; tag?: string }): Promise<string[]> => (await store.listRuns(o)).map((l) => l.run.runId);

    expect(await ids({ limit: 10, tag: 'nightly' })).toEqual(['r2', 'r1']);
    expect(await ids({ limit: 1, tag: 'nightly' })).toEqual(['r2']);
    expect(await ids({ limit: 10, tag: 'nightly', status: 'COMPLETED' })).toEqual(['r1']);
    expect(await ids({ limit: 10, tag: 'etl', status: 'RUNNING' })).toEqual([]);
    expect(await ids({ limit: 10, tag: 'none' })).toEqual([]);
    expect((await store.listRuns({ limit: 10, tag: 'nightly' }))[0]).toStrictEqual({ run: run('r2', 2_000, 'RUNNING', { tags: ['nightly'] }), counts: { PENDING: 2 }, total: 2 });

    // A run's tags are replaced whole by its next upsert.
    await store.commit(batch({ runs: [run('r2', 2_000, 'COMPLETED', { tags: ['etl'], finishedAt: 2_500 })] }));
    expect(await ids({ limit: 10, tag: 'nightly' })).toEqual(['r1']);
    expect(await ids({ limit: 10, tag: 'etl' })).toEqual(['r2', 'r1']);
    expect(await ids({ limit: 10, tag: 'etl', status: 'COMPLETED' })).toEqual(['r2', 'r1']);
    await store.commit(batch({ runs: [run('r2', 2_000, 'COMPLETED', { finishedAt: 2_500 })] }));
    expect(await ids({ limit: 10, tag: 'etl' })).toEqual(['r1']);
    expect((await store.getRun('r2'))?.tags).toEqual([]);
  });

  it('round-trips a run’s flow settings, through later updates and across reopen', async () => {
    const store = await open();
    const flow = { fairness: { key: 'tenant-acme', weight: 3 }, singleton: 'nightly-acme', debounce: { key: 'push-main', waitMs: 30_000, until: 1_030_000 } };
    await submit(store, run('r1', 1_000, 'RUNNING', { flow }), ['a']);
    await submit(store, run('r2', 2_000), ['a']);
    expect(await store.getRun('r1')).toStrictEqual(run('r1', 1_000, 'RUNNING', { flow }));
    expect((await store.getRun('r2'))?.flow).toBeUndefined();
    expect((await store.loadActiveRuns()).map((a) => a.run.flow)).toStrictEqual([flow, undefined]);
    expect((await store.listRuns({ limit: 10 })).map((l) => l.run.flow)).toStrictEqual([undefined, flow]);
    await store.commit(batch({ runs: [run('r1', 1_000, 'CANCELLED', { finishedAt: 1_500, flow })] }));
    await store.close();
    const again = await open();
    expect(await again.getRun('r1')).toStrictEqual(run('r1', 1_000, 'CANCELLED', { finishedAt: 1_500, flow }));
  });

  it('keeps a run’s creation time when it is upserted again', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000), ['a']);
    await store.commit(batch({ runs: [run('r1', 9_000, 'COMPLETED', { finishedAt: 9_500 })] }));
    expect(await store.getRun('r1')).toStrictEqual(run('r1', 1_000, 'COMPLETED', { finishedAt: 9_500 }));
    expect((await store.listRuns({ limit: 10, status: 'COMPLETED' })).map((l) => l.run.createdAt)).toEqual([1_000]);
  });

  it('groups runs into agent runs: stages oldest first, agent runs latest first', async () => {
    const store = await open();
    await submit(store, run('s2', 2_000, 'RUNNING', { agentRunId: 'ag-1' }), ['a']);
    await submit(store, run('s1', 1_000, 'COMPLETED', { agentRunId: 'ag-1', finishedAt: 1_500 }), ['a', 'b']);
    await submit(store, run('t1', 1_500, 'COMPLETED', { agentRunId: 'ag-2', finishedAt: 1_600 }), ['a']);
    await submit(store, run('lone', 5_000), ['a']);

    const stages = await store.listAgentRunStages('ag-1');
    expect(stages.map((s) => [s.run.runId, s.total])).toEqual([
      ['s1', 2],
      ['s2', 1],
    ]);
    expect(await store.listAgentRunStages('nobody')).toEqual([]);
    expect(await store.listAgentRuns(10)).toStrictEqual([
      { agentRunId: 'ag-1', runs: 2, active: 1, firstAt: 1_000, lastAt: 2_000 },
      { agentRunId: 'ag-2', runs: 1, active: 0, firstAt: 1_500, lastAt: 1_500 },
    ]);
    expect((await store.listAgentRuns(1)).map((a) => a.agentRunId)).toEqual(['ag-1']);

    // A stage that finishes is no longer active; a run moved to another agent run leaves the first.
    await store.commit(batch({ runs: [run('s2', 2_000, 'COMPLETED', { agentRunId: 'ag-2', finishedAt: 3_000 })] }));
    expect(await store.listAgentRuns(10)).toStrictEqual([
      { agentRunId: 'ag-2', runs: 2, active: 0, firstAt: 1_500, lastAt: 2_000 },
      { agentRunId: 'ag-1', runs: 1, active: 0, firstAt: 1_000, lastAt: 1_000 },
    ]);
  });

  it('appends gate decisions and lists them newest first; a decision needs its job', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000), ['gate', 'other']);
    const d1 = { runId: 'r1', jobId: 'gate', approved: true, by: 'ann', comment: 'looks ünïcødé ✓', at: 2_000, reason: 'decided' as const };
    const d2 = { runId: 'r1', jobId: 'other', approved: false, by: 'titan', comment: null, at: 3_000, reason: 'timeout' as const };
    await store.commit(batch({ decisions: [d1] }));
    await store.commit(batch({ decisions: [d2] }));
    expect(await store.listDecisions(10)).toStrictEqual([d2, d1]);
    expect(await store.listDecisions(1)).toStrictEqual([d2]);
    await expect(store.commit(batch({ decisions: [{ ...d1, jobId: 'nope' }] }))).rejects.toThrow();
    expect(await store.listDecisions(10)).toHaveLength(2);
  });

  it('counts each job once however many times its status changes, and an attempt once however often it is upserted', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000), ['a']);
    for (const status of ['QUEUED', 'RUNNING', 'COMPLETED', 'COMPLETED'] as const) await store.commit(batch({ jobs: [job('r1', 'a', { status })] }));
    await store.commit(batch({ attempts: [attempt('r1', 'a', 1)] }));
    await store.commit(batch({ attempts: [attempt('r1', 'a', 1, { finishedAt: 3_000, outcome: 'COMPLETED', exitCode: 0 })] }));
    expect(await store.totals()).toStrictEqual({ submitted: 1, completed: 1, dead: 0, attempts: 1, retried: 0 });
    expect((await store.listRuns({ limit: 1 }))[0]).toMatchObject({ counts: { COMPLETED: 1 }, total: 1 });
    await store.commit(batch({ jobs: [job('r1', 'a', { status: 'DEAD' })] }));
    expect(await store.totals()).toStrictEqual({ submitted: 1, completed: 0, dead: 1, attempts: 1, retried: 0 });
    expect((await store.listRuns({ limit: 1 }))[0]).toMatchObject({ counts: { DEAD: 1 }, total: 1 });
  });

  it('lists finished runs by finish time and deletes one whole, keeping the lifetime totals and every other run', async () => {
    const store = await open();
    await submit(store, run('old', 1_000, 'COMPLETED', { agentRunId: 'ag', tags: ['nightly'], finishedAt: 1_500 }), ['a', 'gate']);
    await submit(store, run('older-finish', 1_100, 'FAILED', { finishedAt: 1_200 }), ['a']);
    await submit(store, run('keep', 1_200, 'COMPLETED', { agentRunId: 'ag', tags: ['nightly'], finishedAt: 5_000 }), ['a']);
    await submit(store, run('live', 900), ['a']);
    await store.commit(
      batch({
        jobs: [job('old', 'a', { status: 'COMPLETED' }), job('older-finish', 'a', { status: 'DEAD' }), job('keep', 'a', { status: 'COMPLETED' })],
        attempts: [attempt('old', 'a', 1), attempt('old', 'a', 2), attempt('keep', 'a', 1)],
        decisions: [{ runId: 'old', jobId: 'gate', approved: true, by: 'ann', comment: null, at: 1_400, reason: 'decided' }, { runId: 'keep', jobId: 'a', approved: false, by: 'bob', comment: 'no', at: 4_000, reason: 'decided' }],
      }),
    );
    const before = await store.totals();
    expect(await store.finishedRunsBefore(2_000, 10)).toEqual(['older-finish', 'old']);
    expect(await store.finishedRunsBefore(2_000, 1)).toEqual(['older-finish']);
    expect(await store.finishedRunsBefore(1_000, 10)).toEqual([]);

    expect(await store.deleteRun('old')).toBe(true);
    expect(await store.deleteRun('old')).toBe(false);
    expect(await store.getRun('old')).toBeNull();
    expect(await store.getRunJobs('old')).toEqual([]);
    expect(await store.listAttempts('old', 'a')).toEqual([]);
    expect(await store.findJob('a', 'old')).toBeNull();
    expect((await store.findJob('a', null))?.runId).not.toBe('old');
    expect((await store.listRuns({ limit: 10 })).map((l) => l.run.runId).sort()).toEqual(['keep', 'live', 'older-finish']);
    expect((await store.listRuns({ limit: 10, tag: 'nightly' })).map((l) => l.run.runId)).toEqual(['keep']);
    expect((await store.listRuns({ limit: 10, status: 'COMPLETED' })).map((l) => l.run.runId)).toEqual(['keep']);
    expect((await store.listAgentRunStages('ag')).map((l) => l.run.runId)).toEqual(['keep']);
    expect(await store.listAgentRuns(10)).toStrictEqual([{ agentRunId: 'ag', runs: 1, active: 0, firstAt: 1_200, lastAt: 1_200 }]);
    expect(await store.listDecisions(10)).toEqual([{ runId: 'keep', jobId: 'a', approved: false, by: 'bob', comment: 'no', at: 4_000, reason: 'decided' }]);
    expect(await store.listAttempts('keep', 'a')).toHaveLength(1);
    expect(await store.totals()).toStrictEqual(before);
    expect(await store.finishedRunsBefore(2_000, 10)).toEqual(['older-finish']);
    // The agent run's last stage deleted: the agent run is gone too.
    expect(await store.deleteRun('keep')).toBe(true);
    expect(await store.listAgentRuns(10)).toEqual([]);

    // A running run is refused and kept.
    await expect(store.deleteRun('live')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await store.getRun('live')).not.toBeNull();
  });

  it('round-trips a job’s service state and retry base', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000), [spec('svc', { kind: 'service' })]);
    const service = { port: 20_001, pid: 4242, readyAt: 5_000, released: true, restarts: 2, crashes: 1 };
    const updated = job('r1', spec('svc', { kind: 'service' }), { status: 'RUNNING', attempt: 3, workerId: 'w1:7070', startedAt: 4_000, service, retryBase: 2 });
    await store.commit(batch({ jobs: [updated] }));
    expect(await store.findJob('svc', null)).toStrictEqual(updated);
    expect((await store.loadActiveRuns())[0]?.jobs).toStrictEqual([updated]);
  });

  // ---- the data bus and artifacts ----

  describe('data bus', () => {
    const set = (key: string, value: string, ttlMs: number | null = null): KvOp => ({ op: 'set', key, value, ttlMs });
    const ok = (o: KvOutcome | undefined): Extract<KvOutcome, { ok: true }> => {
      if (!o?.ok) throw new Error(`expected success, got ${JSON.stringify(o)}`);
      return o;
    };

    it('sets, reads and deletes keys, drawing versions from one counter', async () => {
      const store = await open();
      expect(await store.kvGet('a', 0)).toBeNull();
      const [a1, b1, a2] = await store.kvApply([set('a', '1'), set('user:b', 'ünï ✓'), set('a', '2')], 1_000);
      expect([ok(a1).version, ok(b1).version, ok(a2).version]).toEqual([1, 2, 3]);
      expect(await store.kvGet('a', 1_000)).toStrictEqual({ key: 'a', type: 'string', value: '2', version: 3, expiresAt: null });
      expect((await store.kvGet('user:b', 1_000))?.value).toBe('ünï ✓');
      const [del, again] = await store.kvApply([{ op: 'del', key: 'a' }, { op: 'del', key: 'a' }], 1_000);
      expect(ok(del)).toMatchObject({ changed: true, count: 1, version: 0, value: null });
      expect(ok(again)).toMatchObject({ changed: false, count: 0, version: 0 });
      // A re-created key never repeats a version a waiter may have seen.
      expect(ok((await store.kvApply([set('a', '3')], 1_000))[0]).version).toBe(4);
    });

    it('treats a key past its expiry as absent to every read and op, before any expire op', async () => {
      const store = await open();
      const [t] = await store.kvApply([set('t', 'x', 100)], 1_000);
      expect(ok(t).expiresAt).toBe(1_100);
      expect((await store.kvGet('t', 1_099))?.value).toBe('x');
      expect(await store.kvGet('t', 1_100)).toBeNull();
      expect((await store.kvKeys('', 10, 1_100)).keys).toEqual([]);
      expect(await store.kvExpiring()).toEqual([{ key: 't', expiresAt: 1_100 }]);
      // An increment of an expired key starts again from zero, without the old expiry.
      const [incr] = await store.kvApply([{ op: 'incr', key: 't', by: 2 }], 1_200);
      expect(ok(incr)).toMatchObject({ changed: true, count: 2, value: '2', expiresAt: null });
      expect(await store.kvExpiring()).toEqual([]);
      // The timer's expire op removes a due key once, and leaves a live one alone.
      await store.kvApply([set('u', 'y', 50), set('v', 'z', 500)], 2_000);
      const [u, v] = await store.kvApply([{ op: 'expire', key: 'u' }, { op: 'expire', key: 'v' }], 2_050);
      expect(ok(u)).toMatchObject({ changed: true, version: 0 });
      expect(ok(v)).toMatchObject({ changed: false, value: 'z', expiresAt: 2_500 });
      expect(await store.kvExpiring()).toEqual([{ key: 'v', expiresAt: 2_500 }]);
      // incr keeps an expiry; set without a TTL clears it.
      await store.kvApply([set('n', '1', 1_000), { op: 'incr', key: 'n', by: 1 }], 3_000);
      expect(await store.kvGet('n', 3_000)).toMatchObject({ value: '2', expiresAt: 4_000 });
      await store.kvApply([set('n', '5')], 3_000);
      expect((await store.kvGet('n', 5_000))?.expiresAt).toBeNull();
    });

    it('increments integers and names the key when the value is not one', async () => {
      const store = await open();
      const outcomes = await store.kvApply(
        [
          { op: 'incr', key: 'c', by: 5 },
          { op: 'incr', key: 'c', by: -7 },
          set('word', 'abc'),
          { op: 'incr', key: 'word', by: 1 },
          set('big', String(Number.MAX_SAFE_INTEGER)),
          { op: 'incr', key: 'big', by: 1 },
          { op: 'incr', key: 'c', by: 1 },
        ],
        1_000,
      );
      expect(outcomes.map((o) => (o.ok ? o.count : o.code))).toEqual([5, -2, 1, 'CONFLICT', 1, 'CONFLICT', -1]);
      expect(outcomes[3]).toMatchObject({ ok: false, message: 'the value of key "word" is not an integer: "abc"' });
      expect(outcomes[5]).toMatchObject({ ok: false, message: expect.stringContaining('key "big"') });
      expect((await store.kvGet('word', 1_000))?.value).toBe('abc');
      expect((await store.kvGet('c', 1_000))?.value).toBe('-1');
    });

    it('compares and sets: null expects absence, a null value deletes', async () => {
      const store = await open();
      const cas = (expected: string | null, value: string | null): KvOp => ({ op: 'cas', key: 'lock', expected, value, ttlMs: null });
      const outcomes = (await store.kvApply([cas(null, 'a'), cas(null, 'b'), cas('a', 'b'), cas('a', 'c'), cas('b', null), cas(null, null)], 1_000)).map(ok);
      expect(outcomes.map((o) => [o.count, o.value])).toEqual([
        [1, 'a'],
        [0, 'a'],
        [1, 'b'],
        [0, 'b'],
        [1, null],
        [1, null],
      ]);
      expect(outcomes.map((o) => o.changed)).toEqual([true, false, true, false, true, false]);
      expect(await store.kvGet('lock', 1_000)).toBeNull();
    });

    it('adds and removes set members with Redis counts; an emptied set is gone', async () => {
      const store = await open();
      const [add1, add2, wrong] = await store.kvApply(
        [
          { op: 'sadd', key: 's', members: ['b', 'a', 'b'] },
          { op: 'sadd', key: 's', members: ['a', 'c'] },
          { op: 'incr', key: 's', by: 1 },
        ],
        1_000,
      );
      expect([ok(add1).count, ok(add2).count]).toEqual([2, 1]);
      expect(wrong).toMatchObject({ ok: false, code: 'CONFLICT', message: 'key "s" holds a set, not an integer' });
      expect(await store.kvMembers('s')).toEqual(['a', 'b', 'c']);
      expect(await store.kvGet('s', 1_000)).toMatchObject({ type: 'set', value: null, version: ok(add2).version });
      const [rem1, noop, rem2] = await store.kvApply(
        [
          { op: 'srem', key: 's', members: ['a', 'z'] },
          { op: 'srem', key: 's', members: ['z'] },
          { op: 'srem', key: 's', members: ['b', 'c'] },
        ],
        1_000,
      );
      expect([ok(rem1).count, ok(noop).count, ok(rem2).count]).toEqual([1, 0, 2]);
      expect(ok(noop).changed).toBe(false);
      expect(ok(rem2)).toMatchObject({ changed: true, version: 0 });
      expect(await store.kvGet('s', 1_000)).toBeNull();
      expect(await store.kvMembers('s')).toEqual([]);
      // A string set over a set replaces it whole; sadd on a string is refused.
      await store.kvApply([{ op: 'sadd', key: 's', members: ['x'] }, set('s', 'plain')], 1_000);
      expect(await store.kvMembers('s')).toEqual([]);
      expect((await store.kvApply([{ op: 'sadd', key: 's', members: ['y'] }], 1_000))[0]).toMatchObject({ ok: false, message: 'key "s" holds a string, not a set' });
    });

    it(`refuses to grow a set beyond ${DATA_LIMITS.maxSetMembers} members, adding none of the call`, async () => {
      const store = await open();
      const members = Array.from({ length: DATA_LIMITS.maxSetMembers - 1 }, (_, i) => `m${i}`);
      await store.kvApply([{ op: 'sadd', key: 'big', members }], 1_000);
      const [over] = await store.kvApply([{ op: 'sadd', key: 'big', members: ['new1', 'new2'] }], 1_000);
      expect(over).toMatchObject({ ok: false, message: `set "big" would exceed ${DATA_LIMITS.maxSetMembers} members` });
      expect(await store.kvMembers('big')).toHaveLength(DATA_LIMITS.maxSetMembers - 1);
    });

    it('lists live keys by prefix in byte order, with a limit', async () => {
      const store = await open();
      await store.kvApply([set('user:b', '1'), set('user:a', '1'), set('users', '1'), set('job:x', '1'), set('user:old', '1', 10), { op: 'sadd', key: 'user:set', members: ['m'] }], 1_000);
      const all = await store.kvKeys('user:', 10, 2_000);
      expect(all.keys.map((k) => [k.key, k.type])).toEqual([
        ['user:a', 'string'],
        ['user:b', 'string'],
        ['user:set', 'set'],
      ]);
      expect(all.truncated).toBe(false);
      const page = await store.kvKeys('', 2, 2_000);
      expect(page.keys.map((k) => k.key)).toEqual(['job:x', 'user:a']);
      expect(page.truncated).toBe(true);
    });

    it('keeps keys, sets, expiries and the version counter across reopen', async () => {
      const first = await open();
      await first.kvApply([set('a', '1'), set('b', '2', 60_000), { op: 'sadd', key: 's', members: ['x', 'y'] }, set('top', 't')], 1_000);
      await first.kvApply([{ op: 'del', key: 'top' }], 1_000);
      await first.close();
      const second = await open();
      expect((await second.kvGet('a', 1_000))?.value).toBe('1');
      expect(await second.kvExpiring()).toEqual([{ key: 'b', expiresAt: 61_000 }]);
      expect(await second.kvMembers('s')).toEqual(['x', 'y']);
      // The deleted key held the highest version; the counter still moves past it.
      expect(ok((await second.kvApply([set('top', 'again')], 1_000))[0]).version).toBe(5);
    });
  });

  describe('artifact metadata', () => {
    const artifact = (key: string, sha: string, extra: Partial<ArtifactInfo> = {}): ArtifactInfo => ({ key, sha256: sha.repeat(64), size: 10, runId: null, jobId: null, attempt: null, createdAt: 1_000, ...extra });

    it('puts, gets, lists by prefix and run, and reports content no key references any more', async () => {
      const store = await open();
      expect(await store.artifactGet('x')).toBeNull();
      const out = artifact('runs/r1/a/1/out.txt', 'a', { runId: 'r1', jobId: 'a', attempt: 1 });
      expect(await store.artifactPut(out)).toBeNull();
      expect(await store.artifactPut(artifact('runs/r1/a/1/copy.txt', 'a', { runId: 'r1', jobId: 'a', attempt: 1 }))).toBeNull();
      expect(await store.artifactPut(artifact('reports/ünï.pdf', 'b'))).toBeNull();
      expect(await store.artifactGet(out.key)).toStrictEqual(out);

      expect((await store.artifactList({ prefix: '', limit: 10 })).artifacts.map((a) => a.key)).toEqual(['reports/ünï.pdf', 'runs/r1/a/1/copy.txt', 'runs/r1/a/1/out.txt']);
      expect((await store.artifactList({ prefix: 'runs/', runId: 'r1', limit: 1 })).truncated).toBe(true);
      expect((await store.artifactList({ prefix: '', runId: 'r2', limit: 10 })).artifacts).toEqual([]);

      // Content "a" is shared: replacing one key keeps it; deleting the other frees it.
      expect(await store.artifactPut(artifact('runs/r1/a/1/out.txt', 'c'))).toBeNull();
      expect(await store.artifactDelete('runs/r1/a/1/copy.txt')).toStrictEqual({ deleted: true, orphaned: 'a'.repeat(64) });
      expect(await store.artifactPut(artifact('reports/ünï.pdf', 'd'))).toBe('b'.repeat(64));
      expect(await store.artifactDelete('reports/ünï.pdf')).toStrictEqual({ deleted: true, orphaned: 'd'.repeat(64) });
      expect(await store.artifactDelete('reports/ünï.pdf')).toStrictEqual({ deleted: false, orphaned: null });
    });
  });

  // ---- schedules ----

  describe('schedules', () => {
    const open = async (): Promise<Store> => {
      const s = await factory.open(dir);
      opened.push(s);
      return s;
    };

    it('starts with no schedules', async () => {
      const store = await open();
      expect(await store.listSchedules()).toEqual([]);
      expect(await store.getSchedule('nightly')).toBeNull();
    });

    it('reads back a schedule with every field equal, its spec and run intact', async () => {
      const store = await open();
      const s = schedule('nightly', { spec: ScheduleSpecSchema.parse({ cron: '*/5 * * * * *', timezone: 'America/New_York', overlap: 'allow', missed: 'skip' }), lastAt: 1_700_000_030_000, lastRunId: 'r1abc' });
      await store.putSchedule(s);
      expect(await store.getSchedule('nightly')).toEqual(s);
      expect(await store.listSchedules()).toEqual([s]);
    });

    it('keeps null times and a paused flag', async () => {
      const store = await open();
      const s = schedule('held', { paused: true, nextAt: null, lastAt: null, lastRunId: null });
      await store.putSchedule(s);
      expect(await store.getSchedule('held')).toEqual(s);
    });

    it('replaces a schedule of the same name whole', async () => {
      const store = await open();
      await store.putSchedule(schedule('nightly', { lastRunId: 'r1' }));
      const changed = schedule('nightly', { spec: ScheduleSpecSchema.parse({ cron: '@hourly' }), run: RunSpecSchema.parse({ name: 'other', jobs: [jobSpec('z')] }), paused: true, nextAt: null, lastRunId: 'r2', lastAt: 5, updatedAt: 1_700_000_100_000 });
      await store.putSchedule(changed);
      expect(await store.listSchedules()).toEqual([changed]);
    });

    it('lists schedules by name', async () => {
      const store = await open();
      for (const name of ['m', 'a', 'z', 'B']) await store.putSchedule(schedule(name));
      expect((await store.listSchedules()).map((s) => s.name)).toEqual(['B', 'a', 'm', 'z']);
    });

    it('deletes a schedule, and says whether there was one', async () => {
      const store = await open();
      await store.putSchedule(schedule('a'));
      await store.putSchedule(schedule('b'));
      expect(await store.deleteSchedule('a')).toBe(true);
      expect(await store.deleteSchedule('a')).toBe(false);
      expect(await store.deleteSchedule('never')).toBe(false);
      expect(await store.getSchedule('a')).toBeNull();
      expect((await store.listSchedules()).map((s) => s.name)).toEqual(['b']);
    });

    it('keeps schedules across a reopen', async () => {
      const first = await open();
      const s = schedule('nightly', { lastRunId: 'r9', lastAt: 42 });
      await first.putSchedule(s);
      await first.close();
      const second = await open();
      expect(await second.listSchedules()).toEqual([s]);
    });

    it('records notification deliveries, resumes the pending ones, and removes them with their run', async () => {
      const store = await open();
      const on = { failure: 'https://hooks.example.com/fail', gate: 'http://127.0.0.1:9/gate' };
      await store.commit(batch({ runs: [run('r1', 1_000, 'FAILED', { finishedAt: 2_000, notify: on }), run('r2', 1_500, 'COMPLETED', { finishedAt: 2_500 })] }));
      expect((await store.getRun('r1'))?.notify).toEqual(on);
      expect((await store.getRun('r2'))?.notify).toBeUndefined();
      const d = (id: string, runId: string, extra: Partial<NotificationDelivery> = {}): NotificationDelivery => ({
        id, runId, event: 'failure', url: on.failure, body: '{"event":"failure"}', state: 'pending', tries: 0, lastStatus: null, lastError: null, createdAt: 3_000, updatedAt: 3_000, nextAt: 3_000, ...extra,
      });
      await store.addNotification(d('n1', 'r1'));
      await store.addNotification(d('n2', 'r2', { event: 'success' }));
      await store.addNotification(d('n3', 'r1', { event: 'gate', url: on.gate }));
      expect((await store.pendingNotifications()).map((x) => x.id)).toEqual(['n1', 'n2', 'n3']);
      const tried = d('n1', 'r1', { state: 'delivered', tries: 2, lastStatus: 200, lastError: null, updatedAt: 4_000, nextAt: null });
      expect(await store.updateNotification(tried)).toBe(true);
      expect(await store.updateNotification(d('n3', 'r1', { event: 'gate', url: on.gate, state: 'failed', tries: 5, lastStatus: 503, lastError: 'answered 503', updatedAt: 5_000, nextAt: null }))).toBe(true);
      expect((await store.pendingNotifications()).map((x) => x.id)).toEqual(['n2']);
      expect(await store.listNotifications({ runId: 'r1', limit: 10 })).toEqual([d('n3', 'r1', { event: 'gate', url: on.gate, state: 'failed', tries: 5, lastStatus: 503, lastError: 'answered 503', updatedAt: 5_000, nextAt: null }), tried]);
      expect((await store.listNotifications({ limit: 2 })).map((x) => x.id)).toEqual(['n3', 'n2']);
      expect(await store.deleteRun('r1')).toBe(true);
      expect(await store.listNotifications({ runId: 'r1', limit: 10 })).toEqual([]);
      expect((await store.listNotifications({ limit: 10 })).map((x) => x.id)).toEqual(['n2']);
      expect(await store.updateNotification(tried)).toBe(false);
    });

    it('round-trips a large run', async () => {
      const store = await open();
      const jobs = Array.from({ length: 2000 }, (_, i) => jobSpec(`j${i}`, i === 0 ? {} : { dependsOn: [`j${i - 1}`] }));
      const s = schedule('big', { run: RunSpecSchema.parse({ name: 'big', jobs }) });
      await store.putSchedule(s);
      expect(await store.getSchedule('big')).toEqual(s);
    });
  });
  // ---- durable steps ----

  describe('steps', () => {
    const open = async (): Promise<Store> => {
      const s = await factory.open(dir);
      opened.push(s);
      return s;
    };
    const step = (name: string, fields: Partial<StepRecord> = {}): StepRecord => ({
      runId: 'r1', jobId: 'a', name, status: 'COMPLETED', result: '{"n":1}', error: null, attempt: 1, startedAt: 1_700_000_000_100, finishedAt: 1_700_000_000_250, cachedIn: null, ...fields,
    });

    it('reads back a recorded step with every field equal, and lists a job’s steps in the order they started', async () => {
      const store = await open();
      const second = step('summarise "all" ünïcode', { startedAt: 1_700_000_000_300, finishedAt: 1_700_000_000_400, result: '["x",{"y":null}]' });
      const first = step('fetch', { result: '"\\u0000 escaped"' });
      expect(await store.stepRecord(second)).toEqual(second);
      expect(await store.stepRecord(first)).toEqual(first);
      expect(await store.stepGet('r1', 'a', 'fetch')).toEqual(first);
      expect(await store.stepGet('r1', 'a', 'missing')).toBeNull();
      expect(await store.stepGet('r1', 'b', 'fetch')).toBeNull();
      expect(await store.listSteps('r1', 'a')).toEqual([first, second]);
      expect(await store.listSteps('r1', 'b')).toEqual([]);
    });

    it('replaces a failed step but never a completed one', async () => {
      const store = await open();
      const failed = step('s', { status: 'FAILED', result: null, error: 'boom', attempt: 1 });
      expect(await store.stepRecord(failed)).toEqual(failed);
      const done = step('s', { attempt: 2, result: '42' });
      expect(await store.stepRecord(done)).toEqual(done);
      // A later outcome, completed or failed, leaves the completed record and gets it back.
      expect(await store.stepRecord(step('s', { attempt: 3, result: '43' }))).toEqual(done);
      expect(await store.stepRecord(step('s', { attempt: 3, status: 'FAILED', result: null, error: 'late' }))).toEqual(done);
      expect(await store.stepGet('r1', 'a', 's')).toEqual(done);
    });

    it('marks the latest attempt that took a completed result, never a failed one', async () => {
      const store = await open();
      await store.stepRecord(step('ok'));
      await store.stepRecord(step('bad', { status: 'FAILED', result: null, error: 'x' }));
      await store.stepCached('r1', 'a', 'ok', 3);
      await store.stepCached('r1', 'a', 'ok', 2);
      await store.stepCached('r1', 'a', 'bad', 3);
      await store.stepCached('r1', 'a', 'none', 3);
      expect((await store.stepGet('r1', 'a', 'ok'))?.cachedIn).toBe(3);
      expect((await store.stepGet('r1', 'a', 'bad'))?.cachedIn).toBeNull();
      expect(await store.stepGet('r1', 'a', 'none')).toBeNull();
    });

    it('keeps a result of a mebibyte and steps across a reopen; deleting the run removes its steps', async () => {
      const first = await open();
      await submit(first, run('r1', 1_000, 'COMPLETED', { finishedAt: 2_000 }), [spec('a')]);
      const big = step('big', { result: JSON.stringify('x'.repeat(1024 * 1024 - 2)) });
      await first.stepRecord(big);
      await first.stepRecord(step('other', { runId: 'r2' }));
      await first.close();
      const second = await open();
      expect(await second.stepGet('r1', 'a', 'big')).toEqual(big);
      expect(await second.deleteRun('r1')).toBe(true);
      expect(await second.listSteps('r1', 'a')).toEqual([]);
      expect(await second.stepGet('r2', 'a', 'other')).not.toBeNull();
    });
  });

  // ---- triggers ----

  describe('triggers', () => {
    const trigger = (name: string, extra: Partial<TriggerRecord> = {}): TriggerRecord => ({
      name,
      run: RunSpecSchema.parse({ name: `on ${name}`, jobs: [spec('a'), spec('b', { dependsOn: ['a'] })] }),
      auth: { kind: 'hmac', secret: 'HOOK_KEY' },
      limits: TriggerLimitsSchema.parse({}),
      createdAt: 1_700_000_000_000,
      updatedAt: 1_700_000_000_000,
      ...extra,
    });
    const delivery = (trigger: string, n: number, extra: Partial<DeliveryRecord> = {}): DeliveryRecord => ({ id: `d${n}`, trigger, receivedAt: 1_700_000_000_000 + n, outcome: 'accepted', reason: null, idempotencyKey: `k${n}`, bodyBytes: n, runId: `r${n}`, ...extra });

    it('reads back triggers by name with every field equal, and replaces one whole', async () => {
      const store = await open();
      expect(await store.listTriggers()).toEqual([]);
      const a = trigger('a', { auth: { kind: 'bearer', tokenHash: 'f'.repeat(64) }, limits: { ratePerMinute: 5, maxBodyBytes: 2048 } });
      await store.putTrigger(trigger('b'));
      await store.putTrigger(a);
      expect(await store.getTrigger('a')).toEqual(a);
      expect((await store.listTriggers()).map((t) => t.name)).toEqual(['a', 'b']);
      const changed = trigger('b', { updatedAt: 1_700_000_000_500, limits: { ratePerMinute: 1, maxBodyBytes: 10 } });
      await store.putTrigger(changed);
      expect(await store.getTrigger('b')).toEqual(changed);
      expect(await store.getTrigger('none')).toBeNull();
    });

    it('keeps the newest deliveries of each trigger, newest first, and trims in the same write', async () => {
      const store = await open();
      await store.putTrigger(trigger('t'));
      await store.putTrigger(trigger('u'));
      for (let n = 1; n <= 7; n++) await store.addDelivery(delivery('t', n), 5);
      const refused = delivery('u', 1, { outcome: 'refused', reason: '401: bad signature', idempotencyKey: null, runId: null });
      await store.addDelivery(refused, 5);
      expect((await store.listDeliveries('t', 100)).map((d) => d.id)).toEqual(['d7', 'd6', 'd5', 'd4', 'd3']);
      expect(await store.listDeliveries('t', 1)).toEqual([delivery('t', 7)]);
      expect(await store.listDeliveries('u', 10)).toEqual([refused]);
      expect(await store.listDeliveries('none', 10)).toEqual([]);
    });

    it('removes a trigger with its deliveries, and says whether there was one', async () => {
      const store = await open();
      await store.putTrigger(trigger('t'));
      await store.addDelivery(delivery('t', 1), 100);
      expect(await store.deleteTrigger('t')).toBe(true);
      expect(await store.deleteTrigger('t')).toBe(false);
      expect(await store.getTrigger('t')).toBeNull();
      expect(await store.listDeliveries('t', 10)).toEqual([]);
    });

    it('keeps triggers and deliveries across a reopen', async () => {
      const first = await open();
      await first.putTrigger(trigger('t'));
      await first.addDelivery(delivery('t', 1), 100);
      await first.close();
      const second = await open();
      expect(await second.listTriggers()).toEqual([trigger('t')]);
      expect(await second.listDeliveries('t', 10)).toEqual([delivery('t', 1)]);
    });
  });
});
