/**
 * Who may use the HTTP API, and how a browser signs in.
 *
 * API clients (CLI, Prometheus, scripts) send the cluster token as `Authorization: Bearer`.
 * Browsers sign in once with `POST /api/login` (the token, or the dashboard user and password
 * given to the master) and get a `titan_session` cookie: HttpOnly, SameSite=Strict, Secure over
 * TLS. Sessions (http-sessions.ts) expire after 12 hours without use and 7 days after sign-in,
 * and survive a restart. A cookie-authenticated
 * request that changes anything (every method but GET and HEAD) must also carry the session's
 * CSRF token in `X-CSRF-Token`; a bearer request needs none, since browsers never add that
 * header on their own. Failed sign-ins and wrong bearer tokens are limited per client address;
 * the right token is never locked out (it is not guessable), a password is not even checked
 * while its address is locked out.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseWith, setPrincipal } from './http-common.js';
import type { SessionInfo } from '../protocol/http-views.js';
import type { Principal } from '../protocol/roles.js';
import type { Gatekeeper } from './gatekeeper.js';
import { tokenMatches } from './token.js';
import { type Session, SessionStore } from './http-sessions.js';

export const SESSION_COOKIE = 'titan_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** At most `max` failed sign-ins per client address in any `windowMs`. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly max = 10,
    private readonly windowMs = 60_000,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Milliseconds until `ip` may try again; 0 when it may now. */
  retryAfter(ip: string): number {
    const recent = this.recent(ip);
    return recent.length >= this.max ? (recent[0] as number) + this.windowMs - this.now() : 0;
  }

  fail(ip: string): void {
    const recent = this.recent(ip);
    recent.push(this.now());
    this.failures.delete(ip);
    this.failures.set(ip, recent);
    // Many addresses at once: forget the ones that failed longest ago.
    while (this.failures.size > this.maxAddresses) this.failures.delete(this.failures.keys().next().value as string);
  }

  succeed(ip: string): void {
    this.failures.delete(ip);
  }

  private recent(ip: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.failures.get(ip) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(ip);
    return list;
  }
}

/** The value of one cookie of the request, if it was sent. */
export function cookieOf(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const LoginSchema = z.union([
  z.strictObject({ token: z.string().min(1).max(512) }),
  z.strictObject({ user: z.string().min(1).max(200), password: z.string().min(1).max(1024) }),
]);

export interface AuthOptions {
  gate: Gatekeeper;
  /** Where sessions are kept across restarts (in memory only when absent). */
  sessionsFile?: string | undefined;
  log?: (line: string) => void;
  now?: () => number;
}

export interface Auth {
  sessions: SessionStore;
  /** The onRequest hook of every route that needs a signed-in caller. */
  guard(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
}

const deny = (reply: FastifyReply, status: 401 | 403, message: string): FastifyReply => {
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(status).send({ code: status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message });
};

/** Registers `/api/login`, `/api/logout` and `/api/session` and returns the guard for the rest. */
export function registerAuth(app: FastifyInstance, options: AuthOptions): Auth {
  const now = options.now ?? Date.now;
  const sessions = new SessionStore({ now, ...(options.sessionsFile !== undefined && { file: options.sessionsFile }), ...(options.log && { log: options.log }) });
  const limiter = new LoginLimiter(now);
  const sweeper = setInterval(() => sessions.sweep(), 60_000);
  sweeper.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    sessions.close();
  });

  const cookie = (req: FastifyRequest, value: string, clear: boolean): string =>
    `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/${clear ? '; Max-Age=0' : ''}${req.protocol === 'https' ? '; Secure' : ''}`;
  const csrfOk = (req: FastifyRequest, session: Session): boolean => {
    const given = req.headers['x-csrf-token'];
    return typeof given === 'string' && tokenMatches(given, session.csrf);
  };

  const lockedOut = (req: FastifyRequest, reply: FastifyReply): FastifyReply | null => {
    const wait = limiter.retryAfter(req.ip);
    if (wait === 0) return null;
    const seconds = Math.ceil(wait / 1000);
    return reply.code(429).header('retry-after', String(seconds)).send({ code: 'RATE_LIMITED', message: `too many failed sign-ins from ${req.ip}; try again in ${seconds} s` });
  };

  /** A token's principal as a client of this API: a job's token is for the TCP port only. */
  const clientOf = (given: string | undefined): Principal | null => {
    const who = options.gate.authenticate(given);
    return who?.kind === 'job' ? null : who;
  };

  app.post('/api/login', { bodyLimit: 8 * 1024 }, async (req, reply) => {
    const body = parseWith(LoginSchema, req.body, 'sign-in (send JSON {token} or {user, password})');
    let who: Principal | null = null;
    let message = 'wrong token';
    if ('token' in body) {
      who = clientOf(body.token);
      if (who === null && lockedOut(req, reply)) return reply;
    } else if (lockedOut(req, reply)) {
      return reply;
    } else if (!options.gate.hasUsers) {
      message = 'this master has no dashboard users (add one with titan user add, or start it with --ui-user and --ui-password-file); sign in with the cluster token';
    } else {
      who = await options.gate.signIn(body.user, body.password);
      message = 'wrong user or password';
    }
    if (who === null) {
      limiter.fail(req.ip);
      return deny(reply, 401, message);
    }
    limiter.succeed(req.ip);
    const previous = cookieOf(req, SESSION_COOKIE);
    if (previous !== undefined) sessions.end(previous);
    const session = sessions.create(who);
    reply.header('set-cookie', cookie(req, session.id, false));
    return { user: session.user, csrf: session.csrf, permissions: who.permissions } satisfies SessionInfo;
  });

  app.post('/api/logout', async (req, reply) => {
    const session = sessions.use(cookieOf(req, SESSION_COOKIE));
    if (session) {
      if (!csrfOk(req, session)) return deny(reply, 403, 'signing out needs the X-CSRF-Token header (GET /api/session returns it)');
      sessions.end(session.id);
    }
    return reply.code(204).header('set-cookie', cookie(req, '', true)).send();
  });

  app.get('/api/session', async (req, reply) => {
    const session = sessions.use(cookieOf(req, SESSION_COOKIE));
    if (!session) return deny(reply, 401, 'not signed in (POST /api/login)');
    return { user: session.user, csrf: session.csrf, permissions: session.who.permissions } satisfies SessionInfo;
  });

  // Answering from an async hook: send, then return the reply so that the handler does not run.
  const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const who = clientOf(header.startsWith('Bearer ') ? header.slice(7) : undefined);
      if (who === null) {
        if (lockedOut(req, reply)) return reply;
        limiter.fail(req.ip);
        return deny(reply, 401, 'wrong, revoked or expired token: send the cluster token or a named one as "Authorization: Bearer <token>"');
      }
      setPrincipal(req, who);
      return undefined;
    }
    const session = sessions.use(cookieOf(req, SESSION_COOKIE));
    if (!session) return deny(reply, 401, 'sign in (POST /api/login) or send the cluster token as "Authorization: Bearer <token>"');
    const revoked = options.gate.revoked(session.who);
    if (revoked !== null) {
      sessions.end(session.id);
      return deny(reply, 401, `${revoked}: sign in again`);
    }
    if (!SAFE_METHODS.has(req.method) && !csrfOk(req, session)) {
      return deny(reply, 403, `${req.method} with a session cookie needs the X-CSRF-Token header (GET /api/session returns it)`);
    }
    setPrincipal(req, session.who, session.id);
    return undefined;
  };

  return { sessions, guard };
}
