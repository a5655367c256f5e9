/**
 * Dashboard sessions against a real master: one signed in before a restart is still signed in
 * after it (same CSRF token), kept in a 0600 file that holds no cookie value; one signed out
 * before the restart stays out; plain HTTP sends no HSTS.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.js';
import { killNine } from '../helpers/faults.js';

describe('dashboard sessions', () => {
  const cluster = new Cluster();
  afterAll(() => cluster.stop());

  const base = (): string => `http://127.0.0.1:${cluster.httpPort}`;
  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const res = await fetch(`${base()}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: cluster.token }) });
    expect(res.status).toBe(200);
    const cookie = /^(titan_session=[0-9a-f]{64})/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? expect.unreachable('no cookie');
    return { cookie, csrf: ((await res.json()) as { csrf: string }).csrf };
  }
  const session = (cookie: string): Promise<Response> => fetch(`${base()}/api/session`, { headers: { cookie } });

  it('survive a master restart, even a kill -9, and a signed-out one stays out', async () => {
    await cluster.startMaster();
    const kept = await signIn();
    const out = await signIn();
    const logout = await fetch(`${base()}/api/logout`, { method: 'POST', headers: { cookie: out.cookie, 'x-csrf-token': out.csrf } });
    expect(logout.status).toBe(204);
    expect(logout.headers.get('strict-transport-security')).toBeNull();
    // Written shortly after the change.
    await new Promise((r) => setTimeout(r, 1_500));
    await killNine((cluster.master ?? expect.unreachable('no master')).child);
    await cluster.startMaster();
    const after = await session(kept.cookie);
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ user: 'cluster-token', csrf: kept.csrf, permissions: ['read', 'operate', 'approve', 'admin'] });
    expect((await session(out.cookie)).status).toBe(401);
    const file = join(cluster.dir, 'data', 'sessions.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain(kept.cookie.split('=')[1]);
  });
});
