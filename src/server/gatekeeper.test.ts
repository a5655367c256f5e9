import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite-store.js';
import { AuditLog } from './audit-log.js';
import { Gatekeeper } from './gatekeeper.js';
import { Identities } from './identities.js';

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});
const memoryStore = (): SqliteStore => {
  const s = SqliteStore.open(':memory:');
  stores.push(s);
  return s;
};
const newIdentities = (): Identities => new Identities(memoryStore());
const gateWith = (login?: { user: string; password: string }, identities = newIdentities()): Gatekeeper => new Gatekeeper('the-token', identities, new AuditLog(memoryStore()), login);

describe('Gatekeeper', () => {
  it("ends a --ui-user session once the master's --ui-user or its password changes", async () => {
    const who = await gateWith({ user: 'ana', password: 'first password' }).signIn('ana', 'first password');
    expect(who).toMatchObject({ name: 'ana', kind: 'user', permissions: ['read', 'operate', 'approve', 'admin'] });
    if (!who) throw new Error('not signed in');
    expect(gateWith({ user: 'ana', password: 'first password' }).revoked(who)).toBeNull();
    expect(gateWith({ user: 'ana', password: 'second password' }).revoked(who)).toMatch(/no longer the master's --ui-user/);
    expect(gateWith().revoked(who)).toMatch(/no longer the master's --ui-user/);
  });

  it('tells a watcher when a token is revoked or expires, and not after it stopped watching', async () => {
    const identities = newIdentities();
    const gate = gateWith(undefined, identities);
    const revoked = gate.authenticate((await identities.createToken('alice', ['operator'], null, 'test')).token);
    const expiring = gate.authenticate((await identities.createToken('bob', ['read'], Date.now() + 150, 'test')).token);
    const quiet = gate.authenticate((await identities.createToken('carol', ['read'], null, 'test')).token);
    if (!revoked || !expiring || !quiet) throw new Error('not authenticated');
    const told: string[] = [];
    gate.watch(revoked, (reason) => told.push(reason));
    gate.watch(expiring, (reason) => told.push(reason));
    const stop = gate.watch(quiet, (reason) => told.push(reason));
    stop();
    await identities.revokeToken('alice');
    await identities.revokeToken('carol');
    expect(told).toEqual(['the token alice was revoked']);
    await new Promise((r) => setTimeout(r, 300));
    expect(told).toEqual(['the token alice was revoked', 'the token bob has expired']);
  });

  it('refuses a named token with anything added to it', async () => {
    const identities = newIdentities();
    const { token } = await identities.createToken('dan', ['read'], null, 'test');
    expect(gateWith(undefined, identities).authenticate(token)?.name).toBe('dan');
    expect(gateWith(undefined, identities).authenticate(`${token}.x`)).toBeNull();
    expect(gateWith(undefined, identities).authenticate(token.slice(0, -1))).toBeNull();
  });
});
