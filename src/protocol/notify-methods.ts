/**
 * v2 methods of notifications out (`notifications.*`): the cluster's URLs per event, the secret
 * that signs every POST, and the recorded deliveries. Merged into `params` and `Results` of
 * methods.ts.
 */
import { z } from 'zod';
import { IdSchema, SecretNameSchema } from '../core/model.js';
import { type DeliveryState, NotifyEventSchema, type NotifyEvent, type NotifyTargets, NotifyUrlSchema } from '../core/notify-spec.js';

/** The cluster's notification settings: applied to every run, besides the run's own `on`. */
export interface NotifySettings {
  targets: NotifyTargets;
  /** The secret whose value signs every POST (X-Titan-Signature-256). */
  keySecret: string;
}

/** A delivery as listings show it: the URL's origin only (its path is often a credential), never the body. */
export interface DeliveryView {
  id: string;
  runId: string;
  event: NotifyEvent;
  url: string;
  state: DeliveryState;
  tries: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  nextAt: number | null;
}

export const MAX_DELIVERY_LISTING = 1000;

export const notifyParams = {
  'notifications.list': z.strictObject({}),
  /** Sets the cluster's URL for an event, replacing the one it had. */
  'notifications.set': z.strictObject({ event: NotifyEventSchema, url: NotifyUrlSchema }),
  'notifications.remove': z.strictObject({ event: NotifyEventSchema }),
  /** Names the secret that signs every POST. */
  'notifications.key': z.strictObject({ secret: SecretNameSchema }),
  /** Recorded deliveries, newest first; of one run when `runId` is given. */
  'notifications.deliveries': z.strictObject({ runId: IdSchema.optional(), limit: z.number().int().min(1).max(MAX_DELIVERY_LISTING).default(100) }),
} as const;

export type NotifyMethod = keyof typeof notifyParams;

export interface NotifyResults {
  'notifications.list': NotifySettings;
  'notifications.set': NotifySettings;
  'notifications.remove': { removed: boolean; settings: NotifySettings };
  'notifications.key': NotifySettings;
  'notifications.deliveries': { deliveries: DeliveryView[] };
}
