import { afterEach, describe, expect, it } from 'vitest';
import type { AccessStore } from '../store/access-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { Identities } from './identities.js';

const PASSWORD = 'a long enough dashboard password';
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});
const memoryStore = (): SqliteStore => {
  const s = SqliteStore.open(':memory:');
  stores.push(s);
  return s;
};

describe('Identities', () => {
  it('writes tokens and users to the store before answering, so another master loading it knows them', async () => {
    const store = memoryStore();
    const here = new Identities(store);
    const { token } = await here.createToken('ci', ['operator'], null, 'admin');
    await here.addUser('dana', ['read'], PASSWORD, 'admin');
    const rows = await store.identityList();
    expect(rows.map((r) => [r.kind, r.name])).toEqual([
      ['token', 'ci'],
      ['user', 'dana'],
    ]);
    expect(rows.map((r) => r.body).join('')).not.toContain(token.split('.')[2]);
    expect(rows.map((r) => r.body).join('')).not.toContain(PASSWORD);

    const there = await Identities.load(store);
    expect(there.verifyToken(token)).toMatchObject({ name: 'ci', kind: 'token' });
    expect(await there.verifyPassword('dana', PASSWORD)).toMatchObject({ name: 'dana', kind: 'user' });
    await there.revokeToken('ci');
    await there.removeUser('dana');
    expect(await store.identityList()).toEqual([]);
    expect((await Identities.load(store)).listTokens()).toEqual([]);
  });

  it('changes nothing, in memory or in the store, when the store refuses the write', async () => {
    const store = memoryStore();
    const down: AccessStore = { ...bound(store), identityAdd: () => Promise.reject(new Error('the store is unreachable')), identityRemove: () => Promise.reject(new Error('the store is unreachable')) };
    const ids = new Identities(down);
    await expect(ids.createToken('ci', ['read'], null, 'admin')).rejects.toThrow(/unreachable/);
    await expect(ids.addUser('dana', ['read'], PASSWORD, 'admin')).rejects.toThrow(/unreachable/);
    expect(ids.listTokens()).toEqual([]);
    expect(ids.listUsers()).toEqual([]);

    const up = new Identities(store);
    const { token } = await up.createToken('ci', ['read'], null, 'admin');
    const loaded = new Identities(down, await store.identityList());
    await expect(loaded.revokeToken('ci')).rejects.toThrow(/unreachable/);
    expect(loaded.verifyToken(token)?.name).toBe('ci');
  });

  it('creates one token of a name when two creations race, and refuses a name the store already has', async () => {
    const store = memoryStore();
    const ids = new Identities(store);
    const outcomes = await Promise.allSettled([ids.createToken('ci', ['read'], null, 'a'), ids.createToken('ci', ['read'], null, 'b')]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    // Created meanwhile by another master: this one's memory did not know it, the store did.
    const other = new Identities(store, []);
    await expect(other.createToken('ci', ['read'], null, 'c')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(other.listTokens()).toEqual([]);
    expect((await store.identityList()).length).toBe(1);
  });

  it('refuses to load a damaged identity, naming it', async () => {
    const store = memoryStore();
    await store.identityAdd({ kind: 'token', name: 'ci', body: '{"id":"x"}' });
    await expect(Identities.load(store)).rejects.toThrow(/the token ci in the store is damaged/);
  });
});

/** The store's access methods, bound, to override some of them. */
function bound(store: AccessStore): AccessStore {
  return {
    auditAppend: (batch) => store.auditAppend(batch),
    auditList: (limit, before) => store.auditList(limit, before),
    identityList: () => store.identityList(),
    identityAdd: (identity) => store.identityAdd(identity),
    identityRemove: (kind, name) => store.identityRemove(kind, name),
  };
}
