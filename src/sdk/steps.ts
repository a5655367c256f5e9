/**
 * Durable steps from inside a job: `step(name, fn)` returns the step's recorded result when an
 * earlier attempt of this job in this run completed it, else runs `fn` (with its own retries and
 * timeout), records the outcome on the master (committed before `step` returns) and returns it.
 * A failed step is recorded FAILED and `step` throws: the job fails, and its next attempt runs the
 * step again. The job's token (TITAN_TOKEN) names the run and job; TITAN_ATTEMPT the attempt.
 */
import { MAX_STEP_ERROR_CHARS } from '../core/steps.js';
import type { Method, ParamsOf, Results } from '../protocol/methods.js';
import { TitanClient } from './client.js';
import { BadRequestError, TitanError } from './errors.js';

/** What `fn` gets: a signal that aborts when the step's timeout passes (pass it to fetch and the like). */
export interface StepContext {
  signal: AbortSignal;
  /** The try within this attempt, from 1 (retries add more). */
  try: number;
}

export interface StepOptions {
  /** Each try of `fn` is abandoned after this long (its signal aborts) and counts as failed. */
  timeoutMs?: number;
  /** Further tries of `fn` within this attempt when it throws or times out (default 0). */
  retries?: number;
  /**
   * The client to record through. By default each step opens its own connection from TITAN_HOST,
   * TITAN_PORT and TITAN_TOKEN and closes it when done, so that a finished script is not held
   * open by it.
   */
  client?: StepCaller;
}

/** What recording needs of a client (a TitanClient is one). */
export interface StepCaller {
  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]>;
}

/** The step ran and failed (every try threw or timed out); it is recorded FAILED. */
export class StepFailedError extends TitanError {
  constructor(
    readonly step: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('INTERNAL', `step "${step}" failed: ${message}`);
    this.name = 'StepFailedError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** The attempt this job runs as, from TITAN_ATTEMPT. */
export function attemptFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const attempt = Number(env.TITAN_ATTEMPT);
  if (!env.TITAN_TOKEN || !Number.isInteger(attempt) || attempt < 1) {
    throw new BadRequestError('step() runs inside a Titan job: TITAN_TOKEN and TITAN_ATTEMPT must be set (the worker sets them)');
  }
  return attempt;
}

/** Runs `fn` once per run and job (see the module comment); its result must be JSON (undefined is recorded as null). */
export async function step<T>(name: string, fn: (ctx: StepContext) => T | Promise<T>, options: StepOptions = {}): Promise<T> {
  const attempt = attemptFromEnv();
  if (options.client) return runStep(options.client, attempt, name, fn, options, Date.now);
  const client = new TitanClient();
  try {
    return await runStep(client, attempt, name, fn, options, Date.now);
  } finally {
    client.close();
  }
}

/** step() with its caller, attempt and clock given: the logic, testable without a master. */
export async function runStep<T>(caller: StepCaller, attempt: number, name: string, fn: (ctx: StepContext) => T | Promise<T>, options: Omit<StepOptions, 'client'>, now: () => number): Promise<T> {
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) throw new BadRequestError(`step "${name}": retries must be a whole number ≥ 0, got ${retries}`);
  const recorded = await caller.call('step.get', { name });
  if (recorded.result !== null) return JSON.parse(recorded.result) as T;
  const startedAt = now();
  let failure: unknown;
  for (let n = 1; n <= retries + 1; n++) {
    let value: T;
    try {
      value = await tryOnce(name, fn, n, options.timeoutMs);
    } catch (err) {
      failure = err;
      continue;
    }
    const result = JSON.stringify(value === undefined ? null : value);
    if (result === undefined) throw new BadRequestError(`step "${name}": its result is not JSON`);
    const reply = await caller.call('step.record', { name, attempt, status: 'COMPLETED', result, startedAt, finishedAt: now() });
    // Another attempt completed it first (an attempt the master gave up on): its result stands.
    return reply.kept && reply.result !== null ? (JSON.parse(reply.result) as T) : value;
  }
  const message = failure instanceof Error ? failure.message : String(failure);
  await caller.call('step.record', { name, attempt, status: 'FAILED', error: message.slice(0, MAX_STEP_ERROR_CHARS), startedAt, finishedAt: now() });
  throw new StepFailedError(name, message, { cause: failure });
}

async function tryOnce<T>(name: string, fn: (ctx: StepContext) => T | Promise<T>, n: number, timeoutMs: number | undefined): Promise<T> {
  const abort = new AbortController();
  if (timeoutMs === undefined) return fn({ signal: abort.signal, try: n });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`timed out after ${timeoutMs} ms`);
      abort.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => fn({ signal: abort.signal, try: n })), timedOut]);
  } catch (err) {
    if (abort.signal.aborted) throw new Error(`step "${name}" try ${n} timed out after ${timeoutMs} ms`, { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
