/**
 * v2 methods of triggers (`triggers.*`): parameter schemas and result types, merged into `params`
 * and `Results` of methods.ts. A trigger's run references scripts already uploaded with
 * blob.put, as `submit` does. A bearer token is returned once, by `triggers.create`.
 */
import { z } from 'zod';
import { RunSpecSchema, SecretNameSchema } from '../core/model.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_TRIGGER_RATE, KEPT_DELIVERIES, TriggerLimitsSchema, TriggerNameSchema, type TriggerView } from '../core/trigger.js';

const Named = z.strictObject({ name: TriggerNameSchema });

export const triggerParams = {
  'triggers.list': z.strictObject({}),
  /** A trigger with its newest `deliveries`. */
  'triggers.get': z.strictObject({ name: TriggerNameSchema, deliveries: z.number().int().min(0).max(KEPT_DELIVERIES).default(20) }),
  /** Creates the trigger `name`: deliveries signed with the secret `secret` (HMAC-SHA256), or carrying a bearer token made now. */
  'triggers.create': z.strictObject({
    name: TriggerNameSchema,
    run: RunSpecSchema,
    auth: z.union([z.strictObject({ secret: SecretNameSchema }), z.strictObject({ bearer: z.literal(true) })]),
    limits: TriggerLimitsSchema.default({ ratePerMinute: DEFAULT_TRIGGER_RATE, maxBodyBytes: DEFAULT_MAX_BODY_BYTES }),
  }),
  /** Removes the trigger and its deliveries; the runs it started are kept. */
  'triggers.remove': Named,
} as const;

export type TriggerMethod = keyof typeof triggerParams;

export interface TriggerResults {
  'triggers.list': { triggers: TriggerView[] };
  'triggers.get': { trigger: TriggerView };
  /** `token`: the bearer token, shown this once (the master keeps only its hash). */
  'triggers.create': { trigger: TriggerView; token?: string };
  'triggers.remove': { trigger: TriggerView };
}
