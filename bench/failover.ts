/**
 * HA failover on PostgreSQL: two masters share one store and one blob folder (--blob-dir), the
 * first leads and the second stands by. A steady stream of jobs runs on one worker that knows both
 * masters (`--master a,b`). The leader is killed -9, and the time from the kill to the first
 * attempt the new leader dispatches (the earliest job start after the kill, as the store records
 * it) is compared with DESIGN's 5 s. Each repetition uses a fresh database, folder and processes;
 * there is no warm-up, since every repetition starts cold.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JobInput, TitanClient } from '../src/sdk/client.js';
import { launch, makeTempDir, type Proc, removeTempDir } from './cluster.js';
import { freePort } from './ports.js';
import { infoRow, targetRow } from './report.js';
import type { Scenario } from './scenarios.js';
import { fmt, median, now } from './stats.js';
import { privatePostgres } from './stores.js';

/** Each job sleeps this long: with 4 slots, a steady 16 dispatches per second. */
const JOB_SECONDS = 0.25;
/** More jobs than the leader and its successor get through in a repetition: work is always queued. */
const JOBS = 1000;
/** Jobs completed under the first leader before it is killed: the stream is steady by then. */
const COMPLETED_BEFORE_KILL = 12;
const TARGET_S = 5;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Failover {
  /** Kill → the standby's /healthz says it leads. */
  takeoverMs: number;
  /** Kill → the first attempt the new leader started. */
  firstDispatchMs: number;
}

async function role(httpPort: number): Promise<string | null> {
  try {
    const body = (await (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).json()) as { role?: unknown };
    return typeof body.role === 'string' ? body.role : null;
  } catch {
    return null;
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>, everyMs: number): Promise<T> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

async function once(url: string, script: string, label: string, profileDir: string | undefined): Promise<Failover> {
  const dir = makeTempDir(label);
  const token = `bench-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const blobs = join(dir, 'blobs');
  const procs: Proc[] = [];
  const clients: TitanClient[] = [];
  const master = (name: string, tcp: number, http: number): Proc => {
    const args = ['master', '--store', url, '--blob-dir', blobs, '--data-dir', join(dir, `data-${name}`), '--host', '127.0.0.1', '--port', String(tcp), '--http-port', String(http), '--token', token];
    const proc = launch(`master-${name}`, args, profileDir);
    procs.push(proc);
    return proc;
  };
  try {
    const [tcpA, httpA, tcpB, httpB] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const leader = master('a', tcpA, httpA);
    await leader.waitFor(/listening on 127\.0\.0\.1:\d+/, 30_000);
    const standby = master('b', tcpB, httpB);
    await standby.waitFor(/standing by: the leader is at 127\.0\.0\.1:\d+/, 30_000);
    // It follows the leader: when the leader's connection drops it tries both addresses in turn until one leads.
    const worker = launch('worker', ['worker', '--master', `127.0.0.1:${tcpA},127.0.0.1:${tcpB}`, '--token', token, '--slots', '4', '--name', '127.0.0.1', '--port', '8201', '--work-dir', join(dir, 'worker'), '--executor', 'process'], profileDir);
    procs.push(worker);
    await worker.waitFor(/joined master/, 30_000);

    const client = new TitanClient({ host: '127.0.0.1', port: tcpA, token });
    clients.push(client);
    const jobs: JobInput[] = Array.from({ length: JOBS }, (_, i) => ({ id: `j${i}`, script, retries: 0 }));
    const { runId } = await client.submit({ name: 'failover', jobs });
    await until('a steady stream under the first leader', 60_000, async () => ((await client.getRun(runId)).jobs.filter((j) => j.status === 'COMPLETED').length >= COMPLETED_BEFORE_KILL ? true : null), 100);

    const killedAt = Date.now();
    const t0 = now();
    leader.killNow();
    await until('the standby leading', 30_000, async () => ((await role(httpB)) === 'leader' ? true : null), 25);
    const takeoverMs = now() - t0;
    // Job starts are recorded by the master that dispatched them (Date.now() on this machine): the first after the kill is the new leader's.
    const first = await until(
      'a dispatch by the new leader',
      60_000,
      async () => {
        // A fresh client per try: the new leader may say so on HTTP a moment before its TCP port serves.
        const after = new TitanClient({ host: '127.0.0.1', port: tcpB, token });
        try {
          const starts = (await after.getRun(runId)).jobs.map((j) => j.startedAt).filter((at): at is number => at !== null && at > killedAt);
          return starts.length === 0 ? null : Math.min(...starts);
        } catch {
          return null;
        } finally {
          after.close();
        }
      },
      100,
    );
    return { takeoverMs, firstDispatchMs: first - killedAt };
  } finally {
    for (const c of clients) c.close();
    for (const p of procs) p.killNow();
    await Promise.all(procs.map((p) => p.exited));
    removeTempDir(dir);
  }
}

export const failover: Scenario = {
  name: 'failover',
  description: 'two masters on one PostgreSQL store: kill -9 the leader, time to the first dispatch by the new leader',
  async run(ctx) {
    const script = join(ctx.scratch, 'sleep.sh');
    writeFileSync(script, `sleep ${JOB_SECONDS}\n`, { mode: 0o755 });
    const postgres = await privatePostgres('failover');
    const results: Failover[] = [];
    try {
      for (let i = 1; i <= ctx.runs; i++) {
        const database = `failover_${i}`;
        await postgres.server.query('postgres', `CREATE DATABASE ${database}`);
        const r = await once(postgres.server.urlOf(database), script, `failover-${i}`, ctx.profileDir);
        ctx.log(`[failover] run ${i}/${ctx.runs}: standby leads ${fmt(r.takeoverMs)} ms after the kill, first dispatch by it after ${fmt(r.firstDispatchMs)} ms`);
        results.push(r);
      }
    } finally {
      await postgres.stop();
    }
    const seconds = results.map((r) => r.firstDispatchMs / 1000);
    return [
      targetRow(`7. HA failover (PostgreSQL): leader kill -9 → first dispatch by the new leader, median of ${ctx.runs}`, median(seconds), 's', 'atMost', TARGET_S),
      infoRow('   max / each run', `${fmt(Math.max(...seconds))} s / ${seconds.map((s) => fmt(s)).join(', ')} s`),
      infoRow('   of which the standby leads (kill → its /healthz says leader), median', `${fmt(median(results.map((r) => r.takeoverMs / 1000)))} s`),
    ];
  },
};
