/**
 * Named tokens, dashboard users and the audit log on two masters sharing a PostgreSQL store, as
 * real processes: what the leader created and recorded is in the store, so after it is killed -9
 * the master that takes over accepts its tokens and users and lists its audit entries. Required in
 * CI like the other PostgreSQL tests.
 */
import { afterEach, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/protocol/access-methods.js';
import { TitanClient } from '../../src/sdk/client.js';
import { killNine } from '../helpers/faults.js';
import { leadsWithin, type TwoMasters, twoMasters } from '../helpers/ha.js';
import { describeOnPostgres, freshDatabase } from '../helpers/postgres.js';
import { refusal } from '../helpers/scripts.js';

const PASSWORD = 'a long enough dashboard password';

let pair: TwoMasters | null = null;
const clients: TitanClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await pair?.stop();
  pair = null;
});

const client = (port: number, token: string): TitanClient => {
  const c = new TitanClient({ host: '127.0.0.1', port, token });
  clients.push(c);
  return c;
};

const signIn = (httpPort: number, body: Record<string, string>): Promise<Response> =>
  fetch(`http://127.0.0.1:${httpPort}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const mine = (entries: AuditEntry[]): Pick<AuditEntry, 'seq' | 'who' | 'action' | 'target' | 'ok'>[] =>
  entries.filter((e) => ['token.create', 'user.add'].includes(e.action)).map(({ seq, who, action, target, ok }) => ({ seq, who, action, target, ok }));

describeOnPostgres('identities and the audit log on masters sharing a PostgreSQL store', (server) => {
  it('a master that takes over accepts the tokens and users its predecessor created and lists its audit entries', { timeout: 120_000 }, async () => {
    const db = await freshDatabase(server());
    pair = await twoMasters(server().urlOf(db));
    const { c, tcp, http } = pair;

    const admin = client(c.port, c.token);
    const { token } = await admin.call('token.create', { name: 'ci-bot', roles: ['operator'], expiresAt: null });
    await admin.call('user.add', { name: 'dana', roles: ['read'], password: PASSWORD });
    expect(await client(c.port, token).call('whoami', {})).toMatchObject({ name: 'ci-bot', kind: 'token' });
    // Listing waits for what was recorded before it: the entries are in the store once listed.
    const before = mine((await admin.call('audit.list', { limit: 100 })).entries);
    expect(before.map(({ who, action, target, ok }) => [who, action, target, ok])).toEqual([
      ['cluster-token', 'user.add', 'dana', true],
      ['cluster-token', 'token.create', 'ci-bot', true],
    ]);
    expect(await server().query(db, 'SELECT kind, name FROM identities ORDER BY kind, name')).toEqual([
      { kind: 'token', name: 'ci-bot' },
      { kind: 'user', name: 'dana' },
    ]);

    const killed = Date.now();
    await killNine((c.master ?? expect.unreachable('no master')).child);
    await leadsWithin(http, killed, 10_000);

    // The new leader knows the token and the user it never saw created.
    expect(await client(tcp, token).call('whoami', {})).toMatchObject({ name: 'ci-bot', kind: 'token', permissions: ['read', 'operate'] });
    const signedIn = await signIn(http, { user: 'dana', password: PASSWORD });
    expect(signedIn.status, await signedIn.clone().text()).toBe(200);
    expect(await signedIn.json()).toMatchObject({ user: 'dana', permissions: ['read'] });
    expect((await signIn(http, { user: 'dana', password: 'not the password at all' })).status).toBe(401);

    // Its audit log is the old leader's, numbered on from it.
    const newAdmin = client(tcp, c.token);
    expect((await newAdmin.call('token.list', {})).tokens.map((t) => t.name)).toEqual(['ci-bot']);
    await newAdmin.call('token.revoke', { name: 'ci-bot' });
    const after = (await newAdmin.call('audit.list', { limit: 100 })).entries;
    expect(after[0]).toMatchObject({ who: 'cluster-token', action: 'token.revoke', target: 'ci-bot', ok: true });
    expect(after[0]?.seq).toBeGreaterThan(before[0]?.seq ?? Infinity);
    expect(mine(after)).toEqual(before);
    expect(await server().query(db, "SELECT name FROM identities WHERE kind = 'token'")).toEqual([]);
    expect((await refusal(client(tcp, token).call('whoami', {}))).code).toBe('UNAUTHORIZED');
  });
});
