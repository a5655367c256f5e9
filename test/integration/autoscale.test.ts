/**
 * Autoscaling on a real cluster: a burst of queued jobs makes the permanent worker start
 * ephemeral `titan worker` processes (at most the pool maximum) that take some of the jobs; once
 * idle they are shut down and exit. Every change of a pool's desired count reaches the scale
 * webhook, and a pool with no permanent worker to start from is held, with its demand reported.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScalingEvent, Stats, WorkerView } from '../../src/protocol/methods.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually, type Proc } from '../helpers/cluster.js';
import { isGone, waitUntil } from '../helpers/processes.js';
import { describeRun, sh, waitJob, waitRunStatus } from '../helpers/scripts.js';

/** Sleeps `$1` seconds, then says which worker it ran on. */
const WHERE = sh('sleep "$1"\necho "ran-on $TITAN_WORKER_ID"\n', 'where.sh');

interface ScalePost {
  path: string;
  body: { pool: unknown; desired: unknown; current: unknown; at: unknown };
}

/** A loopback HTTP server that keeps every POST it receives. */
class WebhookReceiver {
  readonly posts: ScalePost[] = [];
  private readonly server: Server = createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (data += chunk));
    req.on('end', () => {
      if (req.method === 'POST') {
        let body: ScalePost['body'];
        try {
          body = JSON.parse(data) as ScalePost['body'];
        } catch {
          body = { pool: `unparsable: ${data}`, desired: null, current: null, at: null };
        }
        this.posts.push({ path: req.url ?? '', body });
      }
      res.writeHead(204).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = this.server.address();
    if (typeof address !== 'object' || address === null) throw new Error('the webhook receiver has no address');
    return `http://127.0.0.1:${address.port}/scale`;
  }

  /** Desired counts POSTed for a pool, in arrival order. */
  desiredOf(pool: string): number[] {
    return this.posts.filter((p) => p.body.pool === pool).map((p) => p.body.desired as number);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

type EnabledAutoscaler = Extract<Stats['autoscaler'], { enabled: true }>;

async function statsJson(cluster: Cluster): Promise<Stats & { autoscaler: EnabledAutoscaler }> {
  const r = await cluster.cli(['stats', '--json']);
  if (r.code !== 0) throw new Error(`titan stats --json failed: ${r.stderr}`);
  const stats = JSON.parse(r.stdout) as Stats;
  if (!stats.autoscaler.enabled) throw new Error('titan stats says the autoscaler is disabled');
  return stats as Stats & { autoscaler: EnabledAutoscaler };
}

async function workersJson(cluster: Cluster): Promise<WorkerView[]> {
  const r = await cluster.cli(['workers', '--json']);
  if (r.code !== 0) throw new Error(`titan workers --json failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as WorkerView[];
}

const autoscaled = (workers: readonly WorkerView[]): WorkerView[] => workers.filter((w) => w.spawnedBy !== undefined);

/**
 * Ephemeral workers are started by the permanent worker, not by the test, so Cluster.stop() does
 * not know them: remember every pid seen (in the worker list or the parent's log) and kill those
 * still alive.
 */
class EphemeralPids {
  private readonly pids = new Set<number>();

  note(workers: readonly WorkerView[]): void {
    for (const w of autoscaled(workers)) if (w.pid !== undefined && w.pid > 0) this.pids.add(w.pid);
  }

  noteLog(parent: Proc | null): void {
    for (const m of parent?.output().matchAll(/started ephemeral worker \(pid (\d+)\)/g) ?? []) this.pids.add(Number(m[1]));
  }

  killAlive(): void {
    for (const pid of this.pids) {
      if (isGone(pid)) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Exited in between.
      }
    }
  }
}

describe('autoscaling a pool with a permanent worker', () => {
  const receiver = new WebhookReceiver();
  const pids = new EphemeralPids();
  let cluster: Cluster;
  let parent: Proc | null = null;
  let client: TitanClient;
  let parentId = '';
  /** The autoscaled workers that registered during the burst. */
  let spawned: WorkerView[] = [];

  beforeAll(async () => {
    const url = await receiver.start();
    cluster = new Cluster(['--autoscale', 'GENERAL=2', '--scale-up-after', '1', '--idle-stop', '3', '--scale-webhook', url]);
    await cluster.startMaster();
    parent = await cluster.startWorker({ permanent: true, slots: 1, capabilities: ['GENERAL'] });
    client = cluster.client();
    const workers = await client.workers();
    expect(workers).toHaveLength(1);
    parentId = workers[0]?.id ?? '';
  });

  afterAll(async () => {
    pids.noteLog(parent);
    pids.killAlive();
    await cluster?.stop();
    await receiver.close();
  });

  it('a burst of queued jobs starts two autoscaled workers from the permanent one, and they take some of the jobs', async () => {
    const ids = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6'];
    // No retries: a worker that joins while jobs wait must run its first dispatch, not fail it.
    const { runId } = await client.submit({ name: 'burst', jobs: ids.map((id) => ({ id, script: WHERE, args: ['2'], requirement: 'GENERAL', retries: 0 })) });

    // Watch the worker list for the whole burst: how many autoscaled workers at once, and which.
    let watching = true;
    let maxAutoscaled = 0;
    const seen = new Map<string, WorkerView>();
    const watcher = (async () => {
      while (watching) {
        const workers = await client.workers().catch(() => []);
        pids.note(workers);
        const now = autoscaled(workers);
        maxAutoscaled = Math.max(maxAutoscaled, now.length);
        for (const w of now) seen.set(w.id, w);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    try {
      // `titan workers --json` lists two more workers, each spawned by the permanent one.
      spawned = await eventually(
        async () => {
          const workers = await workersJson(cluster);
          pids.note(workers);
          const list = autoscaled(workers);
          return list.length === 2 ? list : null;
        },
        30_000,
        'two autoscaled workers to register',
      );
      for (const w of spawned) {
        expect(w.spawnedBy).toBe(parentId);
        expect(w.permanent).toBe(false);
        expect(w.capabilities).toEqual(['GENERAL']);
        expect(w.slots).toBe(1);
        expect(w.pid).toBeGreaterThan(0);
        expect(isGone(w.pid as number)).toBe(false);
      }

      const view = await waitRunStatus(client, runId, 'COMPLETED', 45_000);
      expect(view.jobs.map((j) => j.status)).toEqual(ids.map(() => 'COMPLETED'));
      expect(view.jobs.map((j) => j.attempt)).toEqual(ids.map(() => 1));

      // Each job says, in its own output, the worker the master recorded for it.
      const ranOn = new Map<string, string>();
      for (const job of view.jobs) {
        const log = await client.logs(job.ref);
        expect(log, `${job.ref}: ${describeRun(view)}`).toContain(`ran-on ${job.workerId}`);
        ranOn.set(job.spec.id, job.workerId ?? '');
      }
      const spawnedIds = new Set(spawned.map((w) => w.id));
      const onAutoscaled = [...ranOn.values()].filter((id) => spawnedIds.has(id));
      expect(onAutoscaled.length, `jobs ran on ${JSON.stringify(Object.fromEntries(ranOn))}`).toBeGreaterThan(0);
      expect([...ranOn.values()].every((id) => id === parentId || spawnedIds.has(id))).toBe(true);
    } finally {
      watching = false;
      await watcher;
    }
    expect(maxAutoscaled).toBe(2);
    expect([...seen.keys()].sort()).toEqual(spawned.map((w) => w.id).sort());

    // The permanent worker launched them as real processes, each logging under its work directory.
    const ephemeralDir = join(cluster.dir, 'worker-0', 'ephemeral');
    const logs = readdirSync(ephemeralDir).map((spawnId) => join(ephemeralDir, spawnId, 'worker.log'));
    expect(logs).toHaveLength(2);
    for (const log of logs) expect(existsSync(log) && readFileSync(log, 'utf8')).toMatch(/joined master/);
    const launched = [...(parent?.output().matchAll(/started ephemeral worker \(pid (\d+)\)/g) ?? [])].map((m) => Number(m[1]));
    const byNumber = (a: number, b: number): number => a - b;
    expect(launched.sort(byNumber)).toEqual(spawned.map((w) => w.pid as number).sort(byNumber));
  });

  it('titan stats shows the spawn and registered decisions with their reasons, as JSON and as text', async () => {
    expect(spawned).toHaveLength(2);
    const text = await cluster.cli(['stats']);
    expect(text.code, text.stderr).toBe(0);
    const stats = await statsJson(cluster);
    const { events } = stats.autoscaler;

    expect(stats.autoscaler.policy.maxPerPool).toEqual({ GENERAL: 2 });
    const spawns = events.filter((e) => e.action === 'spawn');
    expect(spawns).toHaveLength(2);
    for (const e of spawns) {
      expect(e.pool).toBe('GENERAL');
      expect(e.workerId).toBe(parentId);
      expect(e.reason).toMatch(/^\d+ GENERAL jobs? waited \d+\.\d s with no free slot$/);
    }
    const registered = events.filter((e) => e.action === 'registered');
    expect(registered.map((e) => e.workerId).sort()).toEqual(spawned.map((w) => w.id).sort());
    for (const e of registered) expect(e.reason).toMatch(new RegExp(`^started by ${parentId.replace(/\./g, '\\.')} in \\d+\\.\\d s$`));
    expect(events.filter((e) => e.action === 'spawn-failed')).toEqual([]);
    // Asked for more than the maximum allows: the hold says so.
    expect(events.some((e) => e.action === 'hold' && e.reason === 'GENERAL at its maximum of 2 autoscaled workers')).toBe(true);

    // The text shows the pool table with a DESIRED column and the recent decisions, one per line.
    expect(text.stdout).toMatch(/POOL\s+WORKERS\s+SLOTS BUSY\s+QUEUED\s+SERVICES\s+DESIRED/);
    expect(text.stdout).toMatch(/^autoscaler {2}\d+ worker\(s\) starting; recent decisions:$/m);
    const line = (e: ScalingEvent): string => `  ${e.pool}  ${e.action}${e.workerId ? ` ${e.workerId}` : ''}: ${e.reason}`;
    const shown = events.slice(-10).filter((e) => e.action === 'spawn' || e.action === 'registered');
    expect(shown.length).toBeGreaterThan(0);
    for (const e of shown) expect(text.stdout).toContain(line(e));
  });

  it('idle autoscaled workers are shut down: they leave the worker list, their processes exit, and stats say why', async () => {
    expect(spawned).toHaveLength(2);
    const gone = await eventually(
      async () => {
        const workers = await workersJson(cluster);
        pids.note(workers);
        return autoscaled(workers).length === 0 ? workers : null;
      },
      30_000,
      'the autoscaled workers to leave',
    );
    expect(gone.map((w) => w.id)).toEqual([parentId]);
    for (const w of spawned) expect(await waitUntil(() => isGone(w.pid as number), 15_000), `pid ${w.pid} of ${w.id}`).toBe(true);

    const text = await cluster.cli(['workers']);
    expect(text.code, text.stderr).toBe(0);
    for (const w of spawned) expect(text.stdout).not.toContain(w.id);

    const { events } = (await statsJson(cluster)).autoscaler;
    const stops = events.filter((e) => e.action === 'stop');
    expect(stops.map((e) => e.workerId).sort()).toEqual(spawned.map((w) => w.id).sort());
    for (const e of stops) expect(e.reason).toMatch(/^idle for \d+\.\d s$/);
    // The permanent worker stays.
    expect(stops.some((e) => e.workerId === parentId)).toBe(false);
    expect(parent?.child.exitCode).toBeNull();
    expect(parent?.child.signalCode).toBeNull();
  });

  it('the scale webhook followed the desired GENERAL count up during the burst and back down', async () => {
    // The last change (back to the permanent worker alone) may still be on its way.
    await eventually(() => receiver.desiredOf('GENERAL').at(-1) === 1, 10_000, 'the webhook to report GENERAL back at 1');
    const posts = receiver.posts.filter((p) => p.body.pool === 'GENERAL');
    for (const { path, body } of posts) {
      expect(path).toBe('/scale');
      expect(Number.isInteger(body.desired)).toBe(true);
      expect(Number.isInteger(body.current)).toBe(true);
      expect(typeof body.at === 'string' && !Number.isNaN(Date.parse(body.at))).toBe(true);
    }
    const desired = receiver.desiredOf('GENERAL');
    const peak = desired.findIndex((d) => d > 1);
    expect(peak, `desired counts ${desired.join(', ')}`).toBeGreaterThanOrEqual(0);
    expect(desired.slice(peak).lastIndexOf(1)).toBeGreaterThan(0);
    // When it came back down, the autoscaled workers were still there (draining out).
    const down = posts.at(-1)?.body;
    expect(down?.desired).toBe(1);
    expect(down?.current as number).toBeGreaterThan(1);
    // No other pool was ever reported: only GENERAL has workers or jobs.
    expect(new Set(receiver.posts.map((p) => p.body.pool))).toEqual(new Set(['GENERAL']));
  });
});

describe('autoscaling a pool with no permanent worker', () => {
  const receiver = new WebhookReceiver();
  const pids = new EphemeralPids();
  let cluster: Cluster;
  let parent: Proc | null = null;

  beforeAll(async () => {
    const url = await receiver.start();
    // GPU may have autoscaled workers, but there is no permanent GPU worker to start them from.
    cluster = new Cluster(['--autoscale', 'GENERAL=2,GPU=2', '--scale-up-after', '1', '--idle-stop', '3', '--scale-webhook', url]);
    await cluster.startMaster();
    parent = await cluster.startWorker({ permanent: true, slots: 1, capabilities: ['GENERAL'] });
  });

  afterAll(async () => {
    pids.noteLog(parent);
    pids.killAlive();
    await cluster?.stop();
    await receiver.close();
  });

  it('holds GPU jobs with a reason, reports the GPU demand to the webhook, and starts nothing', async () => {
    const client = cluster.client();
    const { runId } = await client.submit({
      name: 'gpu',
      jobs: ['g1', 'g2'].map((id) => ({ id, script: WHERE, args: ['0'], requirement: 'GPU' })),
    });
    const hold = await eventually(
      async () => (await statsJson(cluster)).autoscaler.events.find((e) => e.action === 'hold' && e.pool === 'GPU'),
      20_000,
      'a GPU hold event',
    );
    expect(hold.reason).toBe('no permanent GPU worker to start a worker from');
    expect(hold.workerId).toBeNull();

    const gpuPost = await eventually(() => receiver.posts.find((p) => p.body.pool === 'GPU' && (p.body.desired as number) >= 1), 10_000, 'a GPU desired count');
    expect(Number.isInteger(gpuPost.body.desired)).toBe(true);
    expect(gpuPost.body.current).toBe(0);

    const stats = await statsJson(cluster);
    expect(stats.autoscaler.desired.GPU).toBeGreaterThanOrEqual(1);
    expect(stats.pools.GPU?.queued).toBe(2);
    // The hold is recorded once, however many ticks it lasts, and nothing is started for GPU.
    await new Promise((r) => setTimeout(r, 2_500));
    const later = await statsJson(cluster);
    expect(later.autoscaler.events.filter((e) => e.pool === 'GPU')).toEqual([hold]);
    const workers = await workersJson(cluster);
    pids.note(workers);
    expect(autoscaled(workers)).toEqual([]);
    expect((await client.getJob(`${runId}/g1`)).job.status).toBe('QUEUED');

    expect(await client.cancelRun(runId)).toBeGreaterThan(0);
    await waitJob(client, `${runId}/g1`, 'CANCELLED', 10_000);
    await waitRunStatus(client, runId, 'CANCELLED', 10_000);
  });
});
