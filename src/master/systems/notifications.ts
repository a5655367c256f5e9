/**
 * Notifications out: when a run finishes (success or failure) or a gate opens, each URL that
 * asked for the event (the run's own `on` and the cluster's) gets a signed JSON POST. Every
 * delivery is recorded in the store before its first try and after each one, so pending ones
 * are resumed by the next leader (at least once: receivers deduplicate by X-Titan-Delivery).
 * The cluster's URLs and the name of the signing key's secret are one document in the store's
 * meta, as flow limits are. The POST itself is the server's (it knows sockets and DNS).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { TitanError } from '../../core/errors.js';
import type { JobRecord, RunRecord } from '../../core/model.js';
import { SecretNameSchema } from '../../core/model.js';
import {
  DEFAULT_NOTIFY_KEY_SECRET,
  type NotificationDelivery,
  notificationBody,
  type NotifyEvent,
  type NotifyJob,
  NOTIFY_MAX_TRIES,
  type NotifyTargets,
  NotifyTargetsSchema,
  retryDelayMs,
} from '../../core/notify-spec.js';
import type { NotifySettings } from '../../protocol/notify-methods.js';
import { Timers } from '../timers.js';
import type { MasterResources } from './resources.js';

/** What a try of a POST came to: a status when the receiver answered; `final` when trying again cannot help. */
export interface PostOutcome {
  status: number | null;
  error: string | null;
  final?: boolean;
}

/** One signed POST, as the server's poster sends it. */
export interface PostRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface NotifyOptions {
  post(request: PostRequest): Promise<PostOutcome>;
  /** The dashboard's address as people reach it (`--public-url`), for links in the notifications. */
  publicUrl(): string;
  /** The wait after the first failed try; doubled after each next one. */
  retryBaseMs: number;
}

const SETTINGS_META = 'notify.settings';
const StoredSettingsSchema = z.strictObject({ targets: NotifyTargetsSchema, keySecret: SecretNameSchema });

const ok = (status: number | null): boolean => status !== null && status >= 200 && status < 300;

/** The first job that failed for good, to name in a failure notification. */
const culprit = (jobs: readonly JobRecord[]): JobRecord | undefined => jobs.find((j) => j.status === 'DEAD') ?? jobs.find((j) => j.status === 'FAILED');

export class Notifications {
  private settings: NotifySettings = { targets: {}, keySecret: DEFAULT_NOTIFY_KEY_SECRET };
  /** Pending deliveries by id, each awaiting its timer or a try under way. */
  private readonly pending = new Map<string, NotificationDelivery>();
  private readonly timers: Timers;
  private closed = false;
  /** Tries under way, awaited on close. */
  private readonly trying = new Set<Promise<void>>();

  constructor(
    private readonly r: MasterResources,
    private readonly signingKey: (secret: string) => string | null,
    private readonly options: NotifyOptions | null,
  ) {
    this.timers = new Timers(r.clock, (id) => this.tryNow(id));
  }

  /** Reads the cluster's settings and resumes the deliveries a previous leader left pending. */
  async start(): Promise<void> {
    const stored = await this.r.store.getMeta(SETTINGS_META);
    if (stored !== null) {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(stored);
      } catch {
        // reported below
      }
      const settings = StoredSettingsSchema.safeParse(parsed);
      if (settings.success) this.settings = settings.data;
      else this.r.log("the cluster's notification settings in the store are not readable; none apply until they are set again");
    }
    if (!this.options) return;
    this.r.bus.on('runFinished', ({ run, jobs }) => this.runFinished(run, jobs));
    this.r.bus.on('gateOpened', ({ run, job }) => this.gateOpened(run, job));
    for (const d of await this.r.store.pendingNotifications()) {
      this.pending.set(d.id, d);
      this.timers.set(d.id, d.nextAt ?? this.r.clock.now());
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of this.pending.keys()) this.timers.cancel(id);
    await Promise.all([...this.trying]);
  }

  view(): NotifySettings {
    return { targets: { ...this.settings.targets }, keySecret: this.settings.keySecret };
  }

  /** Sets the cluster's URL for one event (replacing it), or with `url` null removes it. */
  async setTarget(event: NotifyEvent, url: string | null): Promise<{ changed: boolean; settings: NotifySettings }> {
    const targets: NotifyTargets = { ...this.settings.targets };
    const changed = url === null ? targets[event] !== undefined : targets[event] !== url;
    if (url === null) delete targets[event];
    else targets[event] = url;
    return { changed, settings: await this.save({ ...this.settings, targets }) };
  }

  /** Names the secret whose value signs every POST. */
  setKeySecret(name: string): Promise<NotifySettings> {
    return this.save({ ...this.settings, keySecret: name });
  }

  listDeliveries(query: { runId?: string; limit: number }): Promise<NotificationDelivery[]> {
    return this.r.store.listNotifications(query);
  }

  private async save(next: NotifySettings): Promise<NotifySettings> {
    this.r.committer.checkAvailable('the notification settings were not changed');
    await this.r.store.setMeta(SETTINGS_META, JSON.stringify(next)).catch((err: unknown) => {
      throw err instanceof TitanError ? err : new TitanError('UNAVAILABLE', `the notification settings were not changed: ${(err as Error).message}`);
    });
    this.settings = next;
    return this.view();
  }

  private runFinished(run: RunRecord, jobs: readonly JobRecord[]): void {
    if (run.status === 'COMPLETED') return this.notify('success', run, undefined);
    const failed = culprit(jobs);
    // A run cancelled by a person, with nothing failed, is not a failure to report.
    if (!failed) return;
    this.notify('failure', run, { id: failed.spec.id, status: failed.status, error: failed.error, exitCode: failed.exitCode, attempt: failed.attempt });
  }

  private gateOpened(run: RunRecord, gate: JobRecord): void {
    this.notify('gate', run, { id: gate.spec.id, status: gate.status, ...(gate.spec.message !== undefined && { message: gate.spec.message }), approvalUrl: `${this.base()}/approvals` });
  }

  private base(): string {
    return (this.options?.publicUrl() ?? '').replace(/\/+$/, '');
  }

  /** Records one delivery per URL that asked for the event, then tries each at once. */
  private notify(event: NotifyEvent, run: RunRecord, job: NotifyJob | undefined): void {
    const urls = new Set([run.notify?.[event], this.settings.targets[event]].filter((u): u is string => u !== undefined));
    if (urls.size === 0 || this.closed) return;
    const now = this.r.clock.now();
    const body = JSON.stringify(notificationBody(event, { id: run.runId, name: run.name, status: run.status, url: `${this.base()}/runs/${encodeURIComponent(run.runId)}` }, job, now));
    for (const url of urls) {
      const d: NotificationDelivery = { id: `n-${randomBytes(9).toString('hex')}`, runId: run.runId, event, url, body, state: 'pending', tries: 0, lastStatus: null, lastError: null, createdAt: now, updatedAt: now, nextAt: now };
      this.track(
        this.r.store.addNotification(d).then(
          () => {
            this.pending.set(d.id, d);
            this.tryNow(d.id);
          },
          (err: Error) => this.r.log(`a ${event} notification of run ${run.runId} to ${new URL(url).origin} was not recorded, so it is not sent: ${err.message}`),
        ),
      );
    }
  }

  private tryNow(id: string): void {
    const d = this.pending.get(id);
    if (!d || this.closed) return;
    this.track(this.attempt(d));
  }

  private track(work: Promise<void>): void {
    this.trying.add(work);
    void work.finally(() => this.trying.delete(work));
  }

  private async attempt(d: NotificationDelivery): Promise<void> {
    const key = this.signingKey(this.settings.keySecret);
    const outcome: PostOutcome =
      key === null
        ? { status: null, error: `the signing key's secret ${this.settings.keySecret} is not set, so nothing was sent (set it with \`titan secrets set ${this.settings.keySecret}\`)`, final: true }
        : await this.post(d, key);
    const now = this.r.clock.now();
    const tries = d.tries + 1;
    const delivered = ok(outcome.status) && outcome.error === null;
    const again = !delivered && !outcome.final && tries < NOTIFY_MAX_TRIES;
    const next: NotificationDelivery = {
      ...d,
      tries,
      lastStatus: outcome.status,
      lastError: outcome.error,
      state: delivered ? 'delivered' : again ? 'pending' : 'failed',
      updatedAt: now,
      nextAt: again ? now + retryDelayMs((this.options as NotifyOptions).retryBaseMs, tries) : null,
    };
    let kept = true;
    try {
      kept = await this.r.store.updateNotification(next);
    } catch (err) {
      this.r.log(`the outcome of notification ${d.id} was not recorded (${(err as Error).message}); it stays pending`);
    }
    if (!kept || next.state !== 'pending') {
      this.pending.delete(d.id);
      return;
    }
    this.pending.set(d.id, next);
    if (!this.closed) this.timers.set(d.id, next.nextAt as number);
  }

  private post(d: NotificationDelivery, key: string): Promise<PostOutcome> {
    const timestamp = String(Math.floor(this.r.clock.now() / 1000));
    const signature = createHmac('sha256', key).update(`${timestamp}.${d.body}`).digest('hex');
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'titan-notifications',
      'x-titan-event': d.event,
      'x-titan-delivery': d.id,
      'x-titan-timestamp': timestamp,
      'x-titan-signature-256': `sha256=${signature}`,
    };
    return (this.options as NotifyOptions).post({ url: d.url, body: d.body, headers }).catch((err: Error) => ({ status: null, error: err.message }));
  }
}
