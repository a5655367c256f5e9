/**
 * Authentication, once for every door: which principal a token or a password is, whether one
 * authenticated earlier may still act, and the record of what it did. The TCP sessions, the
 * HTTP API and the dashboard's sign-in all ask here.
 */
import { type Principal, ROLE_PERMISSIONS } from '../protocol/access.js';
import { derivedRole } from '../protocol/derived-tokens.js';
import { type AuditLog, type AuditRecord, targetOf } from './audit-log.js';
import type { Identities } from './identities.js';
import { tokenMatches } from './token.js';

/** The cluster token's principal: the administrator who started the master. */
export const CLUSTER: Principal = { name: 'cluster-token', kind: 'cluster', permissions: ROLE_PERMISSIONS.admin };
const READ: Principal = { name: 'read-token', kind: 'read', permissions: ROLE_PERMISSIONS.read };

export class Gatekeeper {
  constructor(
    readonly clusterToken: string,
    readonly identities: Identities,
    readonly audit: AuditLog,
  ) {}

  /** The client principal of a token (cluster, read, a job's, a named one), or null; worker tokens are not clients. */
  authenticate(given: string | undefined): Principal | null {
    if (given === undefined) return null;
    if (tokenMatches(given, this.clusterToken)) return CLUSTER;
    const derived = derivedRole(this.clusterToken, given);
    if (derived?.role === 'read') return READ;
    if (derived?.role === 'job' && derived.attempt) {
      const a = derived.attempt;
      return { name: `job:${a.runId}/${a.jobId}#${a.attempt}`, kind: 'job', permissions: ROLE_PERMISSIONS.job, attempt: a };
    }
    return this.identities.verifyToken(given);
  }

  /** Why a principal may no longer act, or null (see Identities.revoked). */
  revoked(who: Principal): string | null {
    return this.identities.revoked(who);
  }

  /** Records a state-changing action of `who`. */
  record(who: Principal, via: AuditRecord['via'], from: string | undefined, action: string, params: unknown, error: unknown): void {
    this.audit.record({ who: who.name, kind: who.kind, via, from: from ?? 'unknown', action, target: targetOf(params), ok: error === null, ...(error !== null && { error: error instanceof Error ? error.message.slice(0, 300) : String(error) }) });
  }
}
