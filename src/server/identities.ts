/**
 * The people and programs a master knows by name, beside its cluster token: named tokens
 * (`titan token create`) and dashboard users (`titan user add`), each with roles a person granted.
 *
 * Only hashes are kept: a token's secret as SHA-256 (it is random, so nothing slower is needed),
 * a password with scrypt. The file is the master's alone (0600) and replaced atomically, so a
 * crash leaves the old list or the new one, never half of either.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { TitanError } from '../core/errors.js';
import { GRANTABLE_ROLES, type GrantableRole, permissionsOf, type Principal } from '../protocol/roles.js';
import { type IdentityInfo, NameSchema } from '../protocol/access-methods.js';

const TOKEN_PREFIX = 'tok.';

const StoredToken = z.object({
  id: z.string(),
  name: NameSchema,
  roles: z.array(z.enum(GRANTABLE_ROLES)).min(1),
  hash: z.string(),
  createdAt: z.number(),
  createdBy: z.string(),
  expiresAt: z.number().nullable(),
});
const StoredUser = z.object({
  name: NameSchema,
  roles: z.array(z.enum(GRANTABLE_ROLES)).min(1),
  salt: z.string(),
  hash: z.string(),
  createdAt: z.number(),
  createdBy: z.string(),
});
const StoredFile = z.object({ tokens: z.array(StoredToken), users: z.array(StoredUser) });
type StoredToken = z.infer<typeof StoredToken>;
type StoredUser = z.infer<typeof StoredUser>;

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

function passwordHash(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, 32, { N: 16384, r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key))));
}

export interface IdentitiesOptions {
  /** Where the list is kept; in memory only when absent. */
  file?: string;
  now?: () => number;
}

export class Identities {
  private readonly tokens = new Map<string, StoredToken>();
  private readonly users = new Map<string, StoredUser>();
  private readonly now: () => number;
  private readonly listeners = new Set<() => void>();
  /** Compared against when a user is unknown, so the time taken does not say whether it exists. */
  private readonly decoy = { salt: randomBytes(16).toString('hex'), hash: randomBytes(32).toString('hex') };

  constructor(private readonly options: IdentitiesOptions = {}) {
    this.now = options.now ?? Date.now;
    if (options.file !== undefined && existsSync(options.file)) {
      const parsed = StoredFile.safeParse(JSON.parse(readFileSync(options.file, 'utf8')));
      if (!parsed.success) throw new Error(`${options.file} is damaged: ${parsed.error.issues[0]?.message ?? 'unreadable'}; restore it from a backup or remove it (its tokens and users are then gone)`);
      for (const t of parsed.data.tokens) this.tokens.set(t.name, t);
      for (const u of parsed.data.users) this.users.set(u.name, u);
    }
  }

  /** Calls `listener` after a token is revoked or a user removed; returns the unsubscribe. */
  onRevocation(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new token for `name`; its secret is returned this once and never kept. */
  createToken(name: string, roles: readonly GrantableRole[], expiresAt: number | null, by: string): { token: string; info: IdentityInfo } {
    if (this.tokens.has(name)) throw new TitanError('CONFLICT', `a token named ${name} exists: revoke it first (titan token revoke ${name})`);
    if (expiresAt !== null && expiresAt <= this.now()) throw new TitanError('BAD_REQUEST', 'the token would expire before it is used: give a future expiry');
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const stored: StoredToken = { id, name, roles: [...roles], hash: sha256(secret).toString('hex'), createdAt: this.now(), createdBy: by, expiresAt };
    this.tokens.set(name, stored);
    this.save();
    return { token: `${TOKEN_PREFIX}${id}.${secret}`, info: tokenInfo(stored) };
  }

  listTokens(): IdentityInfo[] {
    return [...this.tokens.values()].map(tokenInfo);
  }

  revokeToken(name: string): IdentityInfo {
    const stored = this.tokens.get(name);
    if (!stored) throw new TitanError('NOT_FOUND', `no token named ${name}`);
    this.tokens.delete(name);
    this.save();
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
    if (this.users.has(name)) throw new TitanError('CONFLICT', `a user named ${name} exists: remove it first (titan user remove ${name})`);
    const salt = randomBytes(16);
    const hash = await passwordHash(password, salt);
    const stored: StoredUser = { name, roles: [...roles], salt: salt.toString('hex'), hash: hash.toString('hex'), createdAt: this.now(), createdBy: by };
    this.users.set(name, stored);
    this.save();
    return userInfo(stored);
  }

  listUsers(): IdentityInfo[] {
    return [...this.users.values()].map(userInfo);
  }

  removeUser(name: string): IdentityInfo {
    const stored = this.users.get(name);
    if (!stored) throw new TitanError('NOT_FOUND', `no user named ${name}`);
    this.users.delete(name);
    this.save();
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

  private save(): void {
    const file = this.options.file;
    if (file === undefined) return;
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ tokens: [...this.tokens.values()], users: [...this.users.values()] }), { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, file);
  }
}

const tokenInfo = (t: StoredToken): IdentityInfo => ({ name: t.name, roles: t.roles, createdAt: t.createdAt, createdBy: t.createdBy, expiresAt: t.expiresAt });
const userInfo = (u: StoredUser): IdentityInfo => ({ name: u.name, roles: u.roles, createdAt: u.createdAt, createdBy: u.createdBy, expiresAt: null });
