/**
 * Permissions, the roles that hold them, and who a request comes from: what the access table
 * (access.ts) and the identity methods (access-methods.ts) share.
 */
export type Permission = 'read' | 'operate' | 'approve' | 'admin';

/** What each role holds; a named token or dashboard user holds one or more of them. */
export const ROLE_PERMISSIONS = {
  admin: ['read', 'operate', 'approve', 'admin'],
  operator: ['read', 'operate'],
  approver: ['read', 'approve'],
  read: ['read'],
  job: ['read', 'operate'],
} as const satisfies Record<string, readonly Permission[]>;

export type Role = keyof typeof ROLE_PERMISSIONS;
/** Roles a person may grant to a named token or a dashboard user (`job` is minted per attempt). */
export const GRANTABLE_ROLES = ['admin', 'operator', 'approver', 'read'] as const satisfies readonly Role[];
export type GrantableRole = (typeof GRANTABLE_ROLES)[number];

/**
 * Who a request comes from, whatever the door: the name audit records and gate decisions show
 * (never one the client typed), what it may do, and for a job's token the attempt it belongs to.
 */
export interface Principal {
  name: string;
  kind: 'cluster' | 'read' | 'token' | 'user' | 'job' | 'v1';
  permissions: readonly Permission[];
  attempt?: { runId: string; jobId: string; attempt: number };
  /** Which issue of a named token or user this is, so that a revoked one is known at once. */
  credential?: string;
  /** When a named token stops working (ms since the epoch). */
  expiresAt?: number;
}

export const permissionsOf = (roles: readonly Role[]): Permission[] => [...new Set(roles.flatMap((r) => ROLE_PERMISSIONS[r]))];
