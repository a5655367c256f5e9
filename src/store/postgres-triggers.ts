/** Triggers and their deliveries in PostgreSQL, as in SQLite; each write is one fenced transaction. */
import type { DeliveryRecord, TriggerRecord } from '../core/trigger.js';
import type { PostgresConnection } from './postgres-connection.js';
import { DELIVERY_COLUMNS, type DeliveryRow, deliveryParams, toDelivery, toTrigger, TRIGGER_COLUMNS, type TriggerRow, triggerParams, type TriggerStore } from './trigger-store.js';

export class PostgresTriggers implements TriggerStore {
  constructor(private readonly c: PostgresConnection) {}

  async putTrigger(record: TriggerRecord): Promise<void> {
    await this.c.write((sql) =>
      sql.query(
        `INSERT INTO triggers (${TRIGGER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name) DO UPDATE SET run = excluded.run, auth = excluded.auth, limits = excluded.limits, created_at = excluded.created_at, updated_at = excluded.updated_at`,
        triggerParams(record),
      ),
    );
  }

  async getTrigger(name: string): Promise<TriggerRecord | null> {
    const [row] = await this.c.query<TriggerRow>(`SELECT ${TRIGGER_COLUMNS} FROM triggers WHERE name = $1`, [name]);
    return row ? toTrigger(row) : null;
  }

  async listTriggers(): Promise<TriggerRecord[]> {
    return (await this.c.query<TriggerRow>(`SELECT ${TRIGGER_COLUMNS} FROM triggers ORDER BY name`)).map(toTrigger);
  }

  async deleteTrigger(name: string): Promise<boolean> {
    return this.c.write(async (sql) => {
      await sql.query('DELETE FROM trigger_deliveries WHERE trigger = $1', [name]);
      return ((await sql.query('DELETE FROM triggers WHERE name = $1', [name])).rowCount ?? 0) > 0;
    });
  }

  async addDelivery(record: DeliveryRecord, keep: number): Promise<void> {
    await this.c.write(async (sql) => {
      await sql.query(`INSERT INTO trigger_deliveries (${DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, deliveryParams(record));
      await sql.query('DELETE FROM trigger_deliveries WHERE trigger = $1 AND seq <= (SELECT seq FROM trigger_deliveries WHERE trigger = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)', [record.trigger, keep]);
    });
  }

  async listDeliveries(trigger: string, limit: number): Promise<DeliveryRecord[]> {
    if (!(limit > 0)) return [];
    return (await this.c.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM trigger_deliveries WHERE trigger = $1 ORDER BY seq DESC LIMIT $2`, [trigger, Math.floor(limit)])).map(toDelivery);
  }
}
