/**
 * Commander options made from a table of settings (src/config): the one place a setting becomes a
 * flag, so that its help, parse rule and default read the same in every command that offers it.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';
import { isSwitch, type Setting } from '../config/setting.js';
import { SetupError } from '../core/errors.js';

/** What one command says differently of a setting: its own help or default (e.g. `titan up` listens on loopback). */
export interface SettingOverride {
  help?: string;
  /** The command's own default; `undefined` for none. */
  default?: unknown;
  defaultText?: string;
}

/** A zod parse rule as a commander argument parser: a bad value is commander's "is invalid" error (exit 2). */
export function commanderParser<T>(schema: z.ZodType<T, string>): (value: string) => T {
  return (value) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'is not valid');
    return parsed.data;
  };
}

/**
 * The parser of a setting whose value may carry a password: commander's "is invalid" error would
 * repeat the value, so a bad one is a usage error (exit 2) that names the flag alone.
 */
function secretParser<T>(flag: string, schema: z.ZodType<T, string>): (value: string) => T {
  return (value) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new SetupError(`option '${flag}' is invalid: ${parsed.error.issues[0]?.message ?? 'is not valid'}`, { usage: true });
    return parsed.data;
  };
}

/** The commander option of one setting, with a command's overrides. */
export function settingOption(s: Setting, override: SettingOverride = {}): Option {
  const option = new Option(s.flag, override.help ?? s.help);
  const hasDefault = 'default' in override ? override.default !== undefined : s.default !== undefined;
  const value = 'default' in override ? override.default : s.default;
  const shown = 'default' in override ? override.defaultText : (override.defaultText ?? s.defaultText);
  if (hasDefault || shown !== undefined) option.default(value, shown);
  if (s.hidden) option.hideHelp();
  if (isSwitch(s)) return option;
  if ('each' in s) {
    const one = commanderParser(s.each);
    return option.argParser((text: string, previous: unknown) => [...(Array.isArray(previous) ? (previous as unknown[]) : []), one(text)]);
  }
  if (s.choices) return option.choices(s.choices);
  return option.argParser(s.secret ? secretParser(s.flag, s.parse) : commanderParser(s.parse));
}

/**
 * Adds the settings of `table` to the command, in the table's order: `only` limits them to those
 * keys, `overrides` changes what this command says of some.
 */
export function settingOptions<D extends Record<string, Setting>>(command: Command, table: D, { only, overrides = {} }: { only?: readonly (keyof D & string)[]; overrides?: Partial<Record<keyof D & string, SettingOverride>> } = {}): Command {
  for (const [key, s] of Object.entries(table) as [keyof D & string, Setting][]) {
    if (only && !only.includes(key)) continue;
    command.addOption(settingOption(s, overrides[key]));
  }
  return command;
}
