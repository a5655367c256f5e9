/**
 * The people and programs a master knows by name, beside its cluster token: named tokens
 * (`titan token create`) and dashboard users (`titan user add`), each with roles a person granted.
 *
 * Only hashes are kept: a token's secret as SHA-256 (it is random, so nothing slower is needed),
 * a password with scrypt. They live in the store (access-store.ts), so every master sharing it
 * knows the same ones; this class holds them in memory too, so that authentication never waits
 * for the store. A change is written to the store before it is applied here and acknowledged.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { TitanError } from '../core/errors.js';
import { GRANTABLE_ROLES, type GrantableRole, permissionsOf, type Principal } from '../protocol/roles.js';
import { type IdentityInfo, NameSchema } from '../protocol/access-methods.js';
import type { AccessStore, StoredIdentity } from '../store/access-store.js';

const TOKEN_PREFIX = 'tok.';

export const StoredToken = z.object({
  id: z.string(),
  name: NameSchema,
  roles: z.array(z.enum(GRANTABLE_ROLES)).min(1),
  hash: z.string(),
  createdAt: z.number(),
  createdBy: z.string(),
  expiresAt: z.number().nullable(),
});
export const StoredUser = z.object({
  name: NameSchema,
  roles: z.array(z.enum(GRANTABLE_ROLES)).min(1),
  salt: z.string(),
  hash: z.string(),
  createdAt: z.number(),
  createdBy: z.string(),
});
export type StoredToken = z.infer<typeof StoredToken>;
export type StoredUser = z.infer<typeof StoredUser>;

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

function passwordHash(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, 32, { N: 16384, r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Each stored identity checked as it is read: the store is shared, its rows are input like any other. */
function parseBody<T>(schema: z.ZodType<T>, row: StoredIdentity): T {
  let json: unknown;
  try {
    json = JSON.parse(row.body);
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success || (parsed.data as { name: string }).name !== row.name) {
    throw new Error(`the ${row.kind} ${row.name} in the store is damaged (${parsed.success ? 'its name differs' : (parsed.error.issues[0]?.message ?? 'unreadable')}); remove it (titan ${row.kind} ${row.kind === 'token' ? 'revoke' : 'remove'} ${row.name} on a master that starts, or delete its row) and create it again`);
  }
  return parsed.data;
}

export class Identities {
  private readonly tokens = new Map<string, StoredToken>();
  private readonly users = new Map<string, StoredUser>();
  /** Names being created, so that two creations of one name at once cannot both pass the check. */
  private readonly creating = new Set<string>();
  private readonly listeners = new Set<() => void>();
  /** Compared against when a user is unknown, so the time taken does not say whether it exists. */
  private readonly decoy = { salt: randomBytes(16).toString('hex'), hash: randomBytes(32).toString('hex') };

  /** `rows`: what the store holds (see load). */
  constructor(
    private readonly store: AccessStore,
    rows: readonly StoredIdentity[] = [],
    private readonly now: () => number = Date.now,
  ) {
    for (const row of rows) {
      if (row.kind === 'token') this.tokens.set(row.name, parseBody(StoredToken, row));
      else this.users.set(row.name, parseBody(StoredUser, row));
    }
  }

  /** Every identity of the store, in memory: at start, which on a shared store is when this master becomes the leader. */
  static async load(store: AccessStore, now?: () => number): Promise<Identities> {
    return new Identities(store, await store.identityList(), now);
  }

  /** Calls `listener` after a token is revoked or a user removed; returns the unsubscribe. */
  onRevocation(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new token for `name`; its secret is returned this once and never kept. */
  async createToken(name: string, roles: readonly GrantableRole[], expiresAt: number | null, by: string): Promise<{ token: string; info: IdentityInfo }> {
    const tokenConflict = (): TitanError => new TitanError('CONFLICT', `a token named ${name} exists: revoke it first (titan token revoke ${name})`);
    if (this.tokens.has(name) || this.creating.has(`token:${name}`)) throw tokenConflict();
    if (expiresAt !== null && expiresAt <= this.now()) throw new TitanError('BAD_REQUEST', 'the token would expire before it is used: give a future expiry');
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const stored: StoredToken = { id, name, roles: [...roles], hash: sha256(secret).toString('hex'), createdAt: this.now(), createdBy: by, expiresAt };
    await this.reserving(`token:${name}`, async () => {
      if (!(await this.store.identityAdd({ kind: 'token', name, body: JSON.stringify(stored) }))) throw tokenConflict();
    });
    this.tokens.set(name, stored);
    return { token: `${TOKEN_PREFIX}${id}.${secret}`, info: tokenInfo(stored) };
  }

  listTokens(): IdentityInfo[] {
    return [...this.tokens.values()].map(tokenInfo);
  }

  async revokeToken(name: string): Promise<IdentityInfo> {
    const stored = this.tokens.get(name);
    if (!stored) throw new TitanError('NOT_FOUND', `no token named ${name}`);
    await this.store.identityRemove('token', name);
    this.tokens.delete(name);
    for (const listener of [...this.listeners]) listener();
    return tokenInfo(stored);
  }

  /** The principal of a named token, or null when `given` is not one or is wrong, revoked or expired. */
  verifyToken(given: string): Principal | null {
    if (!given.startsWith(TOKEN_PREFIX)) return null;
    const parts = given.slice(TOKEN_PREFIX.length).split('.');
    if (parts.length !== 2) return null;
    const [id, secret] = parts as [string, string];
    const stored = [...this.tokens.values()].find((t) => t.id === id);
    if (!stored || !timingSafeEqual(sha256(secret), Buffer.from(stored.hash, 'hex'))) return null;
    if (stored.expiresAt !== null && stored.expiresAt <= this.now()) return null;
    return { name: stored.name, kind: 'token', permissions: permissionsOf(stored.roles), credential: stored.id, ...(stored.expiresAt !== null && { expiresAt: stored.expiresAt }) };
  }

  async addUser(name: string, roles: readonly GrantableRole[], password: string, by: string): Promise<IdentityInfo> {
    const userConflict = (): TitanError => new TitanError('CONFLICT', `a user named ${name} exists: remove it first (titan user remove ${name})`);
    if (this.users.has(name) || this.creating.has(`user:${name}`)) throw userConflict();
    const stored = await this.reserving(`user:${name}`, async () => {
      const salt = randomBytes(16);
      const hash = await passwordHash(password, salt);
      const user: StoredUser = { name, roles: [...roles], salt: salt.toString('hex'), hash: hash.toString('hex'), createdAt: this.now(), createdBy: by };
      if (!(await this.store.identityAdd({ kind: 'user', name, body: JSON.stringify(user) }))) throw userConflict();
      return user;
    });
    this.users.set(name, stored);
    return userInfo(stored);
  }

  listUsers(): IdentityInfo[] {
    return [...this.users.values()].map(userInfo);
  }

  async removeUser(name: string): Promise<IdentityInfo> {
    const stored = this.users.get(name);
    if (!stored) throw new TitanError('NOT_FOUND', `no user named ${name}`);
    await this.store.identityRemove('user', name);
    this.users.delete(name);
    for (const listener of [...this.listeners]) listener();
    return userInfo(stored);
  }

  /** The principal of a user whose password is right, else null (the same work either way). */
  async verifyPassword(name: string, password: string): Promise<Principal | null> {
    const stored = this.users.get(name);
    const { salt, hash } = stored ?? this.decoy;
    const computed = await passwordHash(password, Buffer.from(salt, 'hex'));
    if (!timingSafeEqual(computed, Buffer.from(hash, 'hex')) || !stored) return null;
    return { name: stored.name, kind: 'user', permissions: permissionsOf(stored.roles), credential: `user:${stored.createdAt}` };
  }

  /**
   * Why a principal authenticated earlier may no longer act (revoked, expired, removed), or null
   * while it may: sessions ask on every request, so a revocation takes effect at once.
   */
  revoked(who: Principal): string | null {
    if (who.kind === 'token') {
      const stored = this.tokens.get(who.name);
      if (!stored || stored.id !== who.credential) return `the token ${who.name} was revoked`;
      if (stored.expiresAt !== null && stored.expiresAt <= this.now()) return `the token ${who.name} has expired`;
    }
    if (who.kind === 'user' && who.credential !== undefined) {
      const stored = this.users.get(who.name);
      if (!stored || `user:${stored.createdAt}` !== who.credential) return `the user ${who.name} was removed`;
    }
    return null;
  }

  /** Runs `create` holding `key` (kind and name), so that a second creation of that name meanwhile is refused. */
  private async reserving<T>(key: string, create: () => Promise<T>): Promise<T> {
    this.creating.add(key);
    try {
      return await create();
    } finally {
      this.creating.delete(key);
    }
  }
}

const tokenInfo = (t: StoredToken): IdentityInfo => ({ name: t.name, roles: t.roles, createdAt: t.createdAt, createdBy: t.createdBy, expiresAt: t.expiresAt });
const userInfo = (u: StoredUser): IdentityInfo => ({ name: u.name, roles: u.roles, createdAt: u.createdAt, createdBy: u.createdBy, expiresAt: null });
