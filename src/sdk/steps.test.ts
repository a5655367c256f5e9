import { describe, expect, it } from 'vitest';
import { keptStep, type StepRecord, stepView } from '../core/steps.js';
import type { Method, ParamsOf, Results } from '../protocol/methods.js';
import { runStep, type StepCaller, StepFailedError } from './steps.js';

/** A master's step records in memory, with its rule: a completed step is never overwritten. */
function fakeMaster(): StepCaller & { records: Map<string, StepRecord>; calls: string[] } {
  const records = new Map<string, StepRecord>();
  const calls: string[] = [];
  const answer = (s: StepRecord) => ({ step: stepView(s), result: s.status === 'COMPLETED' ? s.result : null });
  return {
    records,
    calls,
    async call<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]> {
      calls.push(method);
      if (method === 'step.get') {
        const s = records.get((params as ParamsOf<'step.get'>).name);
        return (s ? answer(s) : { step: null, result: null }) as Results[M];
      }
      const p = params as ParamsOf<'step.record'>;
      const next: StepRecord = { runId: 'r', jobId: 'j', name: p.name, status: p.status, result: p.result ?? null, error: p.error ?? null, attempt: p.attempt, startedAt: p.startedAt, finishedAt: p.finishedAt, cachedIn: null };
      const stored = keptStep(records.get(p.name) ?? null, next);
      records.set(p.name, stored);
      return { ...answer(stored), kept: stored !== next } as Results[M];
    },
  };
}

const clock = () => {
  let t = 1_000;
  return () => (t += 10);
};

describe('step (SDK logic)', () => {
  it('runs fn once and records its result; a later attempt gets the recorded result without running it', async () => {
    const master = fakeMaster();
    let runs = 0;
    const fn = () => ({ papers: ++runs });
    expect(await runStep(master, 1, 'fetch', fn, {}, clock())).toEqual({ papers: 1 });
    expect(master.records.get('fetch')).toMatchObject({ status: 'COMPLETED', result: '{"papers":1}', attempt: 1, startedAt: 1_010, finishedAt: 1_020 });
    expect(await runStep(master, 2, 'fetch', fn, {}, clock())).toEqual({ papers: 1 });
    expect(runs).toBe(1);
  });

  it('retries fn within the attempt, then records FAILED and throws; the next attempt runs it again', async () => {
    const master = fakeMaster();
    let tries = 0;
    const failing = () => {
      tries++;
      throw new Error(`flaky ${tries}`);
    };
    const err = await runStep(master, 1, 's', failing, { retries: 2 }, clock()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepFailedError);
    expect((err as Error).message).toBe('step "s" failed: flaky 3');
    expect(tries).toBe(3);
    expect(master.records.get('s')).toMatchObject({ status: 'FAILED', error: 'flaky 3', result: null, attempt: 1 });
    expect(await runStep(master, 2, 's', () => 'ok', {}, clock())).toBe('ok');
    expect(master.records.get('s')).toMatchObject({ status: 'COMPLETED', result: '"ok"', attempt: 2 });
  });

  it('abandons a try after its timeout, aborting its signal', async () => {
    const master = fakeMaster();
    let aborted = false;
    const slow = ({ signal }: { signal: AbortSignal }) =>
      new Promise<number>((resolve) => {
        signal.addEventListener('abort', () => (aborted = true));
        setTimeout(() => resolve(1), 5_000).unref();
      });
    const err = await runStep(master, 1, 'slow', slow, { timeoutMs: 20 }, clock()).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/step "slow" try 1 timed out after 20 ms/);
    expect(aborted).toBe(true);
    expect(master.records.get('slow')?.status).toBe('FAILED');
  });

  it('returns the stored result when another attempt completed the step first', async () => {
    const master = fakeMaster();
    master.records.set('x', { runId: 'r', jobId: 'j', name: 'x', status: 'COMPLETED', result: '"first"', error: null, attempt: 1, startedAt: 1, finishedAt: 2, cachedIn: null });
    // The step.get answer predates that record: this attempt ran fn and its record is refused.
    const racing: StepCaller = { call: (m, p) => (m === 'step.get' ? Promise.resolve({ step: null, result: null } as never) : master.call(m, p)) };
    expect(await runStep(racing, 2, 'x', () => 'second', {}, clock())).toBe('first');
  });

  it('records undefined as null and refuses a result that is not JSON', async () => {
    const master = fakeMaster();
    expect(await runStep(master, 1, 'u', () => undefined, {}, clock())).toBeUndefined();
    expect(master.records.get('u')?.result).toBe('null');
    await expect(runStep(master, 1, 'f', () => () => 1, {}, clock())).rejects.toThrow(/its result is not JSON/);
  });
});
