/**
 * A job's token: instead of the cluster token, each job gets one made for its run,
 * `job.<runId>.<HMAC-SHA256 of the run id under the cluster token>`, which the master checks
 * without storing anything and a worker mints with the cluster token it holds. It lets a job act
 * as a client (submit, extend its run, the data bus, artifacts, gates, reads) but not register as
 * a worker, which would receive other jobs' scripts, arguments and environment, nor drain or shut
 * down workers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'job.';

function mac(clusterToken: string, runId: string): string {
  return createHmac('sha256', clusterToken).update(runId).digest('base64url');
}

export function jobToken(clusterToken: string, runId: string): string {
  return `${PREFIX}${runId}.${mac(clusterToken, runId)}`;
}

/** The run a job token was made for, or null when `given` is not a valid job token. */
export function jobTokenRun(clusterToken: string, given: string | undefined): string | null {
  if (given === undefined || !given.startsWith(PREFIX)) return null;
  const dot = given.lastIndexOf('.');
  const runId = given.slice(PREFIX.length, dot);
  if (dot <= PREFIX.length || runId === '') return null;
  const expected = Buffer.from(mac(clusterToken, runId));
  const actual = Buffer.from(given.slice(dot + 1));
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? runId : null;
}
