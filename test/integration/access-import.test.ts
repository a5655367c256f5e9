/**
 * A master whose data directory holds the files where the audit log and named identities lived
 * before they moved into the store (`audit.log`, `identities.json`), as a real process on SQLite:
 * at its first start it imports them and renames each `*.imported`; its tokens and users sign in
 * and its entries are listed, oldest first in the numbering; a restart imports nothing again.
 */
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/protocol/access-methods.js';
import { TitanClient } from '../../src/sdk/client.js';
import { Cluster, kill } from '../helpers/cluster.js';

const PASSWORD = 'a long enough dashboard password';
let cluster: Cluster | null = null;
const clients: TitanClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await cluster?.stop();
  cluster = null;
});

/** The files a master of the previous layout left, with one token, one user and three audit lines (the first cut by a crash). */
function previousLayout(dataDir: string): { token: string } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16);
  const identities = {
    tokens: [{ id, name: 'old-bot', roles: ['operator'], hash: createHash('sha256').update(secret).digest('hex'), createdAt: 1_700_000_000_000, createdBy: 'cluster-token', expiresAt: null }],
    users: [{ name: 'olga', roles: ['read'], salt: salt.toString('hex'), hash: scryptSync(PASSWORD, salt, 32, { N: 16384, r: 8, p: 1 }).toString('hex'), createdAt: 1_700_000_000_000, createdBy: 'cluster-token' }],
  };
  writeFileSync(join(dataDir, 'identities.json'), JSON.stringify(identities), { mode: 0o600 });
  const entry = (seq: number, action: string, target: string): string => JSON.stringify({ seq, at: 1_700_000_000_000 + seq, who: 'cluster-token', kind: 'cluster', via: 'tcp', from: '127.0.0.1', action, target, ok: true });
  const lines = [entry(1, 'token.create', 'old-bot'), entry(2, 'user.add', 'olga'), entry(3, 'run.cancel', 'r-old'), '{"seq":4,"at":17000'];
  writeFileSync(join(dataDir, 'audit.log'), `${lines.join('\n')}\n`, { mode: 0o600 });
  return { token: `tok.${id}.${secret}` };
}

const imported = (entries: AuditEntry[]): string[] => entries.filter((e) => e.at < 1_700_000_001_000).map((e) => `${e.action} ${e.target}`);

it('imports audit.log and identities.json once at the first start, renaming each *.imported', { timeout: 90_000 }, async () => {
  const c = new Cluster();
  cluster = c;
  const dataDir = join(c.dir, 'data');
  const { token } = previousLayout(dataDir);
  await c.startMaster();
  expect(c.master?.output()).toMatch(/imported 2 named token\(s\) and user\(s\) from .*identities\.json into the store/);
  expect(c.master?.output()).toMatch(/imported 3 audit entries from .*audit\.log into the store/);
  for (const name of ['identities.json', 'audit.log']) {
    expect(existsSync(join(dataDir, name)), name).toBe(false);
    expect(statSync(join(dataDir, `${name}.imported`)).mode & 0o777).toBe(0o600);
  }

  const asBot = new TitanClient({ host: '127.0.0.1', port: c.port, token });
  clients.push(asBot);
  expect(await asBot.call('whoami', {})).toMatchObject({ name: 'old-bot', kind: 'token', permissions: ['read', 'operate'] });
  const login = await fetch(`http://127.0.0.1:${c.httpPort}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'olga', password: PASSWORD }) });
  expect(login.status).toBe(200);
  const admin = c.client();
  const first = (await admin.call('audit.list', { limit: 100 })).entries;
  // Newest first, as they were in the file.
  expect(imported(first)).toEqual(['run.cancel r-old', 'user.add olga', 'token.create old-bot']);

  // A restart finds the files imported: nothing is added twice.
  await kill(c.master ?? expect.unreachable('no master'), 'SIGTERM');
  await c.startMaster();
  expect(c.master?.output()).not.toMatch(/imported/);
  const again = c.client();
  expect(imported((await again.call('audit.list', { limit: 100 })).entries)).toEqual(imported(first));
  expect((await again.call('token.list', {})).tokens.map((t) => t.name)).toEqual(['old-bot']);
  expect((await again.call('user.list', {})).users.map((u) => u.name)).toEqual(['olga']);
});
