/**
 * v2 methods of secrets (`secret.set`, `secrets.list`, `secret.remove`): values go in and never
 * come out. No method returns a value; a job receives the secrets it declares as environment
 * variables at dispatch. Merged into `params` and `Results` of methods.ts.
 */
import { z } from 'zod';
import { SecretNameSchema } from '../core/model.js';

/** The largest value a secret may hold (an environment variable's value, a key or a certificate). */
export const MAX_SECRET_BYTES = 64 * 1024;

/** A secret as it is listed: its name and dates, never its value. */
export interface SecretInfo {
  name: string;
  createdAt: number;
  updatedAt: number;
}

export const secretParams = {
  /** Sets a secret, replacing its value if it exists; the value is encrypted before it is stored. */
  'secret.set': z.strictObject({
    name: SecretNameSchema,
    value: z
      .string()
      .min(1, 'a secret value must not be empty')
      .refine((v) => new TextEncoder().encode(v).length <= MAX_SECRET_BYTES, `a secret value holds at most ${MAX_SECRET_BYTES} bytes`)
      .refine((v) => !v.includes('\0'), 'a secret value must not contain a NUL byte (it becomes an environment variable)'),
  }),
  'secrets.list': z.strictObject({}),
  'secret.remove': z.strictObject({ name: SecretNameSchema }),
} as const;

export type SecretMethod = keyof typeof secretParams;

export interface SecretResults {
  'secret.set': { secret: SecretInfo; created: boolean };
  'secrets.list': { secrets: SecretInfo[] };
  'secret.remove': { removed: boolean };
}
