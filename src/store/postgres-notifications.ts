/**
 * Notification deliveries in PostgreSQL: the rows of SQLite's table (migration 0005 here), removed
 * with their run by the foreign key. Each write is one fenced transaction.
 */
import { MAX_STORED_DELIVERIES, type NotificationDelivery } from '../core/notify-spec.js';
import type { NotificationStore } from './notification-store.js';
import type { PostgresConnection } from './postgres-connection.js';
import { DELIVERY_COLUMNS, deliveryParams, type DeliveryRow, rowToDelivery } from './sqlite-notifications.js';

export class PostgresNotifications implements NotificationStore {
  constructor(private readonly c: PostgresConnection) {}

  async addNotification(d: NotificationDelivery): Promise<void> {
    await this.c.write(async (sql) => {
      await sql.query(`INSERT INTO notification_deliveries (${DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, deliveryParams(d));
      await sql.query(
        `DELETE FROM notification_deliveries WHERE state <> 'pending' AND seq <= (SELECT seq FROM notification_deliveries ORDER BY seq DESC LIMIT 1 OFFSET $1)`,
        [MAX_STORED_DELIVERIES],
      );
    });
  }

  async updateNotification(d: NotificationDelivery): Promise<boolean> {
    return this.c.write(
      async (sql) =>
        ((await sql.query('UPDATE notification_deliveries SET state = $1, tries = $2, last_status = $3, last_error = $4, updated_at = $5, next_at = $6 WHERE id = $7', [d.state, d.tries, d.lastStatus, d.lastError, d.updatedAt, d.nextAt, d.id])).rowCount ?? 0) > 0,
    );
  }

  async listNotifications(options: { runId?: string; limit: number }): Promise<NotificationDelivery[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    const rows =
      options.runId === undefined
        ? await this.c.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries ORDER BY seq DESC LIMIT $1`, [limit])
        : await this.c.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries WHERE run_id = $1 ORDER BY seq DESC LIMIT $2`, [options.runId, limit]);
    return rows.map(rowToDelivery);
  }

  async pendingNotifications(): Promise<NotificationDelivery[]> {
    return (await this.c.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries WHERE state = 'pending' ORDER BY seq`)).map(rowToDelivery);
  }
}
