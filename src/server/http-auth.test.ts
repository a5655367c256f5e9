import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { cookieOf, LoginLimiter, registerAuth } from './http-auth.js';
import { AuditLog } from './audit-log.js';
import { Gatekeeper } from './gatekeeper.js';
import { principalOf, sessionIdOf } from './http-common.js';
import { Identities } from './identities.js';
import { SqliteStore } from '../store/sqlite-store.js';

describe('LoginLimiter', () => {
  it('allows 10 failures a minute per address, and forgets them after a success', () => {
    let now = 0;
    const limiter = new LoginLimiter(() => now);
    for (let i = 0; i < 9; i++) limiter.fail('1.1.1.1');
    expect(limiter.retryAfter('1.1.1.1')).toBe(0);
    now = 10_000;
    limiter.fail('1.1.1.1');
    expect(limiter.retryAfter('1.1.1.1')).toBe(50_000);
    expect(limiter.retryAfter('2.2.2.2')).toBe(0);
    now = 60_001;
    // The first nine left the window; the tenth is alone.
    expect(limiter.retryAfter('1.1.1.1')).toBe(0);
    for (let i = 0; i < 9; i++) limiter.fail('1.1.1.1');
    expect(limiter.retryAfter('1.1.1.1')).toBeGreaterThan(0);
    limiter.succeed('1.1.1.1');
    expect(limiter.retryAfter('1.1.1.1')).toBe(0);
  });
});

describe('the auth routes and guard', () => {
  let app: FastifyInstance;
  let store: SqliteStore;
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  const build = (login?: { user: string; password: string }, trustProxy = false): FastifyInstance => {
    app = Fastify({ trustProxy });
    store = SqliteStore.open(':memory:');
    const auth = registerAuth(app, { gate: new Gatekeeper('the-token', new Identities(store), new AuditLog(store), login) });
    void app.register(async (api) => {
      api.addHook('onRequest', auth.guard);
      api.get('/api/who', async (req) => ({ name: principalOf(req).name, session: sessionIdOf(req) !== undefined }));
      api.post('/api/change', async (req) => ({ by: principalOf(req).name }));
    });
    return app;
  };

  const cookieFrom = (setCookie: string | string[] | number | undefined): string => /^(titan_session=[0-9a-f]{64})/.exec(String(setCookie))?.[1] ?? '';

  it('signs in with the token or the password and guards by bearer token or cookie plus CSRF token', async () => {
    build({ user: 'ana', password: 'pw' });
    const byToken = await app.inject({ method: 'POST', url: '/api/login', payload: { token: 'the-token' } });
    expect(byToken.statusCode).toBe(200);
    expect(byToken.headers['set-cookie']).toMatch(/^titan_session=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/$/);
    const byPassword = await app.inject({ method: 'POST', url: '/api/login', payload: { user: 'ana', password: 'pw' } });
    const { user, csrf } = byPassword.json<{ user: string; csrf: string }>();
    expect(user).toBe('ana');
    const cookie = cookieFrom(byPassword.headers['set-cookie']);

    expect((await app.inject({ url: '/api/who', headers: { cookie } })).json()).toEqual({ name: 'ana', session: true });
    expect((await app.inject({ url: '/api/who', headers: { authorization: 'Bearer the-token' } })).json()).toEqual({ name: 'cluster-token', session: false });
    expect((await app.inject({ url: '/api/who', headers: { authorization: 'Bearer nope', cookie } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/who', headers: { authorization: 'Basic x' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/who' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/change', headers: { cookie } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/api/change', headers: { cookie, 'x-csrf-token': csrf } })).json()).toEqual({ by: 'ana' });
    expect((await app.inject({ method: 'POST', url: '/api/change', headers: { authorization: 'Bearer the-token' } })).json()).toEqual({ by: 'cluster-token' });
    // Several cookies in one header.
    expect((await app.inject({ url: '/api/who', headers: { cookie: `a=b; ${cookie}; c=d` } })).statusCode).toBe(200);

    // Signing in again with the cookie ends the old session.
    const again = await app.inject({ method: 'POST', url: '/api/login', payload: { token: 'the-token' }, headers: { cookie } });
    expect(again.statusCode).toBe(200);
    expect((await app.inject({ url: '/api/who', headers: { cookie } })).statusCode).toBe(401);
  });

  it('counts wrong bearer tokens toward the sign-in limit, never checks a password while locked out, and never locks out the right token', async () => {
    build({ user: 'ana', password: 'pw' });
    for (let i = 0; i < 10; i++) expect((await app.inject({ url: '/api/who', headers: { authorization: `Bearer guess-${i}` } })).statusCode).toBe(401);
    const locked = await app.inject({ url: '/api/who', headers: { authorization: 'Bearer guess-10' } });
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password is not looked at now.
    expect((await app.inject({ method: 'POST', url: '/api/login', payload: { user: 'ana', password: 'pw' } })).statusCode).toBe(429);
    expect((await app.inject({ method: 'POST', url: '/api/login', payload: { token: 'wrong' } })).statusCode).toBe(429);
    // The cluster token cannot be guessed, so it always gets in.
    expect((await app.inject({ url: '/api/who', headers: { authorization: 'Bearer the-token' } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/login', payload: { token: 'the-token' } })).statusCode).toBe(200);
  });

  it('refuses password sign-in when no user is configured', async () => {
    build();
    const res = await app.inject({ method: 'POST', url: '/api/login', payload: { user: 'ana', password: 'pw' } });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ message: string }>().message).toMatch(/--ui-user/);
    // Without a trusted proxy a forwarded protocol is ignored: this request came over plain HTTP.
    const plain = await app.inject({ method: 'POST', url: '/api/login', payload: { token: 'the-token' }, headers: { 'x-forwarded-proto': 'https' } });
    expect(plain.headers['set-cookie']).not.toMatch(/Secure/);
  });

  it('marks the cookie Secure when the request came over TLS', async () => {
    // A trusted proxy's x-forwarded-proto stands in for a TLS socket here (both make req.protocol "https").
    build(undefined, true);
    const res = await app.inject({ method: 'POST', url: '/api/login', payload: { token: 'the-token' }, headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers['set-cookie']).toMatch(/; Secure$/);
    const out = await app.inject({ method: 'POST', url: '/api/logout', headers: { 'x-forwarded-proto': 'https' } });
    expect(out.headers['set-cookie']).toMatch(/Max-Age=0; Secure$/);
  });
});

describe('cookieOf', () => {
  it('finds one cookie among several', () => {
    const req = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as Parameters<typeof cookieOf>[0];
    expect(cookieOf(req('a=1; titan_session=abc; b=2'), 'titan_session')).toBe('abc');
    expect(cookieOf(req('xtitan_session=abc'), 'titan_session')).toBeUndefined();
    expect(cookieOf(req(), 'titan_session')).toBeUndefined();
    expect(cookieOf(req('novalue; titan_session=x=y'), 'titan_session')).toBe('x=y');
  });
});
