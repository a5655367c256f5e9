/** Notifications out on the master's notifications system (systems/notifications.ts): the cluster's URLs, the signing key's secret, the deliveries. */
import { type NotificationDelivery, redactedUrl } from '../../core/notify-spec.js';
import type { DeliveryView } from '../../protocol/notify-methods.js';
import { command } from './command.js';

const viewOf = ({ body: _body, url, ...d }: NotificationDelivery): DeliveryView => ({ ...d, url: redactedUrl(url) });

export const notifyCommands = {
  'notifications.list': command('notifications.list', ({ master }) => master.notificationSettings()),
  'notifications.set': command('notifications.set', async ({ master }, p) => (await master.setNotificationTarget(p.event, p.url)).settings),
  'notifications.remove': command('notifications.remove', async ({ master }, p) => {
    const { changed, settings } = await master.setNotificationTarget(p.event, null);
    return { removed: changed, settings };
  }),
  'notifications.key': command('notifications.key', ({ master }, p) => master.setNotificationKey(p.secret)),
  'notifications.deliveries': command('notifications.deliveries', async ({ master }, p) => ({
    deliveries: (await master.listDeliveries({ limit: p.limit, ...(p.runId !== undefined && { runId: p.runId }) })).map(viewOf),
  })),
};
