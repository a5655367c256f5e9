import { describe, expect, it } from 'vitest';
import { stepParams } from './step-methods.js';
import { keptStep, MAX_STEP_RESULT_BYTES, type StepRecord, StepNameSchema, stepView } from '../core/steps.js';

const record = (fields: Partial<StepRecord> = {}): StepRecord => ({ runId: 'r', jobId: 'j', name: 's', status: 'COMPLETED', result: '"é"', error: null, attempt: 1, startedAt: 100, finishedAt: 350, cachedIn: null, ...fields });

describe('durable steps', () => {
  it('keeps a completed record over any later outcome and replaces a failed one', () => {
    const done = record();
    const failed = record({ status: 'FAILED', result: null, error: 'x' });
    expect(keptStep(done, record({ attempt: 2, result: '1' }))).toBe(done);
    expect(keptStep(done, failed)).toBe(done);
    const next = record({ attempt: 2 });
    expect(keptStep(failed, next)).toBe(next);
    expect(keptStep(null, failed)).toBe(failed);
  });

  it('views a step with its duration and its result size in UTF-8 bytes, without the result', () => {
    expect(stepView(record())).toEqual({ name: 's', status: 'COMPLETED', attempt: 1, startedAt: 100, finishedAt: 350, durationMs: 250, resultBytes: 4, error: null, cachedIn: null });
  });

  it('takes a result of JSON text up to the cap, and only a COMPLETED step carries one', () => {
    const p = (fields: Record<string, unknown>) => stepParams['step.record'].safeParse({ name: 's', attempt: 1, status: 'COMPLETED', result: '1', startedAt: 1, finishedAt: 2, ...fields });
    expect(p({}).success).toBe(true);
    expect(p({ result: JSON.stringify('x'.repeat(MAX_STEP_RESULT_BYTES - 2)) }).success).toBe(true);
    expect(p({ result: JSON.stringify('x'.repeat(MAX_STEP_RESULT_BYTES - 1)) }).success).toBe(false);
    expect(p({ result: '{not json' }).success).toBe(false);
    expect(p({ result: undefined }).success).toBe(false);
    expect(p({ status: 'FAILED' }).success).toBe(false);
    expect(p({ status: 'FAILED', result: undefined, error: 'boom' }).success).toBe(true);
    expect(p({ finishedAt: 0 }).success).toBe(false);
    expect(p({ jobId: 'other' }).success).toBe(false);
    expect(StepNameSchema.safeParse('fetch papers: 3').success).toBe(true);
    expect(StepNameSchema.safeParse('a\nb').success).toBe(false);
  });
});
