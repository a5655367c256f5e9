/**
 * The scale webhook: each change of a pool's desired worker count is POSTed as JSON to a URL,
 * so external infrastructure (a cloud instance group, a script) can follow the autoscaler.
 * Posts go out one at a time in order; when several changes of one pool queue up behind a slow
 * receiver, only the newest is sent. A failed post is logged and retried with the next change.
 */
import type { DesiredCount } from '../master/autoscaler.js';

const POST_TIMEOUT_MS = 5000;

export function scaleWebhook(url: string, log: (line: string) => void): (count: DesiredCount) => void {
  const waiting = new Map<string, DesiredCount>();
  let sending = false;
  const drain = async (): Promise<void> => {
    sending = true;
    for (let next = waiting.values().next(); !next.done; next = waiting.values().next()) {
      const count = next.value;
      waiting.delete(count.pool);
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ pool: count.pool, desired: count.desired, current: count.current, at: new Date(count.at).toISOString() }),
          signal: AbortSignal.timeout(POST_TIMEOUT_MS),
        });
        await res.body?.cancel();
        if (!res.ok) log(`scale webhook ${url} answered ${res.status} for pool ${count.pool}`);
      } catch (err) {
        log(`scale webhook ${url} failed for pool ${count.pool}: ${(err as Error).message}`);
      }
    }
    sending = false;
  };
  return (count) => {
    waiting.set(count.pool, count);
    if (!sending) void drain();
  };
}
