/**
 * The store's operations on triggers and their deliveries, which every backend implements
 * (sqlite-triggers.ts, postgres-triggers.ts, redis-triggers.ts) and the conformance suite checks.
 */
import type { RunSpec } from '../core/model.js';
import type { DeliveryOutcome, DeliveryRecord, TriggerAuth, TriggerLimits, TriggerRecord } from '../core/trigger.js';

export interface TriggerStore {
  /** Creates the trigger of that name, or replaces it whole; resolves once it is durable. */
  putTrigger(record: TriggerRecord): Promise<void>;
  getTrigger(name: string): Promise<TriggerRecord | null>;
  /** Every trigger, by name. */
  listTriggers(): Promise<TriggerRecord[]>;
  /** Removes the trigger with its deliveries; false when there was none of that name. */
  deleteTrigger(name: string): Promise<boolean>;
  /** Records a delivery and drops its trigger's deliveries beyond the newest `keep`, in one write. */
  addDelivery(record: DeliveryRecord, keep: number): Promise<void>;
  /** A trigger's deliveries, the newest (the last added) first. */
  listDeliveries(trigger: string, limit: number): Promise<DeliveryRecord[]>;
}

/** Written by a store from a DeliveryRecord, read back as one. */
export const deliveryJson = (d: DeliveryRecord): string =>
  JSON.stringify({ id: d.id, trigger: d.trigger, receivedAt: d.receivedAt, outcome: d.outcome, reason: d.reason, idempotencyKey: d.idempotencyKey, bodyBytes: d.bodyBytes, runId: d.runId });

export const triggerJson = (t: TriggerRecord): string => JSON.stringify({ name: t.name, run: t.run, auth: t.auth, limits: t.limits, createdAt: t.createdAt, updatedAt: t.updatedAt });

// ---- rows of the SQL stores (SQLite and PostgreSQL share the columns) ----

export interface TriggerRow {
  name: string;
  run: string;
  auth: string;
  limits: string;
  created_at: number;
  updated_at: number;
}

export interface DeliveryRow {
  trigger: string;
  id: string;
  received_at: number;
  outcome: string;
  reason: string | null;
  idempotency_key: string | null;
  body_bytes: number;
  run_id: string | null;
}

export const TRIGGER_COLUMNS = 'name, run, auth, limits, created_at, updated_at';
export const DELIVERY_COLUMNS = 'trigger, id, received_at, outcome, reason, idempotency_key, body_bytes, run_id';

// Each was validated when the trigger was created and is stored verbatim.
export const toTrigger = (row: TriggerRow): TriggerRecord => ({
  name: row.name,
  run: JSON.parse(row.run) as RunSpec,
  auth: JSON.parse(row.auth) as TriggerAuth,
  limits: JSON.parse(row.limits) as TriggerLimits,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

export const toDelivery = (row: DeliveryRow): DeliveryRecord => ({
  id: row.id,
  trigger: row.trigger,
  receivedAt: Number(row.received_at),
  outcome: row.outcome as DeliveryOutcome,
  reason: row.reason,
  idempotencyKey: row.idempotency_key,
  bodyBytes: Number(row.body_bytes),
  runId: row.run_id,
});

export const triggerParams = (t: TriggerRecord): [string, string, string, string, number, number] => [t.name, JSON.stringify(t.run), JSON.stringify(t.auth), JSON.stringify(t.limits), t.createdAt, t.updatedAt];
export const deliveryParams = (d: DeliveryRecord): [string, string, number, string, string | null, string | null, number, string | null] => [d.trigger, d.id, d.receivedAt, d.outcome, d.reason, d.idempotencyKey, d.bodyBytes, d.runId];
