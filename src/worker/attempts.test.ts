import { describe, expect, it, vi } from 'vitest';
import { type Attempt, Attempts, asReported, attemptIdOf, endAttempt } from './attempts.js';
import type { ExecutionResult, RunningAttempt } from './executor.js';

const id = (jobId: string, attempt: number, runId = 'r1') => ({ runId, jobId, attempt });

function running() {
  return { pid: 42, kill: vi.fn<(reason: string) => void>(), done: new Promise<ExecutionResult>(() => undefined) } satisfies RunningAttempt;
}

const failed = { outcome: 'FAILED', exitCode: 1, error: 'exit code 1', errorCode: 'EXIT' } as const;

describe('attemptIdOf', () => {
  it('keeps only what names the attempt', () => {
    const dispatch = { ...id('a', 2), args: ['x'], timeoutMs: 5 };
    expect(attemptIdOf(dispatch)).toStrictEqual({ runId: 'r1', jobId: 'a', attempt: 2 });
  });
});

describe('asReported', () => {
  const handedBack = { ended: { reason: 'handed back', lost: true } };

  it('reports an attempt handed back unfinished as LOST, with the reason', () => {
    expect(asReported(handedBack, failed)).toStrictEqual({ outcome: 'LOST', exitCode: 1, error: 'handed back', errorCode: null });
  });

  it('lets stand an attempt that completed all the same, and one ended without being lost', () => {
    const completed = { outcome: 'COMPLETED', exitCode: 0, error: null, errorCode: null } as const;
    expect(asReported(handedBack, completed)).toBe(completed);
    expect(asReported({ ended: { reason: 'cancelled by the master', lost: false } }, failed)).toBe(failed);
    expect(asReported({ ended: null }, failed)).toBe(failed);
  });
});

describe('endAttempt', () => {
  it('keeps the first reason an attempt was ended for, and kills its process', () => {
    const attempts = new Attempts();
    const a = attempts.hold(id('a', 1), null);
    const process = running();
    a.running = process;
    endAttempt(a, 'cancelled by the master', false);
    endAttempt(a, 'handed back', true);
    expect(a.ended).toStrictEqual({ reason: 'cancelled by the master', lost: false });
    expect(process.kill.mock.calls).toStrictEqual([['cancelled by the master'], ['handed back']]);
  });

  it('marks an attempt that has no process yet, so it never starts', () => {
    const a = new Attempts().hold(id('a', 1), null);
    endAttempt(a, 'handed back', true);
    expect(a.ended).toStrictEqual({ reason: 'handed back', lost: true });
  });
});

describe('Attempts', () => {
  it('holds one attempt a job: a newer one supersedes the older, which is ended', () => {
    const attempts = new Attempts();
    const older = attempts.hold(id('a', 1), 'sha-1');
    const newer = attempts.hold(id('a', 2), 'sha-2');
    attempts.hold(id('b', 1), null);
    expect(attempts.size).toBe(2);
    expect(older.ended).toStrictEqual({ reason: 'superseded by a newer attempt', lost: false });
    expect(newer.ended).toBeNull();
    expect(attempts.ids()).toStrictEqual([id('a', 2), id('b', 1)]);
  });

  it('finds an attempt by its very number only', () => {
    const attempts = new Attempts();
    const a = attempts.hold(id('a', 2), null);
    expect(attempts.find(id('a', 2))).toBe(a);
    expect(attempts.find(id('a', 1))).toBeUndefined();
    expect(attempts.find(id('a', 2, 'r2'))).toBeUndefined();
  });

  it('releasing a superseded attempt keeps the newer one held', () => {
    const attempts = new Attempts();
    const older = attempts.hold(id('a', 1), null);
    const newer = attempts.hold(id('a', 2), null);
    attempts.release(older);
    expect(attempts.find(id('a', 2))).toBe(newer);
    attempts.release(newer);
    expect(attempts.size).toBe(0);
  });

  it('is idle at once when it holds nothing, else once the last attempt is released', async () => {
    const attempts = new Attempts();
    await attempts.idle();
    const a = attempts.hold(id('a', 1), null);
    const b = attempts.hold(id('b', 1), null);
    let idle = false;
    void attempts.idle().then(() => (idle = true));
    attempts.release(a);
    await Promise.resolve();
    expect(idle).toBe(false);
    attempts.release(b);
    await Promise.resolve();
    expect(idle).toBe(true);
  });

  it('ends every attempt held', () => {
    const attempts = new Attempts();
    const held: Attempt[] = [attempts.hold(id('a', 1), null), attempts.hold(id('b', 1), null)];
    attempts.endAll('handed back', true);
    for (const a of held) expect(a.ended).toStrictEqual({ reason: 'handed back', lost: true });
  });

  it('knows the ports its services hold, and the run folders and cache entries in use', () => {
    const attempts = new Attempts();
    const service = attempts.hold(id('svc', 1), 'sha-svc');
    service.service = { ...service.id, phase: 'started', pid: 7, port: 8123 };
    attempts.hold(id('job', 1, 'r2'), 'sha-job');
    expect([...attempts.servicePorts()]).toStrictEqual([8123]);
    expect(attempts.isBusy('runs', 'r2')).toBe(true);
    expect(attempts.isBusy('runs', 'r3')).toBe(false);
    expect(attempts.isBusy('cache', 'sha-job')).toBe(true);
    expect(attempts.isBusy('cache', 'r1')).toBe(false);
  });
});
