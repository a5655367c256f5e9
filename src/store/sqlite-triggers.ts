/**
 * Triggers and their deliveries in SQLite (the tables of the triggers migration). A delivery and
 * the trim of its trigger's older ones are one transaction.
 */
import type Database from 'better-sqlite3';
import type { DeliveryRecord, TriggerRecord } from '../core/trigger.js';
import { DELIVERY_COLUMNS, type DeliveryRow, deliveryParams, toDelivery, toTrigger, TRIGGER_COLUMNS, type TriggerRow, triggerParams, type TriggerStore } from './trigger-store.js';

export class SqliteTriggerStore implements TriggerStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      put: db.prepare<ReturnType<typeof triggerParams>>(
        `INSERT INTO triggers (${TRIGGER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET run = excluded.run, auth = excluded.auth, limits = excluded.limits, created_at = excluded.created_at, updated_at = excluded.updated_at`,
      ),
      get: db.prepare<[string], TriggerRow>(`SELECT ${TRIGGER_COLUMNS} FROM triggers WHERE name = ?`),
      list: db.prepare<[], TriggerRow>(`SELECT ${TRIGGER_COLUMNS} FROM triggers ORDER BY name`),
      delete: db.prepare<[string]>('DELETE FROM triggers WHERE name = ?'),
      deleteDeliveries: db.prepare<[string]>('DELETE FROM trigger_deliveries WHERE trigger = ?'),
      addDelivery: db.prepare<ReturnType<typeof deliveryParams>>(`INSERT INTO trigger_deliveries (${DELIVERY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      trim: db.prepare<[string, string, number]>(
        'DELETE FROM trigger_deliveries WHERE trigger = ? AND seq <= (SELECT seq FROM trigger_deliveries WHERE trigger = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)',
      ),
      deliveries: db.prepare<[string, number], DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM trigger_deliveries WHERE trigger = ? ORDER BY seq DESC LIMIT ?`),
    };
  }

  async putTrigger(record: TriggerRecord): Promise<void> {
    this.s.put.run(...triggerParams(record));
  }

  async getTrigger(name: string): Promise<TriggerRecord | null> {
    const row = this.s.get.get(name);
    return row ? toTrigger(row) : null;
  }

  async listTriggers(): Promise<TriggerRecord[]> {
    return this.s.list.all().map(toTrigger);
  }

  async deleteTrigger(name: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.s.deleteDeliveries.run(name);
      return this.s.delete.run(name).changes > 0;
    })();
  }

  async addDelivery(record: DeliveryRecord, keep: number): Promise<void> {
    this.db.transaction(() => {
      this.s.addDelivery.run(...deliveryParams(record));
      this.s.trim.run(record.trigger, record.trigger, keep);
    })();
  }

  async listDeliveries(trigger: string, limit: number): Promise<DeliveryRecord[]> {
    if (!(limit > 0)) return [];
    return this.s.deliveries.all(trigger, Math.floor(limit)).map(toDelivery);
  }
}
