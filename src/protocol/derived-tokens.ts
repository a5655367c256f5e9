/**
 * Tokens derived from the cluster token, which the master recognises without storing anything:
 *
 * - `worker.<mac>`: registers workers and nothing else; what a worker machine should hold, so
 *   that it cannot submit, approve or read the cluster's data as a client.
 * - `read.<mac>`: a client that may only read (runs, jobs, logs, workers, stats, the data bus,
 *   artifacts), for dashboards and monitoring.
 * - `job.<runId>.<mac>`: what a job gets as TITAN_TOKEN, minted by the master with each dispatch
 *   and valid only while its run runs: a client (submit, extend runs, the data bus, artifacts,
 *   reads) that cannot register or manage workers, decide gates, change schedules or the script
 *   library, or delete runs.
 *
 * Each mac is an HMAC-SHA256 of the cluster token (a job token's under a key derived from it that
 * no worker holds), so a worker token cannot be turned into a client.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TokenRole = 'cluster' | 'worker' | 'read' | 'job';

const mac = (key: string, what: string): string => createHmac('sha256', key).update(what).digest('base64url');

export const workerToken = (clusterToken: string): string => `worker.${mac(clusterToken, 'worker')}`;
export const readToken = (clusterToken: string): string => `read.${mac(clusterToken, 'read')}`;

/** A job's token for its run (the master mints it; workers pass it on). */
export function jobToken(clusterToken: string, runId: string): string {
  return `job.${runId}.${mac(mac(clusterToken, 'job'), runId)}`;
}

/**
 * jobToken for one cluster token, for the master's dispatch path: the key is derived once and
 * the tokens of recent runs are remembered (a run's jobs share one), so a dispatch costs no HMAC.
 */
export function jobTokenMinter(clusterToken: string): (runId: string) => string {
  const key = mac(clusterToken, 'job');
  const recent = new Map<string, string>();
  return (runId) => {
    let token = recent.get(runId);
    if (token === undefined) {
      if (recent.size >= 1024) recent.clear();
      token = `job.${runId}.${mac(key, runId)}`;
      recent.set(runId, token);
    }
    return token;
  };
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The role of a derived token, or null when `given` is none of them (the cluster token itself is checked elsewhere). */
export function derivedRole(clusterToken: string, given: string | undefined): { role: Exclude<TokenRole, 'cluster'>; runId?: string } | null {
  if (given === undefined) return null;
  if (given.startsWith('worker.')) return same(given, workerToken(clusterToken)) ? { role: 'worker' } : null;
  if (given.startsWith('read.')) return same(given, readToken(clusterToken)) ? { role: 'read' } : null;
  if (!given.startsWith('job.')) return null;
  const dot = given.lastIndexOf('.');
  const runId = given.slice('job.'.length, dot);
  if (dot <= 'job.'.length || runId === '') return null;
  return same(given, jobToken(clusterToken, runId)) ? { role: 'job', runId } : null;
}
