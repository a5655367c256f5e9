/**
 * Why an attempt failed, in one word: the worker sends it with the attempt's end, the wire
 * carries it and the retry policy (retry.ts) reads it. One list, so a worker cannot invent a
 * code the master does not know.
 */
import { z } from 'zod';

export const FAILURE_CODES = [
  /** The script ran and failed: a non-zero exit, a signal, its timeout. */
  'EXIT',
  'SIGNAL',
  'TIMEOUT',
  /** It could not start. */
  'SPAWN_FAILED',
  'SCRIPT_NOT_FOUND',
  'INTERPRETER_NOT_FOUND',
  'NOT_EXECUTABLE',
  'BAD_ARCHIVE',
  'BAD_REQUEST',
  'STAGING',
  /** A secret the job declares was removed (or cannot be decrypted) before it was dispatched: set by the master. */
  'SECRET_MISSING',
  /** A service found no port or never became ready. */
  'PORT_IN_USE',
  'NO_FREE_PORT',
  'NOT_READY',
  /** A code this version does not know (from a newer worker): a failure like any other. */
  'UNKNOWN',
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

export const FailureCodeSchema = z.enum(FAILURE_CODES);

export const isFailureCode = (code: string): code is FailureCode => (FAILURE_CODES as readonly string[]).includes(code);

/**
 * A failure code as the wire carries it: any word of up to 64 characters is accepted, as it always
 * was, so a newer worker's code does not make its whole report fail; one not in the list reads as
 * UNKNOWN, which the retry policy treats like any failure (it did so with every unknown code).
 */
export const ReportedFailureCodeSchema = z
  .string()
  .max(64)
  .transform((code): FailureCode => (isFailureCode(code) ? code : 'UNKNOWN'));
