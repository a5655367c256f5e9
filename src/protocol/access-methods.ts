/**
 * v2 methods of identities and the audit: who the caller is (`whoami`), named tokens
 * (`token.*`), dashboard users (`user.*`) and the audit log (`audit.list`). Merged into `params`
 * and `Results` of methods.ts.
 */
import { z } from 'zod';
import { GRANTABLE_ROLES, type GrantableRole, type Permission, type Principal } from './roles.js';

/** A token's or user's name: what audit records and gate decisions show. */
export const NameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'a name is up to 64 letters, digits, "_", ".", "@" or "-", starting with a letter or digit');

const RolesSchema = z.array(z.enum(GRANTABLE_ROLES)).min(1).max(GRANTABLE_ROLES.length);

export const accessParams = {
  whoami: z.strictObject({}),
  /** `expiresAt` (ms since the epoch) or null for a token that never expires. */
  'token.create': z.strictObject({ name: NameSchema, roles: RolesSchema, expiresAt: z.number().int().positive().nullable() }),
  'token.list': z.strictObject({}),
  'token.revoke': z.strictObject({ name: NameSchema }),
  'user.add': z.strictObject({ name: NameSchema, roles: RolesSchema, password: z.string().min(12, 'a password has at least 12 characters').max(1024) }),
  'user.list': z.strictObject({}),
  'user.remove': z.strictObject({ name: NameSchema }),
  /** Newest first; `before` pages back from the `seq` of the oldest entry seen. */
  'audit.list': z.strictObject({ limit: z.number().int().min(1).max(1000).default(100), before: z.number().int().positive().optional() }),
} as const;

export type AccessMethod = keyof typeof accessParams;

export interface IdentityInfo {
  name: string;
  roles: GrantableRole[];
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
}

/** One state-changing action: who, what, when, from where, and how it ended. */
export interface AuditEntry {
  seq: number;
  at: number;
  who: string;
  kind: Principal['kind'];
  /** The door: `tcp` (v2 clients and the MCP server), `http` (dashboard and API), `v1` (Titan's clients). */
  via: 'tcp' | 'http' | 'v1';
  from: string;
  action: string;
  /** What the action named: a run, job, gate, key, worker, schedule, token or user. */
  target: string | null;
  ok: boolean;
  error?: string;
}

export interface AccessResults {
  whoami: { name: string; kind: Principal['kind']; permissions: Permission[] };
  'token.create': { token: string; info: IdentityInfo };
  'token.list': { tokens: IdentityInfo[] };
  'token.revoke': { token: IdentityInfo };
  'user.add': { user: IdentityInfo };
  'user.list': { users: IdentityInfo[] };
  'user.remove': { user: IdentityInfo };
  'audit.list': { entries: AuditEntry[] };
}
