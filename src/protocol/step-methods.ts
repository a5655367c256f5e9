/**
 * v2 methods of durable steps (`step.get`, `step.record`), called by a job with its own token:
 * the token names the run, the job and the attempt, so the parameters name only the step. A
 * result travels as JSON text, checked and capped (core/steps.ts). Merged into `params` and
 * `Results` of methods.ts.
 */
import { z } from 'zod';
import { MAX_STEP_ERROR_CHARS, STEP_STATUSES, StepNameSchema, StepResultSchema, type StepView } from '../core/steps.js';
import { scrubNul } from '../core/stored-text.js';

/** A time in ms since the epoch, as the job's clock read it. */
const TimeSchema = z.number().int().nonnegative();

export const stepParams = {
  /** The step's recorded outcome: its result when it completed before (in any attempt of this job in this run). */
  'step.get': z.strictObject({ name: StepNameSchema }),
  /**
   * Records how the step ended in this attempt; committed before the reply. A step that completed
   * before keeps its record, and the reply carries that one.
   */
  'step.record': z
    .strictObject({
      name: StepNameSchema,
      attempt: z.number().int().positive(),
      status: z.enum(STEP_STATUSES),
      result: StepResultSchema.optional(),
      error: z.string().max(MAX_STEP_ERROR_CHARS).transform(scrubNul).optional(),
      startedAt: TimeSchema,
      finishedAt: TimeSchema,
    })
    .refine((p) => p.finishedAt >= p.startedAt, { message: 'finishedAt must not be before startedAt', path: ['finishedAt'] })
    .refine((p) => (p.status === 'COMPLETED') === (p.result !== undefined), { message: 'a COMPLETED step carries a result, a FAILED one none', path: ['result'] }),
} as const;

export type StepMethod = keyof typeof stepParams;

/** A step's record as a call returns it: its view, and its result's JSON text when it completed. */
export interface StepOutcome {
  step: StepView;
  result: string | null;
}

export interface StepResults {
  /** `step` is null when the step has no record. */
  'step.get': { step: StepView | null; result: string | null };
  /** `kept` is true when the step had completed before: its earlier record stays and is returned. */
  'step.record': StepOutcome & { kept: boolean };
}
