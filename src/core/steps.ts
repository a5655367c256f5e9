/**
 * Durable steps: a job's named units of work whose outcome the master records, so that a later
 * attempt of the same job in the same run takes a completed step's result instead of doing the
 * work again. One definition of a step record and its limits, shared by store, protocol, SDK and
 * dashboard.
 */
import { z } from 'zod';
import { hasNoNul, NUL_RULE } from './stored-text.js';

export const STEP_STATUSES = ['COMPLETED', 'FAILED'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** The largest result (its JSON text, in UTF-8 bytes) a step may record: the master keeps it in its store. */
export const MAX_STEP_RESULT_BYTES = 1024 * 1024;
/** A failed step's message is kept to this many characters. */
export const MAX_STEP_ERROR_CHARS = 4096;
export const MAX_STEP_NAME_LENGTH = 200;

/** Names are the caller's own words ("fetch-papers", "summarise 3"): any printable text without control characters. */
export const StepNameSchema = z
  .string()
  .min(1, 'a step name must not be empty')
  .max(MAX_STEP_NAME_LENGTH, `a step name is at most ${MAX_STEP_NAME_LENGTH} characters`)
  .regex(/^[^\x00-\x1f\x7f]+$/, 'a step name must not contain control characters');

const utf8Bytes = (text: string): number => new TextEncoder().encode(text).length;

/** A step's result as JSON text: checked to be JSON, within the cap, storable. */
export const StepResultSchema = z
  .string()
  .refine((t) => utf8Bytes(t) <= MAX_STEP_RESULT_BYTES, `a step result is at most ${MAX_STEP_RESULT_BYTES} bytes of JSON`)
  .refine(hasNoNul, NUL_RULE)
  .refine(isJson, 'a step result must be JSON text');

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** One step's outcome as the store keeps it, per (run, job, name). */
export interface StepRecord {
  runId: string;
  jobId: string;
  name: string;
  status: StepStatus;
  /** The result's JSON text (COMPLETED), else null. */
  result: string | null;
  error: string | null;
  /** The attempt that ran the step and produced this outcome. */
  attempt: number;
  startedAt: number;
  finishedAt: number;
  /** The latest later attempt that took the recorded result instead of running the step, if any. */
  cachedIn: number | null;
}

/** A step as views show it: everything but the result itself, which may be large. */
export interface StepView {
  name: string;
  status: StepStatus;
  attempt: number;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  /** UTF-8 bytes of the recorded result's JSON text (0 when none). */
  resultBytes: number;
  error: string | null;
  cachedIn: number | null;
}

export const stepView = (s: StepRecord): StepView => ({
  name: s.name,
  status: s.status,
  attempt: s.attempt,
  startedAt: s.startedAt,
  finishedAt: s.finishedAt,
  durationMs: Math.max(0, s.finishedAt - s.startedAt),
  resultBytes: s.result === null ? 0 : utf8Bytes(s.result),
  error: s.error,
  cachedIn: s.cachedIn,
});

/**
 * What recording `next` over `stored` keeps: a completed step is never overwritten (the record
 * stays and the caller gets it back); a failed one is replaced by the newer outcome.
 */
export const keptStep = (stored: StepRecord | null, next: StepRecord): StepRecord => (stored?.status === 'COMPLETED' ? stored : next);

/** Steps in the order they ran (start time, then name). */
export const stepOrder = (a: StepRecord, b: StepRecord): number => a.startedAt - b.startedAt || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
