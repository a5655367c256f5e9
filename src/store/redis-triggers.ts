/**
 * Triggers in Redis: one hash field each (the record as JSON), and a list of delivery JSON per
 * trigger, newest first, trimmed in the script that pushes a delivery.
 */
import type { DeliveryRecord, TriggerRecord } from '../core/trigger.js';
import type { RedisConnection } from './redis-connection.js';
import type { WriteScript } from './redis-data-bus.js';
import { deliveriesKey, KEY } from './redis-keys.js';
import { deliveryJson, triggerJson, type TriggerStore } from './trigger-store.js';

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class RedisTriggers implements TriggerStore {
  constructor(
    private readonly c: RedisConnection,
    private readonly write: WriteScript,
  ) {}

  async putTrigger(record: TriggerRecord): Promise<void> {
    await this.write('titanTriggerPut', [record.name, triggerJson(record)]);
  }

  async getTrigger(name: string): Promise<TriggerRecord | null> {
    const json = await this.c.call(() => this.c.redis.hget(KEY.triggers, name));
    // Written by this store (triggerJson) from a validated record.
    return json === null ? null : (JSON.parse(json) as TriggerRecord);
  }

  async listTriggers(): Promise<TriggerRecord[]> {
    const all = await this.c.call(() => this.c.redis.hgetall(KEY.triggers));
    return Object.keys(all)
      .sort(byteOrder)
      .map((name) => JSON.parse(all[name] as string) as TriggerRecord);
  }

  async deleteTrigger(name: string): Promise<boolean> {
    return (await this.write('titanTriggerDelete', [name])) === 1;
  }

  async addDelivery(record: DeliveryRecord, keep: number): Promise<void> {
    await this.write('titanDeliveryAdd', [record.trigger, Math.max(1, Math.floor(keep)), deliveryJson(record)]);
  }

  async listDeliveries(trigger: string, limit: number): Promise<DeliveryRecord[]> {
    if (!(limit > 0)) return [];
    const rows = await this.c.call(() => this.c.redis.lrange(deliveriesKey(trigger), 0, Math.floor(limit) - 1));
    return rows.map((json) => JSON.parse(json) as DeliveryRecord);
  }
}
