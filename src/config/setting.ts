/**
 * A setting of a server process (`titan master`, `titan worker`, `titan up`), defined once: its
 * flag, help text, parse rule (a zod schema from the command line's text to the value), default
 * and environment variable. The CLI makes its options from these tables; nothing restates them.
 */
import { z } from 'zod';

interface SettingBase {
  /** The flag as commander takes it: `--name <value>`, or `--name` alone for a switch. */
  readonly flag: string;
  readonly help: string;
  /** How --help shows the default when the value itself would read wrong (e.g. milliseconds). */
  readonly defaultText?: string;
  /** The environment variable the command reads when the flag is absent (see docs/cli.md). */
  readonly env?: string;
  /** Left out of --help (e.g. for benchmarks only). */
  readonly hidden?: boolean;
  /** Its value may carry a password (a store URL): a bad one is reported without repeating it. */
  readonly secret?: boolean;
}

/** A flag with a value; `choices` lists the only values it takes. */
export interface ValueSetting<T> extends SettingBase {
  readonly parse: z.ZodType<T, string>;
  readonly default?: T;
  readonly choices?: readonly string[];
}

/** A flag given several times (or with several values) whose values make a list. */
export interface ListSetting<E> extends SettingBase {
  readonly each: z.ZodType<E, string>;
  readonly default?: readonly E[];
}

/** A flag with no value: on when given. */
export interface SwitchSetting extends SettingBase {
  readonly default?: boolean;
}

export type Setting = ValueSetting<unknown> | ListSetting<unknown> | SwitchSetting;

/** The parsed value of one setting. */
export type ValueOf<S> = S extends { parse: z.ZodType<infer T, string> } ? T : S extends { each: z.ZodType<infer E, string> } ? E[] : boolean;

/** The keys of the settings that have a default, and so always a value. */
type Defaulted<D> = { [K in keyof D]: D[K] extends { default: unknown } ? K : never }[keyof D];

/** The parsed settings a command's action receives: a setting with no default is absent unless given. */
export type SettingsOf<D extends Record<string, Setting>> = { -readonly [K in Defaulted<D>]: ValueOf<D[K]> } & { -readonly [K in Exclude<keyof D, Defaulted<D>>]?: ValueOf<D[K]> };

export const isSwitch = (s: Setting): s is SwitchSetting => !('parse' in s) && !('each' in s);

/** What the help of every secret's flag says: a command line is no place for it. */
export const ON_ARGV = 'visible to other local users in ps: prefer --token-file';

/**
 * A parse rule that reads the text with `read`; what `read` throws is the message a bad value gets
 * (after commander's "option '--x' argument 'y' is invalid.").
 */
export function rule<T>(read: (text: string) => T): z.ZodType<T, string> {
  return z.string().transform((text, ctx) => {
    try {
      return read(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** Any text. */
export const text = (): z.ZodType<string, string> => z.string();

/** A whole number written any way Number() reads it, from `min` to `max`: `NAME must be an integer from MIN to MAX`. */
export const integer = (name: string, min: number, max: number): z.ZodType<number, string> => {
  const error = `${name} must be an integer from ${min} to ${max}`;
  return z
    .string()
    .transform(Number)
    .pipe(z.number({ error }).int({ error }).min(min, { error }).max(max, { error }));
};

/** Digits only, from `min` to `max`. */
export const wholeNumber = (min: number, max: number): z.ZodType<number, string> => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, { error })
    .transform(Number)
    .pipe(z.number().min(min, { error }).max(max, { error }));
};

/** A finite number above 0, of `unit` (e.g. seconds). */
export const positiveNumber = (unit: string): z.ZodType<number, string> => {
  const error = `must be a positive number of ${unit}`;
  return z
    .string()
    .transform(Number)
    .pipe(z.number({ error }).gt(0, { error }));
};

/**
 * The table's settings as one zod object over the command line's texts (absent: the default), for
 * reading settings from elsewhere than argv with the same rules.
 */
export function settingsSchema<D extends Record<string, Setting>>(settings: D): z.ZodType<SettingsOf<D>, Partial<Record<keyof D, string | string[] | boolean>>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, s] of Object.entries(settings)) {
    if (isSwitch(s)) shape[key] = s.default === undefined ? z.boolean().optional() : z.boolean().default(s.default);
    else if ('each' in s) shape[key] = s.default === undefined ? z.array(s.each).optional() : z.array(s.each).default([...s.default]);
    else shape[key] = s.default === undefined ? s.parse.optional() : s.parse.optional().transform((v) => v ?? s.default);
  }
  return z.strictObject(shape) as unknown as z.ZodType<SettingsOf<D>, Partial<Record<keyof D, string | string[] | boolean>>>;
}
