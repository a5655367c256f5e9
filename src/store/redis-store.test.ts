/**
 * What is specific to the Redis store, on private redis-servers: Titan's key layout, the
 * durability check, idempotent retries and fencing of commits, a lost and regained connection,
 * AOF recovery, passwords. The behaviour every store shares is in store.test.ts. In CI the Redis
 * tests are required: without redis-server they fail instead of being skipped.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, redisServerBinary } from '../../test/helpers/redis.js';
import { attempt, batch, job, run, schedule, submit } from '../../test/helpers/store-fixtures.js';
import { RedisStore } from './redis-store.js';
import { parseRedisUrl } from './redis-url.js';
import { StoreUnavailableError } from './store.js';
import { FencedError, hasLease, type MasterAddress } from './lease.js';

const available = redisServerBinary() !== null;
const required = process.env.CI === 'true' || process.env.CI === '1';

if (!available && required) {
  describe('RedisStore', () => {
    it('runs in CI', () => {
      throw new Error('redis-server is not installed: the Redis store tests are required in CI (.ci/run installs redis-server)');
    });
  });
}

describe('parseRedisUrl', () => {
  it('reads host, port, database, credentials and TLS, and never shows the password', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6390/3')).toMatchObject({ host: '127.0.0.1', port: 6390, db: 3, tls: false, display: 'redis://127.0.0.1:6390/3' });
    const t = parseRedisUrl('rediss://titan:s%40cret@redis.example.com/0');
    expect(t).toMatchObject({ host: 'redis.example.com', port: 6379, db: 0, tls: true, username: 'titan', password: 's@cret' });
    expect(t.display).toBe('rediss://redis.example.com:6379/0');
    expect(parseRedisUrl('redis://:pw@[::1]:7000').display).toBe('redis://[::1]:7000/0');
    expect(parseRedisUrl('redis://:pw@[::1]:7000').host).toBe('::1');
  });

  it.each([
    ['http://localhost:6379', /redis:\/\/ or rediss:\/\//],
    ['redis://localhost:6379/zero', /database in the URL must be a number/],
    ['redis://localhost:6379/0?x=1', /no query/],
    ['not a url', /looks like redis:\/\//],
  ])('refuses %s', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
  });
});

describe.runIf(available)('RedisStore', () => {
  let server: RedisServer;
  const stores: RedisStore[] = [];
  const raw: Redis[] = [];

  const open = async (url = server.url, log?: (line: string) => void): Promise<RedisStore> => {
    const s = await RedisStore.open(url, log ? { log } : {});
    stores.push(s);
    return s;
  };
  const client = async (url = server.url): Promise<Redis> => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    await r.connect();
    raw.push(r);
    return r;
  };

  beforeAll(async () => {
    server = await RedisServer.start();
  }, 60_000);

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const r of raw.splice(0)) r.disconnect();
    await server.start(); // a test may have stopped it
    const r = await client();
    await r.flushall();
    r.disconnect();
  });

  afterAll(async () => {
    await server?.remove();
  });

  it('keeps the data bus where Titan kept it: user:<key> as a plain string or set', async () => {
    const store = await open();
    await store.kvApply(
      [
        { op: 'set', key: 'greeting', value: 'hello ✓', ttlMs: null },
        { op: 'set', key: 'titan:hitl:status:g1', value: 'WAITING', ttlMs: null },
        { op: 'sadd', key: 'titan:hitl:queue', members: ['g1', 'g2'] },
        { op: 'set', key: 'gone', value: 'x', ttlMs: null },
        { op: 'del', key: 'gone' },
        { op: 'incr', key: 'count', by: 41 },
        { op: 'incr', key: 'count', by: 1 },
      ],
      1_000,
    );
    const r = await client();
    expect(await r.get('user:greeting')).toBe('hello ✓');
    expect(await r.get('user:titan:hitl:status:g1')).toBe('WAITING');
    expect((await r.smembers('user:titan:hitl:queue')).sort()).toEqual(['g1', 'g2']);
    expect(await r.get('user:count')).toBe('42');
    expect(await r.exists('user:gone')).toBe(0);
    // Nothing but the bus lives under user:, and engine state only under titan:.
    const keys = await r.keys('*');
    expect(keys.filter((k) => !k.startsWith('titan:')).sort()).toEqual(['user:count', 'user:greeting', 'user:titan:hitl:queue', 'user:titan:hitl:status:g1']);
  });

  it('keeps engine state under titan: only', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000, 'RUNNING', { agentRunId: 'ag', tags: ['t'] }), ['a']);
    await store.commit(batch({ attempts: [attempt('r1', 'a', 1)] }));
    await store.setMeta('masterId', 'm1');
    await store.artifactPut({ key: 'runs/r1/a/1/out.txt', sha256: 'a'.repeat(64), size: 1, runId: 'r1', jobId: 'a', attempt: 1, createdAt: 1 });
    const keys = await (await client()).keys('*');
    expect(keys.length).toBeGreaterThan(10);
    expect(keys.filter((k) => !k.startsWith('titan:'))).toEqual([]);
  });

  it('says nothing about a server as durable as SQLite, and warns about a weaker one', async () => {
    const lines: string[] = [];
    await open(server.url, (l) => lines.push(l));
    expect(lines).toEqual([]);

    const r = await client();
    await r.config('SET', 'appendfsync', 'everysec');
    await open(server.url, (l) => lines.push(l));
    expect(lines).toEqual([expect.stringMatching(/^warning: the Redis store at redis:\/\/127\.0\.0\.1:\d+\/0 runs with appendfsync everysec: up to a second of acknowledged work/)]);

    lines.length = 0;
    await r.config('SET', 'appendonly', 'no');
    await r.config('SET', 'maxmemory', '100mb');
    await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await open(server.url, (l) => lines.push(l));
    expect(lines).toEqual([expect.stringMatching(/runs with appendonly no: everything acknowledged since its last snapshot is lost/), expect.stringMatching(/maxmemory-policy allkeys-lru: it may evict Titan's state/)]);
    await r.config('SET', 'appendonly', 'yes');
    await r.config('SET', 'appendfsync', 'always');
    await r.config('SET', 'maxmemory', '0');
    await r.config('SET', 'maxmemory-policy', 'noeviction');
  });

  it('warns that it cannot check durability where CONFIG is disabled, and opens anyway', { timeout: 60_000 }, async () => {
    const managed = await RedisServer.start({ extra: ['--rename-command', 'CONFIG', ''] });
    try {
      const lines: string[] = [];
      const store = await open(managed.url, (l) => lines.push(l));
      expect(lines).toEqual([expect.stringMatching(/^warning: cannot read the configuration of the Redis store at redis:\/\/127\.0\.0\.1:\d+\/0 \(.*\); make sure it runs with appendonly yes and appendfsync always/)]);
      await store.setMeta('k', 'v');
      expect(await store.getMeta('k')).toBe('v');
    } finally {
      await managed.remove();
    }
  });

  it('refuses a database written by a newer layout, and one that is not Titan’s', async () => {
    const r = await client();
    await r.set('titan:schema', '99');
    await expect(open()).rejects.toThrow(/cannot open the Redis store at redis:\/\/127\.0\.0\.1:\d+\/0: its layout version 99 is newer than this build supports \(latest 2\)/);
    await r.set('titan:schema', 'banana');
    await expect(open()).rejects.toThrow(/titan:schema holds "banana"/);
  });

  it('brings a layout-1 database up to date: finished runs are indexed for retention', async () => {
    const r = await client();
    await r.set('titan:schema', '1');
    await r.zadd('titan:runs', 1_000, 'old-run', 2_000, 'live-run');
    await r.hset('titan:run:old-run', { name: 'old', status: 'COMPLETED', createdAt: '1000', finishedAt: '1500' });
    await r.hset('titan:run:live-run', { name: 'live', status: 'RUNNING', createdAt: '2000' });
    const store = await open();
    expect(await r.get('titan:schema')).toBe('2');
    expect(await store.finishedRunsBefore(10_000, 10)).toEqual(['old-run']);
  });

  it('names the server when it cannot be reached at start', async () => {
    const url = `redis://:hunter2@127.0.0.1:${server.port}/0`;
    await server.stop();
    const started = Date.now();
    const err = await open(url).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(new RegExp(`^cannot reach the Redis store at redis://127\\.0\\.0\\.1:${server.port}/0: .*ECONNREFUSED`));
    expect((err as Error).message).not.toContain('hunter2');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('applies a batch retried under the same id once, and a new id as a new batch', async () => {
    const store = await open();
    await submit(store, run('r1', 1_000), ['a']);
    const b = { ...batch({ jobs: [job('r1', 'a', { status: 'COMPLETED' })], attempts: [attempt('r1', 'a', 1)] }), id: 'retry-me' };
    await store.commit(b);
    // The reply was lost: the committer sends the same batch again.
    await store.commit(b);
    expect(await store.totals()).toStrictEqual({ submitted: 1, completed: 1, dead: 0, attempts: 1, retried: 0 });
    await expect(store.commit({ ...batch({ newJobs: [job('r1', 'a')] }), id: 'other' })).rejects.toThrow(/store commit failed at new job r1\/a: the job is already stored/);
  });

  it('stops committing when Redis no longer holds its last commit (another master, or lost writes)', async () => {
    const first = await open();
    await submit(first, run('r1', 1_000), ['a']);
    const second = await open();
    await submit(second, run('r2', 2_000), ['a']);
    const err = await first.commit(batch({ jobs: [job('r1', 'a', { status: 'QUEUED' })] })).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/does not hold this master's last commit .*another master writes to the same database; restart this master/);
    expect((await second.findJob('a', 'r1'))?.status).toBe('PENDING');
  });

  it('fails calls at once while Redis is down, then works again on the same store, with every acknowledged commit kept', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    const store = await open(server.url, (l) => lines.push(l));
    const jobs = await submit(store, run('r1', 1_000), ['a', 'b']);
    await store.kvApply([{ op: 'set', key: 'k', value: 'v', ttlMs: null }], 1_000);
    expect(store.unavailable()).toBeNull();

    await server.stop('SIGKILL');
    await expect.poll(() => store.unavailable()?.message ?? '', { timeout: 5_000 }).toMatch(/^the Redis store at redis:\/\/127\.0\.0\.1:\d+\/0 is unreachable/);
    const started = Date.now();
    const failures = await Promise.all([
      store.commit(batch({ jobs: [job('r1', 'a', { status: 'QUEUED' })] })).catch((e: unknown) => e),
      store.getRun('r1').catch((e: unknown) => e),
      store.kvApply([{ op: 'set', key: 'k', value: 'w', ttlMs: null }], 1_000).catch((e: unknown) => e),
    ]);
    expect(Date.now() - started).toBeLessThan(1_000);
    for (const f of failures) {
      expect(f).toBeInstanceOf(StoreUnavailableError);
      expect((f as StoreUnavailableError).code).toBe('UNAVAILABLE');
      expect((f as Error).message).toMatch(/Redis store at redis:\/\/127\.0\.0\.1:\d+\/0 is unreachable/);
    }
    expect(lines.some((l) => l.startsWith('lost the connection to the Redis store'))).toBe(true);

    await server.start();
    await expect.poll(() => store.unavailable(), { timeout: 10_000 }).toBeNull();
    expect(lines.some((l) => l.startsWith('reconnected to the Redis store'))).toBe(true);
    // Acknowledged before the kill: replayed from the AOF.
    expect(await store.getRunJobs('r1')).toStrictEqual(jobs);
    expect((await store.kvGet('k', 1_000))?.value).toBe('v');
    await store.commit(batch({ jobs: [job('r1', 'a', { status: 'QUEUED' })] }));
    expect((await store.findJob('a', 'r1'))?.status).toBe('QUEUED');
  });

  describe('leadership', () => {
    const a: MasterAddress = { id: 'master-a', tcp: '10.0.0.1:9090', http: 'http://10.0.0.1:5000' };
    const b: MasterAddress = { id: 'master-b', tcp: '10.0.0.2:9090', http: 'http://10.0.0.2:5000' };

    it('grants the lease to one master at a time, by the server\'s clock, with an epoch that only rises', async () => {
      const store = await open();
      expect(hasLease(store)).toBe(true);
      expect(await store.lease.current()).toBeNull();

      const first = await store.lease.acquire(a, 1_000);
      expect(first).toEqual({ acquired: true, epoch: 1 });
      const held = await store.lease.acquire(b, 1_000);
      expect(held.acquired).toBe(false);
      if (held.acquired) return;
      expect(held.current).toMatchObject({ holder: a, epoch: 1 });
      expect(held.current?.expiresInMs).toBeGreaterThan(0);
      expect(held.current?.expiresInMs).toBeLessThanOrEqual(1_000);
      expect(await store.lease.current()).toMatchObject({ holder: a, epoch: 1 });

      // Renewed by its holder at its epoch only.
      expect(await store.lease.renew(b, 1, 1_000)).toBe(false);
      expect(await store.lease.renew(a, 2, 1_000)).toBe(false);
      await new Promise((r) => setTimeout(r, 600));
      expect(await store.lease.renew(a, 1, 1_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 600));
      // 1.2 s after it was taken, still held thanks to the renewal.
      expect(await store.lease.current()).toMatchObject({ holder: a, epoch: 1 });

      // Not renewed, it expires; while nobody else took it, its holder may renew it still.
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await store.lease.current()).toBeNull();
      expect(await store.lease.renew(a, 1, 1_000)).toBe(true);
      expect(await store.lease.current()).toMatchObject({ holder: a, epoch: 1 });
      // Once another master took it, with a greater epoch, the renewal comes too late.
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await store.lease.acquire(b, 1_000)).toEqual({ acquired: true, epoch: 2 });
      expect(await store.lease.renew(a, 1, 1_000)).toBe(false);

      // Released: free at once; releasing it again, or by another master, does nothing.
      await store.lease.release(a, 2);
      expect(await store.lease.current()).toMatchObject({ holder: b, epoch: 2 });
      await store.lease.release(b, 2);
      expect(await store.lease.current()).toBeNull();
      expect(await store.lease.acquire(a, 1_000)).toEqual({ acquired: true, epoch: 3 });
      // The same master taking it again gets a new epoch too, fencing its own earlier writes.
      expect(await store.lease.acquire(a, 1_000)).toEqual({ acquired: true, epoch: 4 });
      const r = await client();
      expect(await r.get('titan:lease:epoch')).toBe('4');
    });

    it('records which masters are up, by the server\'s clock: each sees the others until their presence expires', async () => {
      const store = await open();
      const c: MasterAddress = { id: 'master-c', tcp: '10.0.0.3:9090', http: 'http://10.0.0.3:5000' };
      expect(await store.lease.heartbeat(a, 3_000)).toEqual([]);
      expect(await store.lease.heartbeat(b, 400)).toEqual([a]);
      // A fenced store still records presence: it is no leader's write.
      store.lease.fence(7);
      expect(await store.lease.heartbeat(c, 3_000)).toEqual([a, b]);
      await new Promise((r) => setTimeout(r, 600));
      expect(await store.lease.heartbeat(a, 3_000)).toEqual([c]);
      // An expired master is deleted, not only hidden.
      const r = await client();
      expect(Object.keys(await r.hgetall('titan:masters')).sort()).toEqual(['master-a', 'master-c']);
    });

    it('refuses every write of a fenced store once another master holds the lease, and changes nothing', async () => {
      const old = await open();
      await submit(old, run('r1', 1_000), ['a']);
      const { epoch } = (await old.lease.acquire(a, 60_000)) as { epoch: number };
      old.lease.fence(epoch);
      // While it leads, its writes go through.
      await old.commit(batch({ jobs: [job('r1', 'a', { status: 'QUEUED' })] }));
      await old.kvApply([{ op: 'set', key: 'k', value: 'v1', ttlMs: null }], 1_000);
      await old.setMeta('m', 'v1');

      // Its lease is given to another master (as after it expired while this one was paused).
      const r = await client();
      await r.del('titan:lease');
      const next = await open();
      expect(await next.lease.acquire(b, 60_000)).toEqual({ acquired: true, epoch: epoch + 1 });
      const keysBefore = (await r.keys('*')).sort();
      const snapshot = async (): Promise<unknown[]> => [await r.get('titan:commit'), await r.hgetall('titan:run:r1:jobs'), await r.get('user:k'), await r.hgetall('titan:kv:meta'), await r.hgetall('titan:meta'), await r.hgetall('titan:schedules'), await r.hgetall('titan:totals')];
      const before = await snapshot();

      const refused = await Promise.all([
        old.commit(batch({ jobs: [job('r1', 'a', { status: 'COMPLETED' })], attempts: [attempt('r1', 'a', 1)] })).catch((e: unknown) => e),
        old.kvApply([{ op: 'set', key: 'k', value: 'v2', ttlMs: null }, { op: 'sadd', key: 's', members: ['x'] }], 2_000).catch((e: unknown) => e),
        old.setMeta('m', 'v2').catch((e: unknown) => e),
        old.artifactPut({ key: 'runs/r1/a/1/out.txt', sha256: 'a'.repeat(64), size: 1, runId: 'r1', jobId: 'a', attempt: 1, createdAt: 1 }).catch((e: unknown) => e),
        old.deleteRun('r1').catch((e: unknown) => e),
        old.putSchedule(schedule('nightly')).catch((e: unknown) => e),
        old.auditAppend({ id: 'late', entries: [{ at: 2_000, who: 'ana', kind: 'token', via: 'tcp', from: '127.0.0.1', action: 'token.create', target: 'ci', ok: true }], keep: 100 }).catch((e: unknown) => e),
        old.identityAdd({ kind: 'token', name: 'ci', body: '{}' }).catch((e: unknown) => e),
        old.identityRemove('user', 'ana').catch((e: unknown) => e),
      ]);
      for (const err of refused) {
        expect(err).toBeInstanceOf(FencedError);
        expect((err as FencedError).code).toBe('NOT_LEADER');
        expect((err as FencedError).epoch).toBe(epoch);
      }
      expect(await snapshot()).toStrictEqual(before);
      expect((await r.keys('*')).sort()).toStrictEqual(keysBefore);
      expect((await next.findJob('a', 'r1'))?.status).toBe('QUEUED');
      // Reads still work, and the new leader's store writes.
      expect((await old.kvGet('k', 1_000))?.value).toBe('v1');
      expect(await next.getMeta('m')).toBe('v1');
      next.lease.fence(epoch + 1);
      await next.setMeta('m', 'v3');
      expect(await r.hget('titan:meta', 'm')).toBe('v3');
    });
  });

  it('connects with a password and says so when it is wrong, without printing it', { timeout: 60_000 }, async () => {
    const secured = await RedisServer.start({ extra: ['--requirepass', 's3cret'] });
    try {
      const store = await open(`redis://:s3cret@127.0.0.1:${secured.port}/2`);
      await store.setMeta('k', 'v');
      expect(await store.getMeta('k')).toBe('v');
      const err = await open(`redis://:wrong-pw@127.0.0.1:${secured.port}/2`).catch((e: unknown) => e as Error);
      expect((err as Error).message).toMatch(/^cannot reach the Redis store at redis:\/\/127\.0\.0\.1:\d+\/2: .*WRONGPASS/);
      expect((err as Error).message).not.toContain('wrong-pw');
    } finally {
      await secured.remove();
    }
  });
});
