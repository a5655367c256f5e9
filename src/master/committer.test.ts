import { describe, expect, it } from 'vitest';
import type { AttemptRecord, JobRecord, RunRecord } from '../core/model.js';
import { type Store, type StoreBatch, StoreUnavailableError } from '../store/store.js';
import { Committer } from './committer.js';
import { jobRecord, jobSpec } from '../../test/helpers/records.js';

/** A Store's commit that records each batch as it stood when commit was called. */
class FakeStore implements Pick<Store, 'commit'> {
  readonly batches: StoreBatch[] = [];
  /** Decides how each commit ends; by default at once, successfully. */
  onCommit: (batch: StoreBatch) => Promise<void> = () => Promise.resolve();

  commit(batch: StoreBatch): Promise<void> {
    this.batches.push(structuredClone(batch));
    return this.onCommit(batch);
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets `n` turns of the event loop pass (the committer flushes on setImmediate). */
async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

const run = (runId: string): RunRecord => ({ runId, name: 'n', agentRunId: null, status: 'RUNNING', createdAt: 1, finishedAt: null, tags: [] });

const jobRec = (id: string, runId = 'r1'): JobRecord => jobRecord(runId, jobSpec(id, { retries: 0 }), { createdAt: 1 });

const attemptRec = (jobId: string, attempt: number): AttemptRecord => ({
  runId: 'r1',
  jobId,
  attempt,
  workerId: 'w1',
  queuedAt: null,
  startedAt: 10,
  runningAt: null,
  finishedAt: null,
  outcome: null,
  exitCode: null,
  error: null,
});

function setup(): { store: FakeStore; committer: Committer; fatal: Error[] } {
  const store = new FakeStore();
  const fatal: Error[] = [];
  const committer = new Committer(store, (err) => fatal.push(err));
  return { store, committer, fatal };
}

describe('Committer', () => {
  it('writes everything staged in one turn in one commit', async () => {
    const { store, committer, fatal } = setup();
    committer.run(run('r1'));
    committer.newJob(jobRec('a'));
    committer.newJob(jobRec('b'));
    committer.job(jobRec('old'));
    committer.attempt(attemptRec('old', 1));
    expect(store.batches).toHaveLength(0);
    await committer.flushed();
    expect(store.batches).toHaveLength(1);
    const [batch] = store.batches;
    expect(batch?.runs.map((r) => r.runId)).toEqual(['r1']);
    expect(batch?.newJobs.map((j) => j.spec.id)).toEqual(['a', 'b']);
    expect(batch?.jobs.map((j) => j.spec.id)).toEqual(['old']);
    expect(batch?.attempts.map((a) => [a.jobId, a.attempt])).toEqual([['old', 1]]);
    expect(committer.commits).toBe(1);
    expect(fatal).toEqual([]);
  });

  it('writes what later turns stage in later commits', async () => {
    const { store, committer } = setup();
    committer.job(jobRec('a'));
    await turns();
    committer.job(jobRec('b'));
    await committer.flushed();
    expect(store.batches.map((b) => b.jobs.map((j) => j.spec.id))).toEqual([['a'], ['b']]);
    expect(committer.commits).toBe(2);
  });

  it('does not commit when nothing was staged', async () => {
    const { store } = setup();
    await turns();
    expect(store.batches).toEqual([]);
  });

  it('stages a record once per turn, with its latest fields', async () => {
    const { store, committer } = setup();
    const r = run('r1');
    const j = jobRec('a');
    committer.run(r);
    committer.job(j);
    j.status = 'QUEUED';
    committer.job(j);
    r.status = 'COMPLETED';
    committer.run(r);
    committer.attempt(attemptRec('a', 1));
    committer.attempt({ ...attemptRec('a', 1), finishedAt: 20, outcome: 'COMPLETED', exitCode: 0 });
    committer.attempt(attemptRec('a', 2));
    await committer.flushed();
    const [batch] = store.batches;
    expect(batch?.runs).toEqual([{ ...run('r1'), status: 'COMPLETED' }]);
    expect(batch?.jobs.map((x) => [x.spec.id, x.status])).toEqual([['a', 'QUEUED']]);
    expect(batch?.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'COMPLETED'],
      [2, null],
    ]);
  });

  it('keeps the same job id of different runs apart', async () => {
    const { store, committer } = setup();
    committer.job(jobRec('a', 'r1'));
    committer.job(jobRec('a', 'r2'));
    await committer.flushed();
    expect(store.batches[0]?.jobs.map((j) => j.runId)).toEqual(['r1', 'r2']);
  });

  it('copies an attempt when staged: later changes to the caller’s object do not leak in', async () => {
    const { store, committer } = setup();
    const a = attemptRec('a', 1);
    committer.attempt(a);
    a.outcome = 'FAILED';
    await committer.flushed();
    expect(store.batches[0]?.attempts[0]?.outcome).toBeNull();
  });

  it('inserts a job staged as new and then updated in the same turn once, with its latest fields', async () => {
    const { store, committer } = setup();
    const j = jobRec('a');
    committer.newJob(j);
    j.status = 'QUEUED';
    committer.job(j);
    await committer.flushed();
    const [batch] = store.batches;
    expect(batch?.newJobs.map((x) => [x.spec.id, x.status])).toEqual([['a', 'QUEUED']]);
    expect(batch?.jobs).toEqual([]);
  });

  it('an update staged as a separate object still reaches the insert of a new job', async () => {
    const { store, committer } = setup();
    const j = jobRec('a');
    committer.newJob(j);
    committer.job({ ...j, status: 'RUNNING', attempt: 1, workerId: 'w1' });
    await committer.flushed();
    const [batch] = store.batches;
    expect(batch?.newJobs.map((x) => [x.spec.id, x.status, x.workerId])).toEqual([['a', 'RUNNING', 'w1']]);
    expect(batch?.jobs).toEqual([]);
  });

  it('an update in a later turn to a job inserted earlier is an update', async () => {
    const { store, committer } = setup();
    const j = jobRec('a');
    committer.newJob(j);
    await committer.flushed();
    j.status = 'QUEUED';
    committer.job(j);
    await committer.flushed();
    expect(store.batches.map((b) => [b.newJobs.length, b.jobs.map((x) => x.status)])).toEqual([
      [1, []],
      [0, ['QUEUED']],
    ]);
  });

  it('runs afterCommit callbacks only once the store’s commit resolves, in order', async () => {
    const { store, committer } = setup();
    const gate = deferred();
    store.onCommit = () => gate.promise;
    const calls: string[] = [];
    committer.job(jobRec('a'));
    committer.afterCommit(() => calls.push('first'));
    committer.afterCommit(() => calls.push('second'));
    await turns(5);
    expect(store.batches).toHaveLength(1);
    expect(calls).toEqual([]);
    expect(committer.commits).toBe(0);
    gate.resolve();
    await turns(2);
    expect(calls).toEqual(['first', 'second']);
    expect(committer.commits).toBe(1);
  });

  it('commits one batch at a time: what arrives meanwhile waits for the next', async () => {
    const { store, committer } = setup();
    const gates = [deferred(), deferred()];
    let n = 0;
    store.onCommit = () => (gates[n++] as Deferred).promise;
    const calls: string[] = [];
    committer.job(jobRec('a'));
    committer.afterCommit(() => calls.push('a'));
    await turns(2);
    committer.job(jobRec('b'));
    committer.afterCommit(() => calls.push('b'));
    await turns(5);
    expect(store.batches).toHaveLength(1);
    gates[0]?.resolve();
    await turns(3);
    expect(calls).toEqual(['a']);
    expect(store.batches.map((b) => b.jobs.map((j) => j.spec.id))).toEqual([['a'], ['b']]);
    gates[1]?.resolve();
    await turns(2);
    expect(calls).toEqual(['a', 'b']);
  });

  it('flushed() resolves after the commit holding what was staged before it', async () => {
    const { store, committer } = setup();
    const gate = deferred();
    store.onCommit = () => gate.promise;
    committer.job(jobRec('a'));
    let flushed = false;
    const done = committer.flushed().then(() => (flushed = true));
    await turns(3);
    expect(flushed).toBe(false);
    gate.resolve();
    await done;
    expect(store.batches).toHaveLength(1);
  });

  it('a commit failure calls onFatal and releases nothing', async () => {
    const { store, committer, fatal } = setup();
    store.onCommit = () => Promise.reject(new Error('disk full'));
    const calls: string[] = [];
    committer.job(jobRec('a'));
    committer.afterCommit(() => calls.push('after'));
    await turns(3);
    expect(fatal.map((e) => e.message)).toEqual(['disk full']);
    expect(calls).toEqual([]);
    expect(committer.commits).toBe(0);
  });

  it('a non-Error rejection reaches onFatal as an Error', async () => {
    const { store, committer, fatal } = setup();
    store.onCommit = () => Promise.reject('locked');
    committer.run(run('r1'));
    await turns(3);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toBeInstanceOf(Error);
    expect(fatal[0]?.message).toBe('locked');
  });
  it('holds a batch while the store is unavailable, retries it under the same id, then releases it once', async () => {
    const store = new FakeStore();
    const fatal: Error[] = [];
    const lines: string[] = [];
    let down = true;
    const committer = new Committer(Object.assign(store, { unavailable: () => (down ? new StoreUnavailableError('the Redis store at redis://x:1/0 is unreachable') : null) }), (err) => fatal.push(err), (l) => lines.push(l));
    let failures = 0;
    store.onCommit = () => {
      if (failures < 2) {
        failures++;
        return Promise.reject(new StoreUnavailableError('the Redis store at redis://x:1/0 is unreachable'));
      }
      return Promise.resolve();
    };
    let released = 0;
    committer.run(run('r1'));
    committer.afterCommit(() => released++);
    expect(() => committer.checkAvailable('the submission was not accepted')).toThrow(/^the submission was not accepted: the Redis store at redis:\/\/x:1\/0 is unreachable; try again/);

    await new Promise((r) => setTimeout(r, 600));
    expect(store.batches).toHaveLength(3);
    const ids = store.batches.map((b) => b.id);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/\S/);
    expect(released).toBe(1);
    expect(fatal).toEqual([]);
    expect(lines.some((l) => l.includes('holding the commit'))).toBe(true);
    expect(lines.some((l) => l.includes('the store is back'))).toBe(true);

    down = false;
    expect(() => committer.checkAvailable('x')).not.toThrow();
    // The next batch has a new id.
    committer.run(run('r2'));
    await committer.flushed();
    expect(store.batches.at(-1)?.id).not.toBe(ids[0]);
  });

  it('refuses work while a batch is held even if the store says it is back', async () => {
    const { store, committer } = setup();
    const gate = deferred();
    let first = true;
    store.onCommit = () => {
      if (first) {
        first = false;
        return Promise.reject(new StoreUnavailableError('down'));
      }
      return gate.promise;
    };
    committer.run(run('r1'));
    await turns();
    expect(() => committer.checkAvailable('refused')).toThrow(/^refused: down/);
    // A read that would wait for the held batch fails at once instead.
    await expect(committer.readable()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/^down; try again/) });
    gate.resolve();
    await committer.flushed();
    expect(() => committer.checkAvailable('refused')).not.toThrow();
  });

  it('lets reads through at once while a batch is held by a store that still answers reads (a full disk)', async () => {
    const { store, committer } = setup();
    const gate = deferred();
    let first = true;
    store.onCommit = () => {
      if (first) {
        first = false;
        return Promise.reject(new StoreUnavailableError('the disk holding /d is full (SQLITE_FULL): 0.0 MiB free', { readsWork: true }));
      }
      return gate.promise;
    };
    committer.run(run('r1'));
    await turns();
    expect(() => committer.checkAvailable('refused')).toThrow(/^refused: the disk holding \/d is full/);
    await expect(committer.readable()).resolves.toBeUndefined();
    gate.resolve();
    await committer.flushed();
  });
});
