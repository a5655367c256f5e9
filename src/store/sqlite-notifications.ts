/**
 * Notification deliveries in SQLite (the table of migration 0011): one row each, removed with
 * their run by the foreign key. Adding one also trims the oldest finished rows past the bound.
 */
import type Database from 'better-sqlite3';
import { MAX_STORED_DELIVERIES, type NotificationDelivery } from '../core/notify-spec.js';
import type { NotificationStore } from './notification-store.js';

export interface DeliveryRow {
  id: string;
  run_id: string;
  event: string;
  url: string;
  body: string;
  state: string;
  tries: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  next_at: number | null;
}

export const DELIVERY_COLUMNS = 'id, run_id, event, url, body, state, tries, last_status, last_error, created_at, updated_at, next_at';

/** DELIVERY_COLUMNS in order. */
export const deliveryParams = (d: NotificationDelivery): [string, string, string, string, string, string, number, number | null, string | null, number, number, number | null] => [
  d.id,
  d.runId,
  d.event,
  d.url,
  d.body,
  d.state,
  d.tries,
  d.lastStatus,
  d.lastError,
  d.createdAt,
  d.updatedAt,
  d.nextAt,
];

// Written by the store from a NotificationDelivery.
export const rowToDelivery = (row: DeliveryRow): NotificationDelivery => ({
  id: row.id,
  runId: row.run_id,
  event: row.event as NotificationDelivery['event'],
  url: row.url,
  body: row.body,
  state: row.state as NotificationDelivery['state'],
  tries: Number(row.tries),
  lastStatus: row.last_status === null ? null : Number(row.last_status),
  lastError: row.last_error,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  nextAt: row.next_at === null ? null : Number(row.next_at),
});

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(`INSERT INTO notification_deliveries (${DELIVERY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    trim: db.prepare<[number]>(
      `DELETE FROM notification_deliveries WHERE state != 'pending' AND seq <= (SELECT seq FROM notification_deliveries ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
    ),
    update: db.prepare<[string, number, number | null, string | null, number, number | null, string]>(
      'UPDATE notification_deliveries SET state = ?, tries = ?, last_status = ?, last_error = ?, updated_at = ?, next_at = ? WHERE id = ?',
    ),
    list: db.prepare<[number], DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries ORDER BY seq DESC LIMIT ?`),
    listRun: db.prepare<[string, number], DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries WHERE run_id = ? ORDER BY seq DESC LIMIT ?`),
    pending: db.prepare<[], DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries WHERE state = 'pending' ORDER BY seq`),
  };
}

export class SqliteNotifications implements NotificationStore {
  private readonly s: ReturnType<typeof prepare>;
  private readonly add: (d: NotificationDelivery) => void;

  constructor(db: Database.Database) {
    const s = (this.s = prepare(db));
    this.add = db.transaction((d: NotificationDelivery) => {
      s.insert.run(...deliveryParams(d));
      s.trim.run(MAX_STORED_DELIVERIES);
    });
  }

  async addNotification(d: NotificationDelivery): Promise<void> {
    this.add(d);
  }

  async updateNotification(d: NotificationDelivery): Promise<boolean> {
    return this.s.update.run(d.state, d.tries, d.lastStatus, d.lastError, d.updatedAt, d.nextAt, d.id).changes > 0;
  }

  async listNotifications(options: { runId?: string; limit: number }): Promise<NotificationDelivery[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    const rows = options.runId === undefined ? this.s.list.all(limit) : this.s.listRun.all(options.runId, limit);
    return rows.map(rowToDelivery);
  }

  async pendingNotifications(): Promise<NotificationDelivery[]> {
    return this.s.pending.all().map(rowToDelivery);
  }
}
