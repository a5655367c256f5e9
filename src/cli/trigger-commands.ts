/**
 * `titan triggers create|ls|show|rm`: pipelines started by requests to the master's
 * `/hooks/NAME`. `create` uploads the pipeline's scripts, prints the URL and, for `--bearer`, the
 * token, which is never shown again (the master keeps only its hash).
 */
import type { Command } from 'commander';
import { type DeliveryRecord, hookPath, parseRate, parseSize, sizeText, TriggerNameSchema, type TriggerView } from '../core/trigger.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, mastersFor, print, UsageError, withClient } from './connection.js';
import { table, when } from './format.js';
import { defaultSubcommand } from './subcommands.js';

function checkedName(name: string): string {
  const result = TriggerNameSchema.safeParse(name);
  if (!result.success) throw new UsageError(`bad trigger name "${name}": ${result.error.issues[0]?.message ?? 'invalid'}`);
  return name;
}

/** The base URL senders reach the master's HTTP port at: --url, else the first master's host on port 5000. */
function baseUrl(o: ConnectionFlags & { url?: string }): string {
  if (o.url !== undefined) return o.url.replace(/\/+$/, '');
  const host = mastersFor(o)[0]?.host ?? '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:5000`;
}

const authText = (t: TriggerView): string => (t.auth.kind === 'hmac' ? `signature (secret ${t.auth.secret})` : 'bearer token');

const deliveryRows = (ds: DeliveryRecord[]): string[][] => ds.map((d) => [when(d.receivedAt), d.id, d.outcome, d.runId ?? '-', d.idempotencyKey ?? '-', String(d.bodyBytes), d.reason ?? '']);

export function registerTriggerCommands(program: Command): void {
  const triggers = program.command('triggers').description('pipelines started by HTTP requests to the master (POST /hooks/NAME), signed or with a bearer token');

  connectionOptions(
    triggers
      .command('create')
      .description('create a trigger: prints its URL (and, with --bearer, its token, shown only this once)')
      .argument('<name>')
      .requiredOption('--pipeline <file>', 'the pipeline YAML each delivery starts (its scripts are uploaded now)')
      .option('--secret <name>', 'deliveries are signed with this secret (X-Hub-Signature-256: sha256=HMAC of the body), as GitHub does')
      .option('--bearer', 'deliveries carry a token made now (Authorization: Bearer <token>)')
      .option('--rate <n/minute>', 'deliveries accepted per minute', '60/minute')
      .option('--max-body <size>', 'the largest request body (e.g. 64KiB, 1MiB)', '1MiB')
      .option('--url <base>', "the master's HTTP address as senders reach it, for the printed URL (default: http://<master host>:5000)")
      .addOption(jsonOption('print {trigger, token?, url}'))
      .addHelpText('after', '\nExamples:\n  titan triggers create on-push --pipeline ci.yaml --secret GITHUB_HOOK_SECRET\n  titan triggers create nightly-import --pipeline import.yaml --bearer --rate 5/minute --max-body 64KiB\n'),
  ).action(async (name: string, o: ConnectionFlags & { pipeline: string; secret?: string; bearer?: boolean; rate: string; maxBody: string; url?: string; json: boolean }) => {
    checkedName(name);
    if ((o.secret === undefined) === (o.bearer !== true)) throw new UsageError('give one of --secret NAME (signed deliveries) or --bearer (a token)');
    const ratePerMinute = parseRate(o.rate);
    if (ratePerMinute === null || ratePerMinute < 1) throw new UsageError(`bad --rate "${o.rate}": write deliveries per minute, e.g. 60/minute`);
    const maxBodyBytes = parseSize(o.maxBody);
    if (maxBodyBytes === null) throw new UsageError(`bad --max-body "${o.maxBody}": write a size, e.g. 64KiB or 1MiB`);
    const { checkedPipeline } = await import('./pipeline.js');
    const pipeline = checkedPipeline(o.pipeline);
    if (pipeline.schedule) throw new UsageError(`${o.pipeline} has a schedule: a trigger starts its pipeline on each delivery; remove the "schedule" key`);
    const run = pipeline;
    await withClient(o, async (client) => {
      const auth = o.secret !== undefined ? { secret: o.secret } : { bearer: true as const };
      const created = await client.trigger.create(name, run, auth, { ratePerMinute, maxBodyBytes });
      const url = `${baseUrl(o)}${hookPath(name)}`;
      if (o.json) return json({ ...created, url });
      print(`trigger ${name} created: POST ${url}`);
      if (created.token !== undefined) print(`bearer token (shown only now; the master keeps only its hash):\n${created.token}`);
      else print(`sign each body with the secret ${o.secret as string}: X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`);
    });
  });

  connectionOptions(defaultSubcommand(triggers, 'ls').alias('list').description('the triggers: URL, authentication, limits and the last delivery').option('--url <base>', 'the base URL shown (default: http://<master host>:5000)').addOption(jsonOption())).action(
    async (o: ConnectionFlags & { url?: string; json: boolean }) => {
      await withClient(o, async (client) => {
        const all = await client.trigger.list();
        if (o.json) return json(all);
        if (all.length === 0) return print('no triggers (create one with: titan triggers create NAME --pipeline p.yaml --secret NAME)');
        const last = (t: TriggerView): string => {
          const d = t.deliveries[0];
          return d === undefined ? '-' : `${when(d.receivedAt)} ${d.outcome}${d.runId ? ` ${d.runId}` : ''}`;
        };
        print(table(['NAME', 'URL', 'AUTH', 'PIPELINE', 'LIMITS', 'LAST DELIVERY'], all.map((t) => [t.name, `${baseUrl(o)}${t.path}`, authText(t), t.pipeline, `${t.limits.ratePerMinute}/minute, ${sizeText(t.limits.maxBodyBytes)}`, last(t)])));
      });
    },
  );

  connectionOptions(triggers.command('show').description("a trigger and its last deliveries (newest first)").argument('<name>').option('-n, --deliveries <n>', 'how many deliveries', '20').addOption(jsonOption())).action(
    async (name: string, o: ConnectionFlags & { deliveries: string; json: boolean }) => {
      checkedName(name);
      const n = Number(o.deliveries);
      if (!Number.isInteger(n) || n < 0 || n > 100) throw new UsageError(`bad --deliveries "${o.deliveries}": a number from 0 to 100`);
      await withClient(o, async (client) => {
        const t = await client.trigger.get(name, n);
        if (o.json) return json(t);
        print(`${t.name}: POST ${t.path}, ${authText(t)}, ${t.limits.ratePerMinute}/minute, at most ${sizeText(t.limits.maxBodyBytes)}; starts ${t.pipeline} (${t.jobs} job${t.jobs === 1 ? '' : 's'})`);
        if (t.unrecorded > 0) print(`${t.unrecorded} more refusals were counted but not recorded one by one (over the recording budget)`);
        print(t.deliveries.length === 0 ? 'no deliveries yet' : table(['RECEIVED', 'DELIVERY', 'OUTCOME', 'RUN', 'KEY', 'BYTES', 'REASON'], deliveryRows(t.deliveries)));
      });
    },
  );

  connectionOptions(triggers.command('rm').alias('remove').description('remove a trigger and its deliveries (the runs it started are kept)').argument('<name>').addOption(jsonOption())).action(
    async (name: string, o: ConnectionFlags & { json: boolean }) => {
      checkedName(name);
      await withClient(o, async (client) => {
        const t = await client.trigger.remove(name);
        if (o.json) return json(t);
        print(`trigger ${name} removed`);
      });
    },
  );
}
