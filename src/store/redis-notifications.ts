/**
 * Notification deliveries in Redis: each delivery's JSON in one hash, ordered by a sequence in
 * sorted sets (all, pending, per run). Writes are fenced scripts (notify-add.lua trims the
 * oldest finished ones past the bound; delete-run.lua removes a run's).
 */
import { MAX_STORED_DELIVERIES, type NotificationDelivery } from '../core/notify-spec.js';
import type { NotificationStore } from './notification-store.js';
import type { RedisConnection } from './redis-connection.js';
import { KEY, PREFIX } from './redis-keys.js';
import type { RedisScriptName } from './redis-scripts.js';

const json = (d: NotificationDelivery): string => JSON.stringify(d);

export class RedisNotifications implements NotificationStore {
  constructor(
    private readonly c: RedisConnection,
    private readonly write: (name: RedisScriptName, args: (string | number)[]) => Promise<unknown>,
  ) {}

  async addNotification(d: NotificationDelivery): Promise<void> {
    await this.write('titanNotifyAdd', [d.id, d.runId, json(d), d.state, MAX_STORED_DELIVERIES]);
  }

  async updateNotification(d: NotificationDelivery): Promise<boolean> {
    return (await this.write('titanNotifyUpdate', [d.id, json(d), d.state])) === 1;
  }

  async listNotifications(options: { runId?: string; limit: number }): Promise<NotificationDelivery[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    if (limit === 0) return [];
    const index = options.runId === undefined ? KEY.notificationsOrder : `${PREFIX.notificationsRun}${options.runId}`;
    return this.read(await this.c.call(() => this.c.redis.zrevrange(index, 0, limit - 1)));
  }

  async pendingNotifications(): Promise<NotificationDelivery[]> {
    return this.read(await this.c.call(() => this.c.redis.zrange(KEY.notificationsPending, '0', '-1')));
  }

  private async read(ids: string[]): Promise<NotificationDelivery[]> {
    if (ids.length === 0) return [];
    const rows = await this.c.call(() => this.c.redis.hmget(KEY.notifications, ...ids));
    // Written by this store from a NotificationDelivery.
    return rows.flatMap((row) => (row === null ? [] : [JSON.parse(row) as NotificationDelivery]));
  }
}
