/**
 * Triggers: a pipeline that an HTTP request to `/hooks/NAME` starts, with the request's JSON body
 * handed to its jobs. A trigger is stored with its prepared run (scripts uploaded when it was
 * created, as a schedule's), how requests prove who sent them (an HMAC signature keyed by a named
 * secret, or a bearer token of which only the hash is kept) and its limits. Each request that
 * reaches a trigger is a delivery, accepted or refused with the reason; the newest
 * KEPT_DELIVERIES of each trigger are kept. Pure: the rate decision takes the time as an argument.
 */
import { z } from 'zod';
import { IdSchema, type RunSpec, SecretNameSchema, Sha256Schema } from './model.js';

export const TriggerNameSchema = IdSchema;

/** The deliveries kept per trigger: a new one pushes the oldest out in the same write. */
export const KEPT_DELIVERIES = 100;

export const DEFAULT_TRIGGER_RATE = 60;
export const MAX_TRIGGER_RATE = 6_000;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** A payload becomes a blob every job of the run reads: larger documents belong in artifacts. */
export const MAX_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** The longest idempotency key or event name taken from a request's headers. */
export const MAX_HEADER_VALUE = 200;

/** How a delivery proves who sent it. Only a bearer token's sha256 is kept. */
export const TriggerAuthSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('hmac'), secret: SecretNameSchema }),
  z.strictObject({ kind: z.literal('bearer'), tokenHash: Sha256Schema }),
]);
export type TriggerAuth = z.infer<typeof TriggerAuthSchema>;

export const TriggerLimitsSchema = z.strictObject({
  /** Deliveries accepted per minute (a bucket of this many, refilled evenly over the minute). */
  ratePerMinute: z.number().int().min(1).max(MAX_TRIGGER_RATE).default(DEFAULT_TRIGGER_RATE),
  /** The largest request body, checked while it is read. */
  maxBodyBytes: z.number().int().min(2).max(MAX_MAX_BODY_BYTES).default(DEFAULT_MAX_BODY_BYTES),
});
export type TriggerLimits = z.infer<typeof TriggerLimitsSchema>;

export interface TriggerRecord {
  name: string;
  /** The pipeline each accepted delivery submits; its scripts were uploaded when it was created. */
  run: RunSpec;
  auth: TriggerAuth;
  limits: TriggerLimits;
  createdAt: number;
  updatedAt: number;
}

export const DELIVERY_OUTCOMES = ['accepted', 'refused'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export interface DeliveryRecord {
  id: string;
  trigger: string;
  receivedAt: number;
  outcome: DeliveryOutcome;
  /** Why it was refused (with the HTTP status), or what happened instead of a new run; null otherwise. */
  reason: string | null;
  idempotencyKey: string | null;
  bodyBytes: number;
  /** The run it started (or the run holding the pipeline's singleton key); null when refused. */
  runId: string | null;
}

/** How a trigger is shown: never its token's hash. */
export interface TriggerView {
  name: string;
  /** The path requests are sent to, on the master's HTTP port. */
  path: string;
  pipeline: string;
  jobs: number;
  auth: { kind: 'hmac'; secret: string } | { kind: 'bearer' };
  limits: TriggerLimits;
  createdAt: number;
  updatedAt: number;
  /** The newest deliveries first. */
  deliveries: DeliveryRecord[];
  /** Refusals beyond the recording budget since this master started: counted, not stored one by one. */
  unrecorded: number;
}

/** A run's `startedBy` when a delivery started it: never a run id (those have no ":"). */
export const startedByDelivery = (trigger: string, delivery: string): string => `trigger:${trigger}/${delivery}`;

/** Who started a run, in words: "trigger gh, delivery d1" or "run r1" (a job of that run). */
export function startedByText(startedBy: string): string {
  const m = /^trigger:([^/]+)\/(.+)$/.exec(startedBy);
  return m ? `trigger ${m[1]}, delivery ${m[2]}` : `run ${startedBy}`;
}

export const hookPath = (name: string): string => `/hooks/${encodeURIComponent(name)}`;

export function viewOfTrigger(t: TriggerRecord, deliveries: DeliveryRecord[], unrecorded: number): TriggerView {
  return {
    name: t.name,
    path: hookPath(t.name),
    pipeline: t.run.name,
    jobs: t.run.jobs.length,
    auth: t.auth.kind === 'hmac' ? { kind: 'hmac', secret: t.auth.secret } : { kind: 'bearer' },
    limits: t.limits,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    deliveries,
    unrecorded,
  };
}

/** A token bucket of `perMinute` tokens that refills evenly; starts full. */
export interface RateBucket {
  tokens: number;
  at: number;
}

export const fullBucket = (perMinute: number, now: number): RateBucket => ({ tokens: perMinute, at: now });

/** Takes one token if there is one; otherwise says how long until there is. */
export function takeToken(bucket: RateBucket, perMinute: number, now: number): { ok: true; bucket: RateBucket } | { ok: false; bucket: RateBucket; retryAfterMs: number } {
  const perMs = perMinute / 60_000;
  const tokens = Math.min(perMinute, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
  if (tokens >= 1) return { ok: true, bucket: { tokens: tokens - 1, at: now } };
  return { ok: false, bucket: { tokens, at: now }, retryAfterMs: Math.ceil((1 - tokens) / perMs) };
}

/** "1 MiB", "512 KiB", "300 bytes": how a size limit is named in errors and listings. */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * `1MiB`, `512k`, `2mb`, `1000`: a size as a user writes it (binary multiples), or null when it
 * is not one.
 */
export function parseSize(text: string): number | null {
  const m = /^(\d+)\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = unit.startsWith('m') ? 1024 * 1024 : unit.startsWith('k') ? 1024 : 1;
  return Number(m[1]) * factor;
}

/** `60/minute`, `10/min`, `5`: deliveries per minute, or null when it is not that. */
export function parseRate(text: string): number | null {
  const m = /^(\d+)\s*(?:\/\s*(?:m|min|minute))?$/i.exec(text.trim());
  return m ? Number(m[1]) : null;
}
