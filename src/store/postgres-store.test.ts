/**
 * What is specific to the PostgreSQL store, on a private server: its URL, migrations at open (and
 * several masters opening at once), the leader lease and fencing, a retried batch applied once,
 * and an unreachable server. The behaviour every store shares is in store.test.ts. In CI these
 * tests are required: without PostgreSQL they fail instead of being skipped.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, postgresAvailable, PostgresServer } from '../../test/helpers/postgres.js';
import { freePort } from '../../test/helpers/scripts.js';
import { attempt, batch, job, run, schedule, submit } from '../../test/helpers/store-fixtures.js';
import { FencedError, type MasterAddress } from './lease.js';
import { PostgresStore } from './postgres-store.js';
import { parsePostgresUrl } from './postgres-url.js';
import { PG_MIGRATIONS } from './postgres-migrations/index.js';
import { StoreOpenError, StoreUnavailableError } from './store.js';

const available = postgresAvailable('PostgresStore');

describe('parsePostgresUrl', () => {
  it('names the server without its password', () => {
    expect(parsePostgresUrl('postgres://titan:s%40cret@db.example.com:6543/jobs?sslmode=require')).toMatchObject({ display: 'postgres://titan@db.example.com:6543/jobs', password: 's@cret' });
    expect(parsePostgresUrl('postgresql://db/titan').display).toBe('postgres://db:5432/titan');
  });

  it.each([
    ['mysql://localhost/titan', /postgres:\/\/ or postgresql:\/\//],
    ['postgres://localhost', /must name one database/],
    ['not a url', /looks like postgres:\/\//],
  ])('refuses %s', (url, message) => {
    expect(() => parsePostgresUrl(url)).toThrow(message);
  });
});

const address = (id: string): MasterAddress => ({ id, tcp: `10.0.0.${id.length}:9090`, http: `http://10.0.0.${id.length}:5000` });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(available)('PostgresStore', () => {
  let server: PostgresServer;
  const stores: PostgresStore[] = [];

  /** A fresh database on the private server. */
  const freshUrl = async (): Promise<string> => server.urlOf(await freshDatabase(server));
  const open = async (url: string): Promise<PostgresStore> => {
    const s = await PostgresStore.open(url);
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    server = await PostgresServer.start();
  }, 90_000);

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await server.start(); // a test may have stopped it
  }, 60_000);

  afterAll(async () => {
    await server?.remove();
  }, 60_000);

  it('applies its migrations at open, once however many masters open the database at once', async () => {
    const url = await freshUrl();
    const all = await Promise.all([1, 2, 3, 4].map(() => open(url)));
    await submit(all[0] as PostgresStore, run('r1', 1_000), ['a']);
    expect(await (all[3] as PostgresStore).getRunJobs('r1')).toHaveLength(1);
    const db = url.slice(url.lastIndexOf('/') + 1);
    expect((await server.query(db, 'SELECT version, name FROM schema_migrations ORDER BY version')).map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
  });

  it('refuses to open a database whose schema is newer than this build', async () => {
    const url = await freshUrl();
    await (await open(url)).close();
    const db = url.slice(url.lastIndexOf('/') + 1);
    await server.query(db, "INSERT INTO schema_migrations (version, name) VALUES (99, 'future')");
    const err = await PostgresStore.open(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreOpenError);
    expect((err as Error).message).toMatch(/schema version 99 is newer than this build supports/);
  });

  it('applies a batch retried with the same id once', async () => {
    const store = await open(await freshUrl());
    await submit(store, run('r1', 1_000), ['a']);
    const b = batch({ newJobs: [job('r1', 'b')], attempts: [attempt('r1', 'a', 1)], decisions: [{ runId: 'r1', jobId: 'a', approved: true, by: 'ann', comment: null, at: 5, reason: 'decided' }] });
    b.id = 'batch-1';
    await store.commit(b);
    await store.commit(b); // its reply was lost: the committer tries again
    expect((await store.getRunJobs('r1')).map((j) => j.spec.id)).toEqual(['a', 'b']);
    expect(await store.listDecisions(10)).toHaveLength(1);
    // Without an id the same batch is a new one, and fails on the job it inserts again.
    await expect(store.commit({ ...b, id: undefined })).rejects.toThrow(/new jobs of r1: duplicate key/);
  });

  it('leases leadership by the server clock: one holder, renewals, expiry, release, rising epochs', async () => {
    const url = await freshUrl();
    const a = await open(url);
    const b = await open(url);
    const [me, other] = [address('a'), address('bb')];
    expect(await a.lease.current()).toBeNull();

    const first = await a.lease.acquire(me, 3_000);
    expect(first).toEqual({ acquired: true, epoch: 1 });
    const refused = await b.lease.acquire(other, 3_000);
    expect(refused.acquired).toBe(false);
    if (refused.acquired) throw new Error('unreachable');
    expect(refused.current).toMatchObject({ holder: me, epoch: 1 });
    expect(refused.current?.expiresInMs).toBeGreaterThan(0);
    expect(refused.current?.expiresInMs).toBeLessThanOrEqual(3_000);

    expect(await a.lease.renew(me, 1, 400)).toBe(true);
    expect(await a.lease.renew(me, 2, 400)).toBe(false);
    expect(await b.lease.renew(other, 1, 400)).toBe(false);
    await sleep(600);
    expect(await b.lease.current()).toBeNull();
    const second = await b.lease.acquire(other, 3_000);
    expect(second).toEqual({ acquired: true, epoch: 2 });
    // The old holder lost it: it can neither renew nor release its successor's lease.
    expect(await a.lease.renew(me, 1, 3_000)).toBe(false);
    await a.lease.release(me, 1);
    expect((await a.lease.current())?.holder).toEqual(other);

    await b.lease.release(other, 2);
    expect(await a.lease.current()).toBeNull();
    expect(await a.lease.acquire(me, 3_000)).toEqual({ acquired: true, epoch: 3 });
  });

  it('refuses every write of a deposed leader once another master took the lease, and changes nothing', async () => {
    const url = await freshUrl();
    const old = await open(url);
    const next = await open(url);
    const won = await old.lease.acquire(address('old'), 300);
    if (!won.acquired) throw new Error('the lease was free');
    old.lease.fence(won.epoch);
    await submit(old, run('r1', 1_000), ['a']);
    expect((await old.kvApply([{ op: 'set', key: 'k', value: 'before', ttlMs: null }], 1_000))[0]).toMatchObject({ ok: true });

    await sleep(500);
    const taken = await next.lease.acquire(address('next'), 3_000);
    if (!taken.acquired) throw new Error('the lease did not expire');
    next.lease.fence(taken.epoch);

    const commit = old.commit(batch({ runs: [run('r1', 1_000, 'COMPLETED', { finishedAt: 2_000 })], newJobs: [job('r1', 'b')] }));
    await expect(commit).rejects.toBeInstanceOf(FencedError);
    await expect(commit).rejects.toMatchObject({ code: 'NOT_LEADER' });
    await expect(old.kvApply([{ op: 'set', key: 'k', value: 'after', ttlMs: null }], 2_000)).rejects.toBeInstanceOf(FencedError);
    await expect(old.setMeta('m', 'x')).rejects.toBeInstanceOf(FencedError);
    await expect(old.deleteRun('r1')).rejects.toBeInstanceOf(FencedError);
    await expect(old.putSchedule(schedule('nightly'))).rejects.toBeInstanceOf(FencedError);
    await expect(old.artifactPut({ key: 'report', sha256: 'a'.repeat(64), size: 1, runId: null, jobId: null, attempt: null, createdAt: 1 })).rejects.toBeInstanceOf(FencedError);
    const entry = { at: 2_000, who: 'ana', kind: 'token', via: 'tcp', from: '127.0.0.1', action: 'token.create', target: 'ci', ok: true };
    await expect(old.auditAppend({ id: 'late', entries: [entry], keep: 100 })).rejects.toBeInstanceOf(FencedError);
    await expect(old.identityAdd({ kind: 'token', name: 'ci', body: '{}' })).rejects.toBeInstanceOf(FencedError);

    expect((await next.getRun('r1'))?.status).toBe('RUNNING');
    expect((await next.getRunJobs('r1')).map((j) => j.spec.id)).toEqual(['a']);
    expect((await next.kvGet('k', 2_000))?.value).toBe('before');
    expect(await next.getMeta('m')).toBeNull();
    expect(await next.listSchedules()).toEqual([]);
    expect(await next.artifactGet('report')).toBeNull();
    expect(await next.auditList(10)).toEqual([]);
    expect(await next.identityList()).toEqual([]);
    // The new leader writes.
    await next.commit(batch({ runs: [run('r1', 1_000, 'COMPLETED', { finishedAt: 2_000 })] }));
    expect((await old.getRun('r1'))?.status).toBe('COMPLETED');
  });

  it('records which masters are up, by the server clock: each sees the others until their presence expires', async () => {
    const url = await freshUrl();
    const a = await open(url);
    const b = await open(url);
    const [me, other, third] = [address('a'), address('bb'), address('ccc')];
    expect(await a.lease.heartbeat(me, 3_000)).toEqual([]);
    expect(await b.lease.heartbeat(other, 400)).toEqual([me]);
    // A master fenced by a lease it no longer holds still says it is up: presence is no leader's write.
    a.lease.fence(7);
    expect(await a.lease.heartbeat({ ...me, tcp: '10.0.0.9:9090' }, 3_000)).toEqual([other]);
    expect(await b.lease.heartbeat(third, 3_000)).toEqual([{ ...me, tcp: '10.0.0.9:9090' }, other]);
    await sleep(600);
    expect(await a.lease.heartbeat(me, 3_000)).toEqual([third]);
    // An expired presence is deleted, not only hidden.
    expect(await a.lease.heartbeat(me, 3_000)).toEqual([third]);
    expect((await server.query(new URL(url).pathname.slice(1), 'SELECT id FROM master_presence ORDER BY id')).map((r) => r.id)).toEqual(['a', 'ccc']);
  });

  it('fails with StoreUnavailableError naming the server, without its password, when it cannot be reached', async () => {
    const port = await freePort();
    const err = await PostgresStore.open(`postgres://titan:hunter2@127.0.0.1:${port}/titan`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot reach the PostgreSQL store at postgres://titan@127\\.0\\.0\\.1:${port}/titan: .*ECONNREFUSED`));
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('fails calls with StoreUnavailableError while the server is down, and a held batch goes through once it is back', { timeout: 90_000 }, async () => {
    const lines: string[] = [];
    const store = await PostgresStore.open(await freshUrl(), { log: (l) => lines.push(l) });
    stores.push(store);
    await submit(store, run('r1', 1_000), ['a']);
    await server.stop();

    const held = { ...batch({ jobs: [job('r1', 'a', { status: 'RUNNING', attempt: 1 })], attempts: [attempt('r1', 'a', 1)] }), id: 'held-1' };
    await expect(store.commit(held)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.getRun('r1')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(store.unavailable()?.message).toMatch(/the PostgreSQL store at postgres:\/\/titan@127\.0\.0\.1:\d+\/t\d+ is unreachable/);
    expect(lines.join('\n')).toMatch(/lost the connection to the PostgreSQL store/);

    await server.start();
    await store.commit(held);
    await store.commit(held);
    expect(store.unavailable()).toBeNull();
    expect(await store.listAttempts('r1', 'a')).toHaveLength(1);
    expect((await store.getRunJobs('r1'))[0]?.status).toBe('RUNNING');
    expect(lines.join('\n')).toMatch(/reconnected to the PostgreSQL store/);
  });
});
