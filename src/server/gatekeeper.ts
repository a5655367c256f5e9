/**
 * Authentication, once for every door: which principal a token or a password is, whether one
 * authenticated earlier may still act, and the record of what it did. The TCP sessions, the
 * HTTP API and the dashboard's sign-in all ask here.
 */
import { createHash } from 'node:crypto';
import { attemptName } from '../protocol/methods.js';
import { type Principal, ROLE_PERMISSIONS } from '../protocol/roles.js';
import { derivedRole } from '../protocol/derived-tokens.js';
import { type AuditLog, type AuditRecord, targetOf } from './audit-log.js';
import type { Identities } from './identities.js';
import { tokenMatches } from './token.js';

/** The cluster token's principal: the administrator who started the master. */
export const CLUSTER: Principal = { name: 'cluster-token', kind: 'cluster', permissions: ROLE_PERMISSIONS.admin };
const READ: Principal = { name: 'read-token', kind: 'read', permissions: ROLE_PERMISSIONS.read };

/** The dashboard administrator given to the master (`--ui-user`, `--ui-password-file`). */
export interface UiLogin {
  user: string;
  password: string;
}

/** Longest wait setTimeout takes; a later expiry is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Gatekeeper {
  /** Identifies the `--ui-user` login a session signed in with, so that changing it ends those sessions. */
  private readonly uiCredential: string | null;

  constructor(
    readonly clusterToken: string,
    readonly identities: Identities,
    readonly audit: AuditLog,
    private readonly uiLogin?: UiLogin,
  ) {
    this.uiCredential = uiLogin ? `ui:${createHash('sha256').update(`${uiLogin.user}\n${uiLogin.password}`).digest('hex').slice(0, 32)}` : null;
  }

  /** Whether anyone can sign in with a password. */
  get hasUsers(): boolean {
    return this.uiLogin !== undefined || this.identities.listUsers().length > 0;
  }

  /** The `--ui-user` administrator, else a user of `titan user add`; both checked, so the time taken says nothing. */
  async signIn(user: string, password: string): Promise<Principal | null> {
    const admin = this.uiLogin;
    const userOk = admin !== undefined && tokenMatches(user, admin.user);
    const passwordOk = admin !== undefined && tokenMatches(password, admin.password);
    const named = await this.identities.verifyPassword(user, password);
    if (userOk && passwordOk && this.uiCredential !== null) return { name: user, kind: 'user', permissions: ROLE_PERMISSIONS.admin, credential: this.uiCredential };
    return named;
  }

  /** The client principal of a token (cluster, read, a job's, a named one), or null; worker tokens are not clients. */
  authenticate(given: string | undefined): Principal | null {
    if (given === undefined) return null;
    if (tokenMatches(given, this.clusterToken)) return CLUSTER;
    const derived = derivedRole(this.clusterToken, given);
    if (derived?.role === 'read') return READ;
    if (derived?.role === 'job' && derived.attempt) {
      const a = derived.attempt;
      return { name: `job:${attemptName(a)}`, kind: 'job', permissions: ROLE_PERMISSIONS.job, attempt: a };
    }
    return this.identities.verifyToken(given);
  }

  /** Why a principal may no longer act, or null (see Identities.revoked). */
  revoked(who: Principal): string | null {
    if (who.expiresAt !== undefined && who.expiresAt <= Date.now()) return `the token ${who.name} has expired`;
    if (who.credential?.startsWith('ui:')) return who.credential === this.uiCredential ? null : `the dashboard user ${who.name} is no longer the master's --ui-user`;
    return this.identities.revoked(who);
  }

  /**
   * Calls `stop` with the reason once `who` may no longer act (revoked, removed, expired), so
   * that a connection that only listens is cut off too; returns the unsubscribe.
   */
  watch(who: Principal, stop: (reason: string) => void): () => void {
    let timer: NodeJS.Timeout | null = null;
    const check = (): void => {
      const reason = this.revoked(who);
      if (reason === null) return;
      cancel();
      stop(reason);
    };
    const unsubscribe = this.identities.onRevocation(check);
    const arm = (): void => {
      if (who.expiresAt === undefined) return;
      timer = setTimeout(() => {
        check();
        if (timer !== null) arm();
      }, Math.min(Math.max(0, who.expiresAt - Date.now()), MAX_TIMER_MS));
      timer.unref();
    };
    const cancel = (): void => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
      timer = null;
    };
    arm();
    return cancel;
  }

  /** Records a state-changing action of `who`; a submission is named by the run it created (`result`). */
  record(who: Principal, via: AuditRecord['via'], from: string | undefined, action: string, params: unknown, error: unknown, result?: unknown): void {
    this.audit.record({ who: who.name, kind: who.kind, via, from: from ?? 'unknown', action, target: targetOf(params) ?? targetOf(result), ok: error === null, ...(error !== null && { error: error instanceof Error ? error.message.slice(0, 300) : String(error) }) });
  }
}
