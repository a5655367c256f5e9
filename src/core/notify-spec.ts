/**
 * Notifications out: where a run's events are POSTed (`on: {failure, success, gate}` on a run and
 * cluster-wide), what each POST says, and how a delivery is retried. The one definition every
 * door (YAML, RunSpec, SDKs, MCP, CLI) and the store share; pure, so the dashboard imports it too.
 */
import { z } from 'zod';

export const NOTIFY_EVENTS = ['failure', 'success', 'gate'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
export const NotifyEventSchema = z.enum(NOTIFY_EVENTS);

export const MAX_NOTIFY_URL_LENGTH = 2048;

/**
 * A receiver's address: an absolute http or https URL. Which hosts it may reach is decided when it
 * is dialled (after DNS resolution), not here.
 */
export const NotifyUrlSchema = z
  .string()
  .max(MAX_NOTIFY_URL_LENGTH, `a notification URL is at most ${MAX_NOTIFY_URL_LENGTH} characters`)
  .superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `is not a URL: ${JSON.stringify(text)} (write it whole, e.g. https://hooks.example.com/titan)` });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `must be an http or https URL, not ${url.protocol.slice(0, -1)}:` });
    else if (url.hostname === '') ctx.addIssue({ code: 'custom', message: 'names no host' });
  });

/** Where a run's events go: one URL per event, each optional. */
export const NotifyTargetsSchema = z.strictObject({
  failure: NotifyUrlSchema.optional(),
  success: NotifyUrlSchema.optional(),
  gate: NotifyUrlSchema.optional(),
});
export type NotifyTargets = z.infer<typeof NotifyTargetsSchema>;

/** The secret whose value signs every POST unless the cluster names another. */
export const DEFAULT_NOTIFY_KEY_SECRET = 'NOTIFY_SIGNING_KEY';

/** Tries of one delivery in all, the first included. */
export const NOTIFY_MAX_TRIES = 5;

/** Deliveries the store keeps; past it the oldest finished ones go. */
export const MAX_STORED_DELIVERIES = 10_000;

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One POST of one event to one URL, as the store keeps it. */
export interface NotificationDelivery {
  id: string;
  runId: string;
  event: NotifyEvent;
  url: string;
  /** The JSON body, fixed when the event happened: every try sends the same bytes. */
  body: string;
  state: DeliveryState;
  tries: number;
  /** The HTTP status of the last try, when one answered. */
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  /** When the next try is due (pending only). */
  nextAt: number | null;
}

/** The wait before try `tries + 1` after `tries` failed ones: base, 2×base, 4×base… */
export const retryDelayMs = (baseMs: number, tries: number): number => baseMs * 2 ** Math.max(0, tries - 1);

/** What a receiver learns of the run (the body's `run`). */
export interface NotifyRun {
  id: string;
  name: string;
  status: string;
  url: string;
}

/** The job the event concerns: the gate that opened, or the first job that failed. */
export interface NotifyJob {
  id: string;
  status: string;
  error?: string | null;
  exitCode?: number | null;
  attempt?: number;
  /** A gate's question. */
  message?: string;
  /** Where the gate is decided (the dashboard's approval page). */
  approvalUrl?: string;
}

export interface NotifyBody {
  event: NotifyEvent;
  /** One line of Slack-compatible text, so an incoming-webhook URL works as it is. */
  text: string;
  run: NotifyRun;
  job?: NotifyJob;
  /** ISO time of the event. */
  at: string;
}

/** Slack's mrkdwn reserves these three characters; names are escaped so they cannot inject links. */
const slackEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/[\r\n]+/g, ' ');

export function notificationText(event: NotifyEvent, run: NotifyRun, job: NotifyJob | undefined): string {
  const name = `<${run.url}|${slackEscape(run.name)}> (${run.id})`;
  if (event === 'success') return `Titan: run ${name} completed`;
  if (event === 'gate') {
    const question = job?.message ? `: ${slackEscape(job.message)}` : '';
    return `Titan: gate ${slackEscape(job?.id ?? '')} of run ${name} waits for approval${question} <${job?.approvalUrl ?? run.url}|approve or reject>`;
  }
  const why = job ? ` (job ${slackEscape(job.id)} ${job.status}${job.error ? `: ${slackEscape(job.error).slice(0, 200)}` : ''})` : '';
  return `Titan: run ${name} ${run.status === 'FAILED' ? 'failed' : `ended ${run.status}`}${why}`;
}

export function notificationBody(event: NotifyEvent, run: NotifyRun, job: NotifyJob | undefined, at: number): NotifyBody {
  return { event, text: notificationText(event, run, job), run, ...(job && { job }), at: new Date(at).toISOString() };
}

/** A URL as listings show it to readers: its origin only, since a webhook URL's path is often its credential. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname === '/' && u.search === '' ? u.origin : `${u.origin}/…`;
  } catch {
    return '(invalid URL)';
  }
}
