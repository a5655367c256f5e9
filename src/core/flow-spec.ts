/**
 * What a job or a run declares about flow control: the concurrency key it holds while it runs,
 * the rate limit it draws from, the group it takes turns in, and a run's singleton and debounce.
 * Keys are templates (flow-keys.ts) until the run is submitted, plain strings after.
 */
import { z } from 'zod';
import { FLOW_KEY_MAX, FLOW_KEY_PATTERN, FlowKeyTemplateSchema } from './flow-keys.js';

export const FLOW_LIMIT_MAX = 1_000_000;
export const FAIR_WEIGHT_MAX = 100;

/** At most `limit` jobs holding `key` run at once, cluster-wide (a limit set with `titan limits` wins). */
export const ConcurrencySchema = z.strictObject({
  key: FlowKeyTemplateSchema,
  limit: z.number().int().min(1).max(FLOW_LIMIT_MAX).optional(),
});
export type Concurrency = z.infer<typeof ConcurrencySchema>;

export const RATE_PERIODS = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
export type RatePeriod = keyof typeof RATE_PERIODS;
export const RatePeriodSchema = z.enum(Object.keys(RATE_PERIODS) as [RatePeriod, ...RatePeriod[]]);

/** A token bucket: `limit` starts per `per`, up to `burst` (default `limit`) at once after a quiet spell. */
export const RateLimitSchema = z.strictObject({
  key: FlowKeyTemplateSchema,
  limit: z.number().int().min(1).max(FLOW_LIMIT_MAX),
  per: RatePeriodSchema.default('second'),
  burst: z.number().int().min(1).max(FLOW_LIMIT_MAX).optional(),
});
export type RateLimit = z.infer<typeof RateLimitSchema>;

/** The group a run's jobs take turns in (by default the run itself), and its share. */
export const FairnessSchema = z.strictObject({
  key: FlowKeyTemplateSchema,
  weight: z.number().int().min(1).max(FAIR_WEIGHT_MAX).default(1),
});
export type Fairness = z.infer<typeof FairnessSchema>;

/** The longest debounce window: a day (a burst is coalesced, not a run put off for good). */
export const DEBOUNCE_WAIT_MAX_MS = 86_400_000;

/**
 * A run that starts nothing until `waitMs` has passed with no newer submission of the same key;
 * a newer one within the window replaces it (core/run-once.ts).
 */
export const DebounceSchema = z.strictObject({
  key: FlowKeyTemplateSchema,
  waitMs: z.number().int().min(1).max(DEBOUNCE_WAIT_MAX_MS),
});
export type Debounce = z.infer<typeof DebounceSchema>;

/** A run's own flow settings as the master keeps and stores them, keys resolved. */
export interface RunFlow {
  fairness?: Fairness;
  /** While this run is unfinished, a submission with the same key starts no second run. */
  singleton?: string;
  /** The debounce window: no job of the run starts before `until` (epoch ms). */
  debounce?: Debounce & { until: number };
}

/** A plain key, as a cluster limit names it (no placeholders). */
export const FlowKeySchema = z.string().min(1).max(FLOW_KEY_MAX).regex(FLOW_KEY_PATTERN, 'a key contains only letters, digits and "_ . : = / -"');

/** A limit set for the whole cluster on one key (`titan limits set`); it wins over what jobs declare. */
export const ClusterLimitSchema = z.strictObject({
  key: FlowKeySchema,
  concurrency: z.number().int().min(1).max(FLOW_LIMIT_MAX).optional(),
  rate: RateLimitSchema.omit({ key: true }).optional(),
  /** The share of the fairness group this key names. */
  weight: z.number().int().min(1).max(FAIR_WEIGHT_MAX).optional(),
});
export type ClusterLimit = z.infer<typeof ClusterLimitSchema>;
