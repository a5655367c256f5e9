/** Parsers for numeric command-line arguments, shared by the commands; a bad value is exit 2. */
import { integer, positiveNumber } from '../config/setting.js';
import { drainTimeoutMs } from '../config/worker-settings.js';
import { commanderParser } from './setting-options.js';

export const int = (name: string, min: number, max: number): ((value: string) => number) => commanderParser(integer(name, min, max));

export const seconds = commanderParser(positiveNumber('seconds'));

/** A drain's grace in seconds (0: hand running jobs back at once), as milliseconds: the worker setting's rule. */
export const drainTimeout = commanderParser(drainTimeoutMs);

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
