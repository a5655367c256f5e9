/** `titan notifications`: the cluster's notification URLs per event (ls, set, rm), the signing key's secret, and the recorded deliveries. */
import type { Command } from 'commander';
import { NOTIFY_EVENTS, type NotifyEvent } from '../core/notify-spec.js';
import type { DeliveryView, NotifySettings } from '../protocol/notify-methods.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, withClient } from './connection.js';
import { table, when } from './format.js';
import { defaultSubcommand } from './subcommands.js';

const EVENT_HELP = `the event: ${NOTIFY_EVENTS.join(', ')}`;

function eventOf(text: string): NotifyEvent {
  if ((NOTIFY_EVENTS as readonly string[]).includes(text)) return text as NotifyEvent;
  throw new Error(`unknown event "${text}": it is one of ${NOTIFY_EVENTS.join(', ')}`);
}

function describe(settings: NotifySettings): string {
  const rows = NOTIFY_EVENTS.map((e) => [e, settings.targets[e] ?? '-']);
  return `${table(['EVENT', 'URL'], rows)}\nsigned with the secret ${settings.keySecret}`;
}

export function registerNotifyCommands(program: Command): void {
  const notifications = program.command('notifications').description("POSTs when runs succeed or fail and gates open: the cluster's URLs, the signing key, the deliveries");

  connectionOptions(defaultSubcommand(notifications, 'ls').alias('list').description("the cluster's URL for each event and the secret that signs every POST").addOption(jsonOption())).action(async (o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const settings = await client.notifications.list();
      if (o.json) return json(settings);
      print(describe(settings));
    });
  });

  connectionOptions(
    notifications
      .command('set')
      .description("POST every run's event to this URL too (besides the run's own `on`); it replaces the event's URL")
      .argument('<event>', EVENT_HELP)
      .argument('<url>', 'an http or https URL, e.g. a Slack incoming webhook')
      .addOption(jsonOption()),
  ).action(async (event: string, url: string, o: ConnectionFlags & { json: boolean }) => {
    const e = eventOf(event);
    await withClient(o, async (client) => {
      const settings = await client.notifications.set(e, url);
      if (o.json) return json(settings);
      print(`${e}: ${settings.targets[e] ?? url}`);
    });
  });

  connectionOptions(notifications.command('rm').alias('remove').description("stop POSTing every run's event to the cluster's URL").argument('<event>', EVENT_HELP).addOption(jsonOption())).action(
    async (event: string, o: ConnectionFlags & { json: boolean }) => {
      const e = eventOf(event);
      await withClient(o, async (client) => {
        const result = await client.notifications.remove(e);
        if (o.json) return json(result);
        print(result.removed ? `${e}: URL removed` : `${e} had no URL`);
      });
    },
  );

  connectionOptions(
    notifications
      .command('key')
      .description('name the secret (`titan secrets set NAME`) whose value signs every POST; default NOTIFY_SIGNING_KEY')
      .argument('<secret>', 'the secret name')
      .addOption(jsonOption()),
  ).action(async (secret: string, o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const settings = await client.notifications.setKeySecret(secret);
      if (o.json) return json(settings);
      print(`notifications are signed with the secret ${settings.keySecret}`);
    });
  });

  connectionOptions(
    notifications
      .command('deliveries')
      .description('recorded deliveries, newest first: event, URL (origin only), state, tries, last answer')
      .option('--run <id>', 'only those of this run')
      .option('--limit <n>', 'at most this many', '50')
      .addOption(jsonOption()),
  ).action(async (o: ConnectionFlags & { json: boolean; run?: string; limit: string }) => {
    const limit = Number(o.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Error('--limit must be a whole number from 1 to 1000');
    await withClient(o, async (client) => {
      const deliveries = await client.notifications.deliveries({ limit, ...(o.run !== undefined && { runId: o.run }) });
      if (o.json) return json(deliveries);
      if (deliveries.length === 0) return print(o.run === undefined ? 'no notifications sent yet' : `no notifications for run ${o.run}`);
      print(table(['ID', 'RUN', 'EVENT', 'URL', 'STATE', 'TRIES', 'LAST', 'AT'], deliveries.map(deliveryRow)));
    });
  });
}

export function deliveryRow(d: DeliveryView): string[] {
  const last = d.lastError ?? (d.lastStatus === null ? '-' : String(d.lastStatus));
  return [d.id, d.runId, d.event, d.url, d.state === 'pending' && d.nextAt !== null ? `pending (next ${when(d.nextAt)})` : d.state, String(d.tries), last, when(d.updatedAt)];
}
