/**
 * Browser sessions of the dashboard: a sliding expiry (12 hours without use) and an absolute
 * lifetime (7 days after sign-in, however busy). With a file they survive a master restart: the
 * file (mode 0600) holds a hash of each session id, never the id the cookie carries, and is
 * rewritten shortly after a sign-in or sign-out, and after a use that moved an expiry by more
 * than a few minutes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { Principal } from '../protocol/roles.js';

export const SESSION_TTL_MS = 12 * 3_600_000;
export const SESSION_MAX_AGE_MS = 7 * 24 * 3_600_000;
/** Sessions kept at once; signing in beyond this ends the least recently used one. */
const MAX_SESSIONS = 10_000;
/** A use moves an expiry this much before it is worth writing down. */
const SAVE_SLACK_MS = 5 * 60_000;
const SAVE_DELAY_MS = 1_000;

export interface Session {
  readonly id: string;
  readonly user: string;
  /** Who signed in, with what they may do (a session of a removed user ends). */
  readonly who: Principal;
  readonly csrf: string;
  readonly createdAt: number;
  expiresAt: number;
}

const PrincipalSchema = z.object({ name: z.string().max(200), kind: z.enum(['cluster', 'read', 'token', 'user', 'job', 'v1']), permissions: z.array(z.enum(['read', 'operate', 'approve', 'admin'])), credential: z.string().max(200).optional(), expiresAt: z.number().optional() });

const SavedSchema = z.object({
  sessions: z.array(z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), user: z.string().max(200), who: PrincipalSchema, csrf: z.string().max(128), createdAt: z.number(), expiresAt: z.number() })).max(MAX_SESSIONS),
});
type Saved = Omit<z.infer<typeof SavedSchema>['sessions'][number], 'who'> & { who: Principal };

const hashOf = (id: string): string => createHash('sha256').update(id).digest('hex');

export interface SessionOptions {
  now?: () => number;
  ttlMs?: number;
  maxAgeMs?: number;
  max?: number;
  /** Where sessions are kept across restarts; in memory only when absent. */
  file?: string;
  /** Told when the file cannot be read or written (the sessions still work, in memory). */
  log?: (line: string) => void;
}

/** Sessions by the hash of their id, in order of last use, least recent first (a Map keeps insertion order). */
export class SessionStore {
  private readonly sessions = new Map<string, Session | Saved>();
  private readonly endListeners = new Map<string, Set<() => void>>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly maxAgeMs: number;
  private readonly max: number;
  private saveTimer: NodeJS.Timeout | null = null;
  /** The expiry each session had when last written down. */
  private readonly savedExpiry = new Map<string, number>();

  constructor(private readonly options: SessionOptions = {}) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.maxAgeMs = options.maxAgeMs ?? SESSION_MAX_AGE_MS;
    this.max = options.max ?? MAX_SESSIONS;
    this.load();
  }

  get size(): number {
    return this.sessions.size;
  }

  create(who: Principal): Session {
    const now = this.now();
    const session: Session = { id: randomBytes(32).toString('hex'), user: who.name, who, csrf: randomBytes(32).toString('hex'), createdAt: now, expiresAt: this.expiry(now, now) };
    this.sessions.set(hashOf(session.id), session);
    while (this.sessions.size > this.max) this.endHash(this.sessions.keys().next().value as string);
    this.save();
    return session;
  }

  /** The live session of this id, its expiry pushed back; null when unknown or expired. */
  use(id: string | undefined): Session | null {
    if (id === undefined) return null;
    const hash = hashOf(id);
    const found = this.sessions.get(hash);
    if (!found) return null;
    const now = this.now();
    if (found.expiresAt <= now) {
      this.endHash(hash);
      return null;
    }
    // A session read back from the file learns its id from the cookie that proves it.
    const session: Session = 'id' in found ? found : { id, user: found.user, who: found.who, csrf: found.csrf, createdAt: found.createdAt, expiresAt: found.expiresAt };
    session.expiresAt = this.expiry(session.createdAt, now);
    this.sessions.delete(hash);
    this.sessions.set(hash, session);
    if (session.expiresAt - (this.savedExpiry.get(hash) ?? 0) > SAVE_SLACK_MS) this.save();
    return session;
  }

  /** Ends a session; whatever it had open (event streams) is told. */
  end(id: string): void {
    this.endHash(hashOf(id));
  }

  /** Calls `fn` when the session ends (sign-out, expiry); returns the function that stops that. */
  onEnd(id: string, fn: () => void): () => void {
    const hash = hashOf(id);
    let set = this.endListeners.get(hash);
    if (!set) {
      set = new Set();
      this.endListeners.set(hash, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.endListeners.get(hash) === set) this.endListeners.delete(hash);
    };
  }

  /** Ends every expired session. */
  sweep(): void {
    const now = this.now();
    for (const [hash, session] of [...this.sessions]) if (session.expiresAt <= now) this.endHash(hash);
  }

  /** Ends every session in memory (the server closes); the file keeps them for the next start. */
  close(): void {
    if (this.saveTimer) this.write();
    for (const set of this.endListeners.values()) for (const fn of set) fn();
    this.endListeners.clear();
  }

  private expiry(createdAt: number, now: number): number {
    return Math.min(now + this.ttlMs, createdAt + this.maxAgeMs);
  }

  private endHash(hash: string): void {
    if (!this.sessions.delete(hash)) return;
    this.save();
    const listeners = this.endListeners.get(hash);
    this.endListeners.delete(hash);
    for (const fn of listeners ?? []) fn();
  }

  private load(): void {
    const file = this.options.file;
    if (file === undefined) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.options.log?.(`cannot read the dashboard sessions in ${file}: ${(err as Error).message}; everyone signs in again`);
      return;
    }
    let saved: Saved[];
    try {
      saved = SavedSchema.parse(JSON.parse(text)).sessions;
    } catch (err) {
      this.options.log?.(`the dashboard sessions in ${file} are unreadable (${(err as Error).message.split('\n')[0]}); everyone signs in again`);
      return;
    }
    const now = this.now();
    for (const s of saved.sort((a, b) => a.expiresAt - b.expiresAt)) {
      if (s.expiresAt <= now || s.createdAt + this.maxAgeMs <= now) continue;
      this.sessions.set(s.hash, s);
      this.savedExpiry.set(s.hash, s.expiresAt);
    }
  }

  private save(): void {
    if (this.options.file === undefined || this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.write(), SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  private write(): void {
    const file = this.options.file;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (file === undefined) return;
    this.savedExpiry.clear();
    const sessions: Saved[] = [];
    for (const [hash, s] of this.sessions) {
      sessions.push({ hash, user: s.user, who: s.who, csrf: s.csrf, createdAt: s.createdAt, expiresAt: s.expiresAt });
      this.savedExpiry.set(hash, s.expiresAt);
    }
    try {
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, JSON.stringify({ sessions }), { mode: 0o600 });
      renameSync(tmp, file);
    } catch (err) {
      this.options.log?.(`cannot write the dashboard sessions to ${file}: ${(err as Error).message}; they last until the master stops`);
    }
  }
}
