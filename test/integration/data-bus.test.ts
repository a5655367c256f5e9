/**
 * The data bus on a real cluster: Redis-style semantics through the SDK, many jobs incrementing
 * and racing on the same keys, waiting for a change, TTL expiry, durability across a killed
 * master, and the HTTP and CLI doors with their refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_LIMITS } from '../../src/core/data.js';
import { Cluster, kill, ROOT } from '../helpers/cluster.js';
import { js, waitRunStatus, refusal } from '../helpers/scripts.js';

const SDK = JSON.stringify(`${ROOT}/dist/src/sdk/client.js`);

/** A job that imports the built SDK and runs `body` with `client` (TITAN_HOST/PORT/TOKEN from its environment). */
const sdkJob = (name: string, body: string) => js(`import { TitanClient } from ${SDK};\nconst client = new TitanClient();\n${body}\nclient.close();\n`, name);

describe('the data bus', () => {
  const cluster = new Cluster();

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 10 });
    await cluster.startWorker({ slots: 10 });
  });
  afterAll(() => cluster.stop());

  it('gets, sets, deletes, increments and keeps sets with Redis semantics', async () => {
    const c = cluster.client();
    expect(await c.get('sem:missing')).toBeNull();
    const v1 = await c.set('sem:a', 'hello ✓');
    expect(await c.storeGet('sem:a')).toBe('hello ✓');
    expect(await c.getVersioned('sem:a')).toEqual({ value: 'hello ✓', version: v1, expiresAt: null });
    expect(await c.storePut('user:name', 'ada')).toBeGreaterThan(v1);
    expect(await c.get('user:name')).toBe('ada');
    expect(await c.del('sem:a')).toBe(true);
    expect(await c.del('sem:a')).toBe(false);
    expect(await c.incr('sem:n')).toBe(1);
    expect(await c.incr('sem:n', 41)).toBe(42);
    expect(await c.incr('sem:n', -50)).toBe(-8);
    expect(await c.sadd('sem:s', 'x', 'y', 'x')).toBe(2);
    expect(await c.sadd('sem:s', 'y', 'z')).toBe(1);
    expect(await c.smembers('sem:s')).toEqual(['x', 'y', 'z']);
    expect(await c.srem('sem:s', 'x', 'nope')).toBe(1);
    expect(await c.srem('sem:s', 'y', 'z')).toBe(2);
    expect(await c.smembers('sem:s')).toEqual([]);
    expect((await c.keys('sem:')).map((k) => [k.key, k.type])).toEqual([['sem:n', 'string']]);
    await c.sadd('sem:t', 'm');
    expect((await refusal(c.get('sem:t'))).message).toBe('key "sem:t" holds a set, not a string');
    await c.set('sem:word', 'abc');
    const notInt = await refusal(c.incr('sem:word'));
    expect(notInt.code).toBe('CONFLICT');
    expect(notInt.message).toBe('the value of key "sem:word" is not an integer: "abc"');
  });

  it('counts exactly when 20 jobs increment one key 50 times each, and CAS races have exactly the right winners', async () => {
    const c = cluster.client();
    const job = sdkJob(
      'race.mjs',
      `const me = process.env.TITAN_JOB_ID;
for (let i = 0; i < 50; i++) await client.incr('race:counter');
// An optimistic increment: read, compare-and-set, retry on a lost race.
for (let i = 0; i < 5; i++) {
  for (;;) {
    const current = await client.get('race:cas-counter');
    if (await client.cas('race:cas-counter', current, String(Number(current ?? 0) + 1))) break;
  }
}
if (await client.cas('race:lock', null, me)) await client.sadd('race:winners', me);
await client.sadd('race:done', me);`,
    );
    const jobs = Array.from({ length: 20 }, (_, i) => ({ id: `j${i}`, script: job, retries: 0 }));
    const { runId } = await c.submit({ name: 'kv-race', jobs });
    await waitRunStatus(c, runId, 'COMPLETED', 60_000);
    expect(await c.get('race:counter')).toBe('1000');
    expect(await c.get('race:cas-counter')).toBe('100');
    expect(await c.smembers('race:done')).toHaveLength(20);
    const winners = await c.smembers('race:winners');
    expect(winners).toHaveLength(1);
    expect(await c.get('race:lock')).toBe(winners[0]);
  });

  it('wakes a waiting job and a waiting client when the key changes', async () => {
    const c = cluster.client();
    const job = sdkJob(
      'waiter.mjs',
      `const { version } = await client.getVersioned('wake:go');
await client.set('wake:ready', String(version));
const woke = await client.waitForKey('wake:go', { sinceVersion: version, timeoutMs: 30000 });
await client.set('wake:seen', JSON.stringify({ at: Date.now(), ...woke }));`,
    );
    const { runId } = await c.submit({ name: 'waiter', jobs: [{ id: 'waiter', script: job, retries: 0 }] });
    const ready = await c.waitForKey('wake:ready', { timeoutMs: 30_000 });
    expect(ready.changed).toBe(true);

    // A second client waits too, from the test process.
    const { version: before } = await c.getVersioned('wake:go');
    const other = cluster.client();
    const clientWait = other.waitForKey('wake:go', { sinceVersion: before, timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 200));
    const setAt = Date.now();
    const version = await c.set('wake:go', 'now');
    const woke = await clientWait;
    expect(woke).toEqual({ changed: true, value: 'now', version });
    expect(Date.now() - setAt).toBeLessThan(1_000);

    await waitRunStatus(c, runId, 'COMPLETED');
    const seen = JSON.parse((await c.get('wake:seen')) ?? '{}') as { at: number; changed: boolean; value: string; version: number };
    expect(seen).toMatchObject({ changed: true, value: 'now', version });
    expect(seen.at - setAt).toBeLessThan(1_000);

    // Without a change, a wait ends at its timeout with the current state.
    expect(await c.waitForKey('wake:go', { sinceVersion: version, timeoutMs: 150 })).toEqual({ changed: false, value: 'now', version });
  });

  it('expires a key after its TTL: reads stop returning it and waiters hear the expiry', async () => {
    const c = cluster.client();
    // Timed from before the write: the master's expiry is at least 400 ms after this, however slow the calls are.
    const start = Date.now();
    const version = await c.set('ttl:k', 'brief', { ttlMs: 400 });
    expect(await c.get('ttl:k')).toBe('brief');
    const woke = await c.waitForKey('ttl:k', { sinceVersion: version, timeoutMs: 10_000 });
    expect(woke).toEqual({ changed: true, value: null, version: 0 });
    expect(Date.now() - start).toBeGreaterThanOrEqual(390);
    expect(await c.get('ttl:k')).toBeNull();
    expect((await c.keys('ttl:')).length).toBe(0);
  });

  it('keeps values, sets, versions and pending expiries across a master killed with SIGKILL', async () => {
    const c = cluster.client();
    await c.set('dur:a', 'kept');
    await c.sadd('dur:s', 'one', 'two');
    const n = await c.incr('dur:n', 7);
    const expiring = await c.set('dur:t', 'soon', { ttlMs: 4_000 });
    const master = cluster.master;
    if (!master) throw new Error('no master');
    await kill(master, 'SIGKILL');
    await cluster.startMaster();

    const again = cluster.client();
    expect(await again.get('dur:a')).toBe('kept');
    expect(await again.smembers('dur:s')).toEqual(['one', 'two']);
    expect(await again.get('dur:n')).toBe(String(n));
    expect(await again.get('dur:t')).toBe('soon');
    // The restarted master re-armed the expiry: the waiter wakes when it passes.
    expect(await again.waitForKey('dur:t', { sinceVersion: expiring, timeoutMs: 10_000 })).toEqual({ changed: true, value: null, version: 0 });
    // Versions keep rising past everything the killed master handed out.
    expect(await again.set('dur:new', 'x')).toBeGreaterThan(expiring);
  });

  it('serves GET, PUT and DELETE /api/kv/<key> and lists keys over HTTP', async () => {
    const url = (path: string): string => `http://127.0.0.1:${cluster.httpPort}${path}`;
    const headers = { authorization: `Bearer ${cluster.token}` };
    const json = { ...headers, 'content-type': 'application/json' };
    const put = await fetch(url('/api/kv/http:dir/a'), { method: 'PUT', headers: json, body: JSON.stringify({ value: 'v1', ttlMs: 60_000 }) });
    expect(put.status).toBe(200);
    const { version } = (await put.json()) as { version: number };
    const got = await fetch(url('/api/kv/http:dir/a'), { headers });
    expect(await got.json()).toMatchObject({ key: 'http:dir/a', value: 'v1', version });
    const listed = (await (await fetch(url('/api/kv?prefix=http:'), { headers })).json()) as { keys: { key: string }[] };
    expect(listed.keys.map((k) => k.key)).toEqual(['http:dir/a']);
    expect(await (await fetch(url('/api/kv/http:dir/a'), { method: 'DELETE', headers })).json()).toEqual({ deleted: 1 });
    const missing = await fetch(url('/api/kv/http:dir/a'), { headers });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ code: 'NOT_FOUND', message: 'no key "http:dir/a"' });
    // A text/plain body is the value itself.
    await fetch(url('/api/kv/http:raw'), { method: 'PUT', headers: { ...headers, 'content-type': 'text/plain' }, body: 'plain text' });
    expect(await (await fetch(url('/api/kv/http:raw'), { headers })).json()).toMatchObject({ value: 'plain text' });
    const bad = await fetch(url('/api/kv/bad%20key'), { method: 'PUT', headers: json, body: JSON.stringify({ value: 'x' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('a key may contain only');
    expect((await fetch(url('/api/kv/http:x'))).status).toBe(401);
  });

  it('titan store get|set|del|keys, with exit 1 for a missing key and 2 for a bad one', async () => {
    const set = await cluster.cli(['store', 'set', 'cli:greeting', 'hello world', '--ttl', '60']);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^set cli:greeting \(version \d+, expires in 1m0s\)\n$/);
    expect(await cluster.cli(['store', 'get', 'cli:greeting'])).toMatchObject({ code: 0, stdout: 'hello world\n' });
    const keys = await cluster.cli(['store', 'keys', 'cli:']);
    expect(keys.stdout).toMatch(/^KEY\s+TYPE\s+VERSION\s+EXPIRES\ncli:greeting\s+string\s+\d+\s+in \d+\.\ds\n$/);
    const asJson = JSON.parse((await cluster.cli(['store', 'keys', 'cli:', '--json'])).stdout) as { key: string }[];
    expect(asJson.map((k) => k.key)).toEqual(['cli:greeting']);
    expect(await cluster.cli(['store', 'del', 'cli:greeting'])).toMatchObject({ code: 0, stdout: 'deleted cli:greeting\n' });
    expect(await cluster.cli(['store', 'get', 'cli:greeting'])).toMatchObject({ code: 1, stdout: '', stderr: 'titan: no key "cli:greeting"\n' });
    expect(await cluster.cli(['store', 'del', 'cli:greeting'])).toMatchObject({ code: 1 });
    expect(await cluster.cli(['store', 'keys', 'cli:'])).toMatchObject({ code: 0, stdout: 'no keys starting with "cli:"\n' });
    const bad = await cluster.cli(['store', 'get', 'no spaces']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad key "no spaces"');
  });

  it('refuses bad input with messages that name the problem', async () => {
    const c = cluster.client();
    const tooBig = await refusal(c.set('bad:big', 'x'.repeat(DATA_LIMITS.maxValueBytes + 1)));
    expect(tooBig.code).toBe('BAD_REQUEST');
    expect(tooBig.message).toBe('invalid parameters for kv.set: value: a value is at most 1048576 bytes (1 MiB) of UTF-8');
    // Exactly the limit is fine, in multi-byte characters too.
    await c.set('bad:max', 'é'.repeat(DATA_LIMITS.maxValueBytes / 2));
    expect((await c.get('bad:max'))?.length).toBe(DATA_LIMITS.maxValueBytes / 2);
    for (const key of ['', 'has space', 'semi;colon', 'k'.repeat(513), 'ünï']) {
      const e = await refusal(c.get(key));
      expect(e.code).toBe('BAD_REQUEST');
      expect(e.message).toMatch(/^invalid parameters for kv\.get: key: /);
    }
    expect((await refusal(c.sadd('bad:s', 'tab\there'))).message).toContain('a set member must not contain control characters');
    expect((await refusal(c.waitForKey('bad:w', { timeoutMs: DATA_LIMITS.maxWaitMs + 1 }))).message).toContain('timeoutMs');
    expect((await refusal(c.set('bad:ttl', 'v', { ttlMs: 0 }))).message).toContain('a TTL is at least 1 ms');
    await c.set('bad:max-int', String(Number.MAX_SAFE_INTEGER));
    expect((await refusal(c.incr('bad:max-int'))).message).toContain('incrementing key "bad:max-int" by 1 leaves the safe integer range');
  });
});
