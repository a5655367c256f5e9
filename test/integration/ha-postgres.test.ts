/**
 * Masters sharing a PostgreSQL store, as real processes on a private server: the leader killed -9,
 * the standby leads within 5 s and finishes what was acknowledged, each job's work done once; the
 * leader paused (SIGSTOP) past its lease and resumed writes nothing and exits; PostgreSQL itself
 * restarted under a running run loses nothing. Required in CI: without PostgreSQL these tests
 * fail instead of skipping.
 */
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type JobInput, TitanClient } from '../../src/sdk/client.js';
import { LOST_LEADERSHIP_EXIT } from '../../src/server/leadership.js';
import { Cluster } from '../helpers/cluster.js';
import { APPEND_SCRIPT, killNine, notExactlyOnce, readLines, sleep, startWorkerVia, waitRunDone } from '../helpers/faults.js';
import { health, leadsWithin, type TwoMasters, twoMasters } from '../helpers/ha.js';
import { describeOnPostgres, freshDatabase } from '../helpers/postgres.js';

let pair: TwoMasters | null = null;
let single: Cluster | null = null;
const clients: TitanClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await pair?.stop();
  pair = null;
  await single?.stop();
  single = null;
});

describeOnPostgres('masters sharing a PostgreSQL store', (server) => {
  const epochOf = async (db: string): Promise<number> => Number((await server().query(db, 'SELECT epoch FROM leader_lease'))[0]?.epoch);

  it('fails over within 5 s of the leader being killed -9, without losing or repeating work', { timeout: 120_000 }, async () => {
    const db = await freshDatabase(server());
    pair = await twoMasters(server().urlOf(db));
    const { c, tcp, http } = pair;
    expect(await health(http)).toMatchObject({ role: 'standby', leader: { tcp: `127.0.0.1:${c.port}` } });

    await c.startWorker();
    const appendFile = join(c.dir, 'append.txt');
    const job = (id: string, more: Partial<JobInput> = {}): JobInput => ({ id, script: APPEND_SCRIPT, args: [id, '0.2', appendFile], ...more });
    const client = c.client();
    const { runId } = await client.submit({ name: 'failover', jobs: [job('first'), job('second', { dependsOn: ['first'], requirement: 'LATER' }), job('third', { dependsOn: ['second'] })] });
    await expect.poll(async () => (await client.getRun(runId)).jobs.map((j) => `${j.spec.id}:${j.status}`), { timeout: 30_000 }).toEqual(['first:COMPLETED', 'second:QUEUED', 'third:PENDING']);
    client.close();
    // The worker knows only this master: its report of `first` must be durable before the kill, or it is an attempt in flight.
    expect(await server().query(db, "SELECT status FROM jobs WHERE job_id = 'first'")).toEqual([{ status: 'COMPLETED' }]);

    const killed = Date.now();
    await killNine((c.master ?? expect.unreachable('no master')).child);
    expect(await leadsWithin(http, killed, 10_000), 'takeover time').toBeLessThanOrEqual(5_000);
    expect(await epochOf(db)).toBe(2);

    await startWorkerVia(c, tcp, 4, { args: ['--capabilities', 'GENERAL,LATER'] });
    const after = new TitanClient({ host: '127.0.0.1', port: tcp, token: c.token });
    clients.push(after);
    const final = await waitRunDone(after, runId, 60_000);
    expect(final.jobs.map((j) => `${j.spec.id}:${j.status}:${j.attempt}`).sort()).toEqual(['first:COMPLETED:1', 'second:COMPLETED:1', 'third:COMPLETED:1']);
    expect(notExactlyOnce(['first', 'second', 'third'], readLines(appendFile))).toEqual({});
  });

  it('fences a leader paused past its lease: resumed, it stores nothing and exits', { timeout: 120_000 }, async () => {
    const db = await freshDatabase(server());
    pair = await twoMasters(server().urlOf(db));
    const { c, tcp, http } = pair;
    const old = c.master ?? expect.unreachable('no master');
    const client = c.client();
    await client.listRuns({ limit: 1 });

    old.child.kill('SIGSTOP');
    await leadsWithin(http, Date.now(), 15_000);
    expect(await epochOf(db)).toBe(2);
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
    expect(await late).not.toBe('accepted');
    expect(await server().query(db, "SELECT run_id FROM runs WHERE name = 'late'")).toEqual([]);
    expect(await epochOf(db)).toBe(2);
    const now = new TitanClient({ host: '127.0.0.1', port: tcp, token: c.token });
    clients.push(now);
    expect(await health(http)).toMatchObject({ role: 'leader' });
    expect((await now.listRuns({ limit: 10 })).map((run) => run.name)).not.toContain('late');
  });

  it('loses nothing when PostgreSQL restarts under a running run', { timeout: 120_000 }, async () => {
    const db = await freshDatabase(server());
    const c = new Cluster(['--store', server().urlOf(db)]);
    single = c;
    await c.startMaster();
    await c.startWorker();
    const appendFile = join(c.dir, 'append.txt');
    const ids = Array.from({ length: 12 }, (_, i) => `j${i}`);
    const client = c.client();
    clients.push(client);
    const { runId } = await client.submit({ name: 'through-restart', jobs: ids.map((id, i) => ({ id, script: APPEND_SCRIPT, args: [id, '0.3', appendFile], ...(i > 0 && { dependsOn: [ids[i - 1] as string] }) })) });
    await expect.poll(() => readLines(appendFile).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);

    const pg = server();
    await pg.stop();
    await sleep(1_500);
    await pg.start();

    const final = await waitRunDone(client, runId, 90_000);
    expect(final.jobs.every((j) => j.status === 'COMPLETED')).toBe(true);
    expect(notExactlyOnce(ids, readLines(appendFile))).toEqual({});
  });
});
