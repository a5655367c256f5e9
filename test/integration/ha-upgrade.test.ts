/**
 * A rolling upgrade of masters sharing a PostgreSQL store while a run goes on, as real processes
 * and in the steps docs/deployment.md gives: the standby stopped (SIGTERM) and started again, the
 * leader stopped (SIGTERM: it releases the lease and the standby leads at once), the old leader
 * started again (it stands by). Two workers and a client know both masters. The run completes,
 * each job's work is done once (but for attempts in flight at the handover), a run submitted
 * during the handover completes, and the handover (SIGTERM to the new leader's first dispatch)
 * takes at most 5 s. Required in CI: without PostgreSQL this test fails instead of skipping.
 */
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { RunView } from '../../src/protocol/methods.js';
import { type JobInput, TitanClient } from '../../src/sdk/client.js';
import type { Proc } from '../helpers/cluster.js';
import { APPEND_SCRIPT, readLines, sleep, tally, waitRunDone } from '../helpers/faults.js';
import { health, startStandby, type TwoMasters, twoMasters } from '../helpers/ha.js';
import { describeOnPostgres, freshDatabase } from '../helpers/postgres.js';

const HANDOVER_LIMIT_MS = 5_000;

/**
 * About 60 jobs for about 20 s on two workers: a chain of 25 jobs of 0.6 s, and from its tenth a
 * fan-out of 34 jobs of 1 s gathered by one more.
 */
function upgradeRun(appendFile: string): JobInput[] {
  const job = (id: string, seconds: string, dependsOn: string[]): JobInput => ({ id, script: APPEND_SCRIPT, args: [id, seconds, appendFile], dependsOn });
  const chain = Array.from({ length: 25 }, (_, i) => job(`c${i}`, '0.6', i === 0 ? [] : [`c${i - 1}`]));
  const fan = Array.from({ length: 34 }, (_, i) => job(`f${i}`, '1', ['c9']));
  return [...chain, ...fan, job('gather', '0', fan.map((j) => j.id))];
}

/** The earliest start of an attempt after `since` (epoch ms), polling until there is one. */
async function firstStartAfter(client: TitanClient, runIds: string[], since: number, timeoutMs: number): Promise<number> {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(100)) {
    const views = await Promise.all(runIds.map((id) => client.getRun(id).catch((): RunView | null => null)));
    const starts = views.flatMap((view) => (view?.jobs ?? []).flatMap((j) => (j.startedAt !== null && j.startedAt > since ? [j.startedAt] : [])));
    if (starts.length > 0) return Math.min(...starts);
    if (Date.now() > deadline) throw new Error(`no attempt started within ${timeoutMs} ms after ${new Date(since).toISOString()}`);
  }
}

/** Sends `signal` and waits for the exit; its code (null when the signal ended it). */
function stopWith(proc: Proc, signal: NodeJS.Signals): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => resolve(code)));
  proc.child.kill(signal);
  return exited;
}

let pair: TwoMasters | null = null;
const clients: TitanClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await pair?.stop();
  pair = null;
});

describeOnPostgres('a rolling upgrade of masters sharing a PostgreSQL store', (server) => {
  it('upgrades the standby, hands over and upgrades the old leader while a run goes on, without losing or repeating work', { timeout: 180_000 }, async () => {
    const db = await freshDatabase(server());
    const p = await twoMasters(server().urlOf(db));
    pair = p;
    const { c } = p;
    const oldLeader = c.master ?? expect.unreachable('no master');
    const addresses = [`127.0.0.1:${c.port}`, `127.0.0.1:${p.tcp}`];
    for (let i = 0; i < 2; i++) await c.startWorker({ slots: 4, args: ['--master', addresses.join(',')] });
    const client = new TitanClient({ masters: addresses, token: c.token, connectTimeoutMs: 20_000 });
    clients.push(client);

    const appendFile = join(c.dir, 'append.txt');
    const jobs = upgradeRun(appendFile);
    const started = Date.now();
    const { runId } = await client.submit({ name: 'upgrade', jobs });
    await expect.poll(() => readLines(appendFile).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);

    // 1. The standby, upgraded: stopped and started again with the same command line.
    // Until it leads, a standby has nothing to save: SIGTERM ends it at once.
    expect([0, null], 'the standby stops on SIGTERM').toContain(await stopWith(p.standby, 'SIGTERM'));
    p.standby = await startStandby(p.standbyArgs);
    expect(await health(p.http)).toMatchObject({ role: 'standby', leader: { tcp: addresses[0] } });
    const beforeHandover = readLines(appendFile).length;

    // 2. The leader stopped: it releases the lease, the standby leads; a run is submitted meanwhile.
    const stopped = Date.now();
    const exited = stopWith(oldLeader, 'SIGTERM');
    const second = client.submit({ name: 'during-handover', jobs: ['s1', 's2', 's3'].map((id) => ({ id, script: APPEND_SCRIPT, args: [id, '0.2', appendFile] })) });
    // Awaited once the old leader is gone; a failure meanwhile is kept for then.
    second.catch(() => undefined);
    expect(await exited, 'the old leader exits cleanly').toBe(0);
    const gone = Date.now();
    const { runId: secondId } = await second;
    const handover = (await firstStartAfter(client, [runId, secondId], gone, 15_000)) - stopped;
    console.log(`ha-upgrade: handover ${handover} ms from SIGTERM to the new leader's first dispatch (${beforeHandover} jobs done before it)`);
    expect(await health(p.http)).toMatchObject({ role: 'leader' });

    // 3. The old leader, upgraded: started again with its command line, it stands by.
    c.master = await startStandby(c.masterCommand());
    expect(await health(c.httpPort)).toMatchObject({ role: 'standby', leader: { tcp: addresses[1] } });

    const final = await waitRunDone(client, runId, 120_000);
    const small = await waitRunDone(client, secondId, 30_000);
    console.log(`ha-upgrade: run of ${jobs.length} jobs done in ${Date.now() - started} ms`);
    expect(handover, 'handover time').toBeLessThanOrEqual(HANDOVER_LIMIT_MS);
    expect(final.run.status).toBe('COMPLETED');
    expect(Object.fromEntries(tally(final.jobs.map((j) => j.status)))).toEqual({ COMPLETED: jobs.length });
    expect(small.jobs.map((j) => `${j.spec.id}:${j.status}`).sort()).toEqual(['s1:COMPLETED', 's2:COMPLETED', 's3:COMPLETED']);

    const ids = [...jobs.map((j) => j.id), 's1', 's2', 's3'];
    const counts = tally(readLines(appendFile));
    expect(ids.filter((id) => !counts.has(id)), 'lost work').toEqual([]);
    expect([...counts.keys()].filter((line) => !ids.includes(line))).toEqual([]);
    // Only an attempt in flight at the handover may have run again: its job shows a further attempt.
    const attempts = new Map([...final.jobs, ...small.jobs].filter((j) => j.attempt > 1 || j.lost > 0).map((j) => [j.spec.id, j.attempt]));
    const repeated = [...counts].filter(([, n]) => n > 1);
    expect(repeated.filter(([id, n]) => n > (attempts.get(id) ?? 1)), 'work repeated outside an in-flight attempt').toEqual([]);
    console.log(`ha-upgrade: ${attempts.size} jobs had a further attempt, ${repeated.length} ran more than once`);
  });
});
