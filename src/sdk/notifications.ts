/**
 * `client.notifications`: the cluster's notification URLs (applied to every run, besides a run's
 * own `on`), the secret that signs every POST, and the recorded deliveries; and `notifyOn`, which
 * checks a run's own URLs before they are sent.
 *
 *   await client.submit({ name: 'nightly', ...notifyOn({ failure: 'https://hooks.slack.com/services/…' }), jobs: [...] });
 */
import { type NotifyEvent, type NotifyTargets, NotifyTargetsSchema } from '../core/notify-spec.js';
import type { DeliveryView, NotifySettings } from '../protocol/notify-methods.js';
import type { Transport } from './connection.js';
import { BadRequestError } from './errors.js';

/** A run's `on` field, checked now: a bad URL is refused here naming its event, not by the master later. */
export function notifyOn(targets: NotifyTargets): { on: NotifyTargets } {
  const parsed = NotifyTargetsSchema.safeParse(targets);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadRequestError(`on.${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is not valid'}`);
  }
  return { on: parsed.data };
}

export class NotificationClient {
  constructor(private readonly transport: Transport) {}

  /** The cluster's URLs per event and the signing key's secret. */
  list(): Promise<NotifySettings> {
    return this.transport.call('notifications.list', {});
  }

  /** Sets the cluster's URL for an event, replacing the one it had. */
  set(event: NotifyEvent, url: string): Promise<NotifySettings> {
    return this.transport.call('notifications.set', { event, url });
  }

  /** Removes the cluster's URL for an event; `removed` is false when it had none. */
  remove(event: NotifyEvent): Promise<{ removed: boolean; settings: NotifySettings }> {
    return this.transport.call('notifications.remove', { event });
  }

  /** Names the secret whose value signs every POST (default NOTIFY_SIGNING_KEY). */
  setKeySecret(secret: string): Promise<NotifySettings> {
    return this.transport.call('notifications.key', { secret });
  }

  /** Recorded deliveries, newest first (of one run with `runId`); URLs are shown by origin only. */
  async deliveries(options: { runId?: string; limit?: number } = {}): Promise<DeliveryView[]> {
    return (await this.transport.call('notifications.deliveries', options)).deliveries;
  }
}
