/**
 * The notification deliveries a Store keeps (core/notify-spec.ts): one row per POST of one event
 * to one URL, written when the event happens and after each try. Deleting a run removes its
 * deliveries; past MAX_STORED_DELIVERIES the oldest finished ones go as new ones are added.
 */
import type { NotificationDelivery } from '../core/notify-spec.js';

export interface NotificationStore {
  /** Records a new delivery (its run exists), dropping the oldest finished ones past the bound. */
  addNotification(delivery: NotificationDelivery): Promise<void>;
  /** Records a try's outcome; false when the delivery is gone (its run was deleted). */
  updateNotification(delivery: NotificationDelivery): Promise<boolean>;
  /** Newest first; only the run's when `runId` is given. */
  listNotifications(options: { runId?: string; limit: number }): Promise<NotificationDelivery[]>;
  /** Every delivery still pending (to resume after a restart or a takeover), oldest first. */
  pendingNotifications(): Promise<NotificationDelivery[]>;
}
