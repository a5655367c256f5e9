/**
 * Two masters on one Redis store, as real processes: one leads, the other stands by and says
 * where the leader is (HTTP /healthz, 503 and 307; TCP NOT_LEADER). The leader killed -9: the
 * standby leads within 5 s and finishes what was acknowledged, each job's work done once. The
 * leader paused (SIGSTOP) past its lease and resumed: the standby took over, and the old leader
 * writes nothing and exits with its documented message and code. The leader stopped cleanly
 * releases the lease, so the standby leads at once. Required in CI: without
 * redis-server these tests fail instead of skipping.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type JobInput, TitanClient } from '../../src/sdk/client.js';
import { LOST_LEADERSHIP_EXIT } from '../../src/server/leadership.js';
import { APPEND_SCRIPT, killNine, notExactlyOnce, readLines, sleep, startWorkerVia, waitRunDone } from '../helpers/faults.js';
import { RedisServer, redisServerBinary } from '../helpers/redis.js';
import { health, leadsWithin, type TwoMasters, twoMasters } from '../helpers/ha.js';
import { RawConnection } from '../helpers/scripts.js';

const available = redisServerBinary() !== null;
const required = process.env.CI === 'true' || process.env.CI === '1';

if (!available && required) {
  describe('masters sharing a store', () => {
    it('runs in CI', () => {
      throw new Error('redis-server is not installed: the HA tests are required in CI (.ci/run installs redis-server)');
    });
  });
}

let pair: TwoMasters | null = null;
let redis: RedisServer | null = null;
const clients: TitanClient[] = [];
const stores: Redis[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of stores.splice(0)) r.disconnect();
  await pair?.stop();
  pair = null;
  await redis?.remove();
  redis = null;
});

/** A private Redis store, a leader (the cluster's master) and a standby. */
async function twoMastersOnRedis(): Promise<TwoMasters & { r: RedisServer }> {
  const r = await RedisServer.start();
  redis = r;
  pair = await twoMasters(r.url);
  return { ...pair, r };
}

describe.runIf(available)('masters sharing a Redis store', () => {
  it('tells who leads, and fails over within 5 s of the leader being killed -9 without losing or repeating work', { timeout: 120_000 }, async () => {
    const { c, tcp, http } = await twoMastersOnRedis();
    const leader = { tcp: `127.0.0.1:${c.port}`, http: `http://127.0.0.1:${c.httpPort}` };

    // Roles, as load balancers and monitoring read them.
    expect(await health(c.httpPort)).toMatchObject({ status: 'ok', role: 'leader', leader });
    expect(await health(http)).toEqual({ status: 'ok', ok: true, role: 'standby', leader });

    // The standby's TCP port: HELLO is refused with the leader's address, and the connection closed.
    const raw = await RawConnection.open(tcp);
    const refused = (await raw.hello(c.token)) as { ok: boolean; error?: { code: string; message: string; leader?: string } };
    expect(refused.ok).toBe(false);
    expect(refused.error).toEqual({ code: 'NOT_LEADER', message: `this master is a standby; the leader is at ${leader.tcp}`, leader: leader.tcp });
    expect(await raw.closesWithin(5_000)).toBe(true);

    // Its HTTP port: the API answers 503 NOT_LEADER; a browser asking for a page is sent to the leader's.
    const api = await fetch(`http://127.0.0.1:${http}/api/runs`, { headers: { authorization: `Bearer ${c.token}` } });
    expect(api.status).toBe(503);
    expect(await api.json()).toEqual({ error: { code: 'NOT_LEADER', message: `this master is a standby; the leader is at ${leader.http}`, leader } });
    const page = await fetch(`http://127.0.0.1:${http}/runs/abc?tab=graph`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(307);
    expect(page.headers.get('location')).toBe(`${leader.http}/runs/abc?tab=graph`);

    // A run acknowledged by the leader: `first` runs now, `second` and `third` wait for a LATER worker.
    await c.startWorker();
    const appendFile = join(c.dir, 'append.txt');
    const job = (id: string, more: Partial<JobInput> = {}): JobInput => ({ id, script: APPEND_SCRIPT, args: [id, '0.2', appendFile], ...more });
    const client = c.client();
    const { runId } = await client.submit({ name: 'failover', jobs: [job('first'), job('second', { dependsOn: ['first'], requirement: 'LATER' }), job('third', { dependsOn: ['second'] })] });
    // Killed once `first` is recorded as done: its attempt is no longer in flight anywhere.
    await expect.poll(async () => (await client.getRun(runId)).jobs.map((j) => `${j.spec.id}:${j.status}`), { timeout: 30_000 }).toEqual(['first:COMPLETED', 'second:QUEUED', 'third:PENDING']);
    expect(readLines(appendFile)).toEqual(['first']);
    client.close();

    const killed = Date.now();
    await killNine((c.master ?? expect.unreachable('no master')).child);
    const tookMs = await leadsWithin(http, killed, 10_000);
    expect(tookMs, 'takeover time').toBeLessThanOrEqual(5_000);
    expect((await health(http)).leader).toEqual({ tcp: `127.0.0.1:${tcp}`, http: `http://127.0.0.1:${http}` });

    // Workers that can follow the leader are another concern: a second worker joins the new leader.
    await startWorkerVia(c, tcp, 4, { args: ['--capabilities', 'GENERAL,LATER'] });
    const after = new TitanClient({ host: '127.0.0.1', port: tcp, token: c.token });
    clients.push(after);
    const final = await waitRunDone(after, runId, 60_000);
    expect(final.jobs.map((j) => `${j.spec.id}:${j.status}:${j.attempt}`).sort()).toEqual(['first:COMPLETED:1', 'second:COMPLETED:1', 'third:COMPLETED:1']);
    expect(notExactlyOnce(['first', 'second', 'third'], readLines(appendFile))).toEqual({});
  });

  it('hands the lease over at once when the leader is stopped cleanly (SIGTERM)', { timeout: 60_000 }, async () => {
    const { c, r, http } = await twoMastersOnRedis();
    const leader = c.master ?? expect.unreachable('no master');
    const stopped = Date.now();
    const exited = new Promise<number | null>((resolve) => leader.child.once('exit', (code) => resolve(code)));
    leader.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Well before the 3 s the lease would take to expire: it was released.
    expect(await leadsWithin(http, stopped, 10_000), 'takeover time').toBeLessThan(2_500);
    const store = new Redis(r.url, { maxRetriesPerRequest: 0 });
    stores.push(store);
    expect(await store.get('titan:lease:epoch')).toBe('2');
  });

  it('fences a leader paused past its lease: resumed, it writes nothing and exits, and the new leader carries on', { timeout: 120_000 }, async () => {
    const { c, r, tcp, http } = await twoMastersOnRedis();
    const store = new Redis(r.url, { maxRetriesPerRequest: 0 });
    stores.push(store);
    expect(await store.get('titan:lease:epoch')).toBe('1');
    const old = c.master ?? expect.unreachable('no master');
    const client = c.client();
    await client.listRuns({ limit: 1 });

    old.child.kill('SIGSTOP');
    const paused = Date.now();
    await leadsWithin(http, paused, 15_000);
    expect(await store.get('titan:lease:epoch')).toBe('2');
    const before = { commit: await store.get('titan:commit'), lease: await store.get('titan:lease'), meta: await store.hgetall('titan:meta'), keys: (await store.keys('*')).sort() };

    // A submission sent to the paused leader: it will read it once resumed, but must not store it.
    const late = Promise.race([
      client.submit({ name: 'late', jobs: [{ id: 'a', script: APPEND_SCRIPT, args: ['a', '0', join(c.dir, 'late.txt')] }] }).then(
        () => 'accepted',
        (err: Error) => err.message,
      ),
      sleep(10_000).then(() => 'no answer'),
    ]);
    await sleep(300);
    const exited = new Promise<number | null>((resolve) => old.child.once('exit', (code) => resolve(code)));
    old.child.kill('SIGCONT');
    expect(await exited).toBe(LOST_LEADERSHIP_EXIT);
    expect(old.output()).toMatch(/titan master: lost the leadership \(another master acquired the lease \(this one led at epoch 1\)\); exiting with code 75 so that it is started again as a standby\n/);
    expect(await late).not.toBe('accepted');

    // Nothing of the old leader's reached the store, and the new leader still leads.
    expect({ commit: await store.get('titan:commit'), lease: await store.get('titan:lease'), meta: await store.hgetall('titan:meta'), keys: (await store.keys('*')).sort() }).toEqual(before);
    expect(await store.get('titan:lease:epoch')).toBe('2');
    const now = new TitanClient({ host: '127.0.0.1', port: tcp, token: c.token });
    clients.push(now);
    expect((await now.listRuns({ limit: 10 })).map((run) => run.name)).not.toContain('late');
    expect(await health(http)).toMatchObject({ role: 'leader' });
  });
});
