/** Parsers for numeric command-line arguments, shared by the commands; a bad value is exit 2. */
import { InvalidArgumentError } from 'commander';
import { LIMITS } from '../core/model.js';
import { DrainTimeoutSchema } from '../protocol/methods.js';

export const int = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

export const seconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
};

/** A drain's grace in seconds (0: hand running jobs back at once), as milliseconds. */
export const drainTimeout = (value: string): number => {
  const ms = DrainTimeoutSchema.safeParse(Math.round(Number(value) * 1000));
  if (value.trim() === '' || !ms.success) throw new InvalidArgumentError(`must be a number of seconds from 0 to ${LIMITS.maxTimeoutMs / 1000}`);
  return ms.data;
};

/** `never`, or a positive number of seconds as milliseconds. */
export const stopAfterDisconnect = (value: string): number | 'never' => {
  if (value === 'never') return 'never';
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n * 1000 > LIMITS.maxTimeoutMs) throw new InvalidArgumentError(`must be "never" or a positive number of seconds up to ${LIMITS.maxTimeoutMs / 1000}`);
  return Math.max(1, Math.round(n * 1000));
};

/**
 * Titan's capability tags. `titan run <file> GPU` takes one of them for the requirement, as
 * Titan's `run <file> [requirement]` does; other (custom) capabilities need --requirement.
 */
export const TITAN_CAPABILITIES: readonly string[] = ['GENERAL', 'GPU', 'HIGH_MEM', 'PYTHON'];

/**
 * Splits `titan run`'s words after the script: a Titan capability as the last word before `--` is
 * the requirement; every word after `--` (`literal` of them, at the end) is the script's as written.
 */
export function requirementWord(words: readonly string[], literal: number): { args: string[]; requirement: string | null } {
  const before = words.length - literal;
  const last = before > 0 ? (words[before - 1] as string) : null;
  if (last === null || !TITAN_CAPABILITIES.includes(last)) return { args: [...words], requirement: null };
  return { args: words.filter((_, i) => i !== before - 1), requirement: last };
}
