/** Retry policy: exponential backoff with jitter, and the failures that retrying cannot fix. */
import type { FailureCode } from './failure-codes.js';

export const BACKOFF = { baseMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.2 } as const;

/**
 * Delay before retry number `retry` (1 for the first retry). `random` is a number in [0, 1)
 * supplied by the caller so the function stays deterministic.
 */
export function backoffMs(retry: number, random: number): number {
  const raw = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * BACKOFF.factor ** Math.max(0, retry - 1));
  const spread = raw * BACKOFF.jitter;
  return Math.round(raw - spread + 2 * spread * random);
}

/**
 * Attempts of one job the infrastructure may lose before the job is given up: generous, since a
 * lost attempt is rarely the job's fault, but finite, so a job that keeps killing its workers
 * stops. Counted apart from the job's retries.
 */
export const DEFAULT_MAX_LOST_ATTEMPTS = 10;

/** Failure codes the worker reports for failures that would fail the same way again. */
export const FAIL_FAST_CODES = ['SCRIPT_NOT_FOUND', 'INTERPRETER_NOT_FOUND', 'NOT_EXECUTABLE', 'PORT_IN_USE', 'BAD_REQUEST', 'BAD_ARCHIVE', 'SECRET_MISSING'] as const satisfies readonly FailureCode[];
export type FailFastCode = (typeof FAIL_FAST_CODES)[number];

export const isFailFast = (code: string | null | undefined): boolean =>
  code !== null && code !== undefined && (FAIL_FAST_CODES as readonly string[]).includes(code);
