/**
 * Tokens derived from the cluster token, which the master recognises without storing anything:
 *
 * - `worker.<mac>`: registers workers and nothing else; what a worker machine should hold, so
 *   that it cannot submit, approve or read the cluster's data as a client.
 * - `read.<mac>`: a client that may only read (runs, jobs, logs, workers, stats, the data bus,
 *   artifacts), for dashboards and monitoring.
 * - `job.<runId>/<jobId>/<attempt>.<mac>`: what a job gets as TITAN_TOKEN, minted by the master
 *   for each attempt it dispatches and valid only while that attempt runs (a retried or reopened
 *   job gets a new one; the old one never comes back): a client limited to its own run and the
 *   runs it submits (see access.ts).
 * - `node.<name>.<mac>`: a worker's own credential, bound to its name (`host:port`). The master
 *   hands it to a worker when the worker enrols (with the worker token) and asks for it whenever
 *   the name is one it still knows, so another holder of the worker token cannot take over a live
 *   worker's name, attempts or reports. It is not a token: HELLO still carries the worker token.
 *
 * Each mac is an HMAC-SHA256 of the cluster token (job tokens' and worker credentials' under keys
 * derived from it that no worker holds), so a worker token cannot be turned into a client, nor
 * one worker's credential into another's. Being derived, they need no storage and survive a
 * master restart; changing the cluster token revokes them all.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TokenRole = 'cluster' | 'worker' | 'read' | 'job';

const mac = (key: string, what: string): string => createHmac('sha256', key).update(what).digest('base64url');

export const workerToken = (clusterToken: string): string => `worker.${mac(clusterToken, 'worker')}`;
export const readToken = (clusterToken: string): string => `read.${mac(clusterToken, 'read')}`;

/** The attempt a job token belongs to. */
export interface TokenAttempt {
  runId: string;
  jobId: string;
  attempt: number;
}

const attemptName = (a: TokenAttempt): string => `${a.runId}/${a.jobId}/${a.attempt}`;

/** A job's token for one attempt (the master mints it; workers pass it on). */
export function jobToken(clusterToken: string, a: TokenAttempt): string {
  return jobTokenMinter(clusterToken)(a);
}

/** jobToken for one cluster token, for the master's dispatch path: the key is derived once. */
export function jobTokenMinter(clusterToken: string): (a: TokenAttempt) => string {
  const key = mac(clusterToken, 'job');
  return (a) => `job.${attemptName(a)}.${mac(key, attemptName(a))}`;
}

/** A worker's credential for its name; the master mints it at HELLO. */
export function workerCredential(clusterToken: string, name: string): string {
  return `node.${name}.${mac(mac(clusterToken, 'node'), name)}`;
}

/** The name a credential is for, unchecked (a worker reads its own credential with it); null when it is no credential. */
export function credentialFor(credential: string): string | null {
  if (!credential.startsWith('node.')) return null;
  // The name may hold dots; the mac (base64url) holds none.
  const name = credential.slice('node.'.length, credential.lastIndexOf('.'));
  return name === '' ? null : name;
}

/** The worker name a credential proves, or null when `given` is none (or not minted under this cluster token). */
export function credentialName(clusterToken: string, given: string | undefined): string | null {
  const name = given === undefined ? null : credentialFor(given);
  return name !== null && same(given ?? '', workerCredential(clusterToken, name)) ? name : null;
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The role of a derived token, or null when `given` is none of them (the cluster token itself is checked elsewhere). */
export function derivedRole(clusterToken: string, given: string | undefined): { role: Exclude<TokenRole, 'cluster'>; attempt?: TokenAttempt } | null {
  if (given === undefined) return null;
  if (given.startsWith('worker.')) return same(given, workerToken(clusterToken)) ? { role: 'worker' } : null;
  if (given.startsWith('read.')) return same(given, readToken(clusterToken)) ? { role: 'read' } : null;
  if (!given.startsWith('job.')) return null;
  const dot = given.lastIndexOf('.');
  const [runId = '', jobId = '', n = '', ...rest] = given.slice('job.'.length, dot).split('/');
  const attempt = Number(n);
  if (dot <= 'job.'.length || runId === '' || jobId === '' || rest.length > 0 || !/^[1-9]\d{0,8}$/.test(n)) return null;
  const a = { runId, jobId, attempt };
  return same(given, jobToken(clusterToken, a)) ? { role: 'job', attempt: a } : null;
}
