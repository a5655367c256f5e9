import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SESSION_MAX_AGE_MS, SESSION_TTL_MS, SessionStore } from './http-sessions.js';
import type { Principal } from '../protocol/roles.js';

const dir = mkdtempSync(join(tmpdir(), 'titan-sessions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const user = (name: string): Principal => ({ name, kind: 'user', permissions: ['read'] });

describe('SessionStore', () => {
  it('creates random sessions whose expiry slides with each use, and forgets expired ones', () => {
    let now = 1_000;
    const store = new SessionStore({ now: () => now });
    const a = store.create(user('ana'));
    const b = store.create(user('bo'));
    expect(a.id).toMatch(/^[0-9a-f]{64}$/);
    expect(a.csrf).toMatch(/^[0-9a-f]{64}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.csrf).not.toBe(a.id);
    now += SESSION_TTL_MS - 1;
    expect(store.use(a.id)?.user).toBe('ana');
    now += SESSION_TTL_MS - 1;
    // Used just in time: still alive, 24 h after it was created.
    expect(store.use(a.id)?.user).toBe('ana');
    expect(store.use(b.id)).toBeNull();
    expect(store.use(undefined)).toBeNull();
    expect(store.use('nope')).toBeNull();
    now += SESSION_TTL_MS;
    store.sweep();
    expect(store.size).toBe(0);
  });

  it('tells listeners when a session ends, once, and evicts the least recently used beyond its limit', () => {
    const store = new SessionStore({ max: 2 });
    const a = store.create(user('a'));
    let ended = 0;
    store.onEnd(a.id, () => ended++);
    const stopped = store.onEnd(a.id, () => ended += 100);
    stopped();
    const b = store.create(user('b'));
    store.use(a.id);
    store.create(user('c'));
    // b was the least recently used.
    expect(store.use(b.id)).toBeNull();
    expect(store.use(a.id)).not.toBeNull();
    store.end(a.id);
    store.end(a.id);
    expect(ended).toBe(1);
    expect(store.size).toBe(1);
  });
});

describe('SessionStore across restarts', () => {
  it('keeps sessions in a 0600 file holding only hashes of their ids, and a new store (a restarted master) knows them', () => {
    const file = join(dir, 'sessions.json');
    let now = 1_000;
    const before = new SessionStore({ now: () => now, file });
    const a = before.create(user('ana'));
    const gone = before.create(user('bo'));
    before.end(gone.id);
    before.close();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(a.id);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    now += 60_000;
    const after = new SessionStore({ now: () => now, file });
    expect(after.use(a.id)).toMatchObject({ id: a.id, user: 'ana', csrf: a.csrf });
    expect(after.use(gone.id)).toBeNull();
    expect(after.use('0'.repeat(64))).toBeNull();
  });

  it('ends a session 7 days after sign-in however busy it was', () => {
    let now = 0;
    const store = new SessionStore({ now: () => now });
    const s = store.create(user('ana'));
    while (now + SESSION_TTL_MS / 2 < SESSION_MAX_AGE_MS) {
      now += SESSION_TTL_MS / 2;
      expect(store.use(s.id)).not.toBeNull();
    }
    now = SESSION_MAX_AGE_MS;
    expect(store.use(s.id)).toBeNull();
  });

  it('starts with no sessions, and says so, when the file is damaged', () => {
    const file = join(dir, 'damaged.json');
    writeFileSync(file, '{"sessions": [{"hash": 1}]');
    const lines: string[] = [];
    const store = new SessionStore({ file, log: (l) => lines.push(l) });
    expect(store.size).toBe(0);
    expect(lines.join('\n')).toMatch(/damaged\.json are unreadable .*everyone signs in again/);
  });
});
