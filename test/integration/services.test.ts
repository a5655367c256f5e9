/**
 * Long-running services end to end, with real master, worker and Python processes: ports from
 * the master's range, readiness, TITAN_SERVICE_<ID> for dependents, restarts with backoff, crash
 * loops, stopping, fail-fast on a taken port, a master restart the service lives through, and a
 * restarted worker stopping what its previous life left running (pid files).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceView, Stats, WorkerView } from '../../src/protocol/methods.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually, kill } from '../helpers/cluster.js';
import { cmdline, isGone, pidAlive, reaperOf, waitUntil } from '../helpers/processes.js';
import { readPid, TempDir, waitJob, waitRunStatus } from '../helpers/scripts.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An HTTP service on 127.0.0.1:$PORT: /health answers 200 "healthy", /hello names the job and attempt. */
const SERVE_PY = `import http.server, os, sys
port = int(os.environ["PORT"])
job = os.environ.get("TITAN_JOB_ID", "?")
attempt = os.environ.get("TITAN_ATTEMPT", "?")
print(f"serving {job} attempt {attempt} PORT={port} argv={' '.join(sys.argv[1:])}", flush=True)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            status, body = 200, b"healthy"
        elif self.path == "/hello":
            status, body = 200, f"hello from {job} attempt {attempt}".encode()
        else:
            status, body = 404, b"no such page"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
`;

/** A dependent: finds the service "api" through TITAN_SERVICE_API and prints what /hello says. */
const CLIENT_PY = `import os, urllib.request
addr = os.environ["TITAN_SERVICE_API"]
print(f"service at {addr}", flush=True)
with urllib.request.urlopen(f"http://{addr}/hello", timeout=10) as res:
    print(f"status {res.status} body: {res.read().decode()}", flush=True)
`;

/** Exits 1 at once, every time. */
const CRASH_PY = `import os, sys
print(f"crashing attempt {os.environ['TITAN_ATTEMPT']}", flush=True)
sys.exit(1)
`;

/** Writes its pid to argv[1] and never listens on anything. */
const SILENT_PY = `import os, sys, time
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
print("not listening", flush=True)
time.sleep(120)
`;

/**
 * A random, small range of service ports between the default service range (20000-29999, which
 * other test files' clusters may use) and Linux's ephemeral ports (32768 and up), so clusters in
 * parallel test files rarely share one.
 */
function portRange(): [number, number] {
  const lo = 30_000 + Math.floor(Math.random() * 270) * 10;
  return [lo, lo + 9];
}

function findService(services: readonly ServiceView[], ref: string): ServiceView | undefined {
  return services.find((s) => s.ref === ref);
}

/** Waits until the service is RUNNING and ready (upSince set), optionally at a given attempt or later. */
function waitUp(client: TitanClient, ref: string, minAttempt = 1, timeoutMs = 20_000): Promise<ServiceView & { pid: number; port: number; upSince: number }> {
  return eventually(
    async () => {
      const s = findService(await client.services(), ref);
      if (s?.status === 'RUNNING' && s.upSince !== null && s.pid !== null && s.port !== null && s.attempt >= minAttempt) return s as ServiceView & { pid: number; port: number; upSince: number };
      return null;
    },
    timeoutMs,
    `service ${ref} to be up (attempt >= ${minAttempt})`,
  );
}

/** The CLI's JSON output, parsed after checking the exit code. */
async function cliJson<T>(cluster: Cluster, args: string[]): Promise<T> {
  const r = await cluster.cli(args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** The pid's command line, or '' once it is gone. */
/** Kills, as a group, each observed service process still alive whose command line is under `dir`. */
function killLeftovers(pids: Iterable<number>, dir: string): void {
  for (const pid of pids) {
    if (!pidAlive(pid) || !cmdline(pid).includes(dir)) continue;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}

/** Stops the service from the CLI and waits until its process is gone. */
async function stopAndCheck(cluster: Cluster, ref: string, pid: number): Promise<void> {
  const stopped = await cluster.cli(['stop', ref]);
  expect(stopped.code, stopped.stderr).toBe(0);
  expect(await waitUntil(() => isGone(pid), 10_000), `service pid ${pid} still alive after titan stop`).toBe(true);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

describe('services', () => {
  const range = portRange();
  const cluster = new Cluster(['--service-ports', `${range[0]}-${range[1]}`]);
  const tmp = new TempDir();
  const seenPids = new Set<number>();
  let client: TitanClient;
  const serve = tmp.write('serve.py', SERVE_PY);
  const dependent = tmp.write('client.py', CLIENT_PY);
  const crash = tmp.write('crash.py', CRASH_PY);
  const silent = tmp.write('silent.py', SILENT_PY);

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4 });
    client = cluster.client();
  });
  afterAll(async () => {
    killLeftovers(seenPids, cluster.dir);
    await cluster.stop();
    tmp.remove();
  });

  it('runs an HTTP service on a port from the range; its dependent reaches it through TITAN_SERVICE_API', async () => {
    const { runId } = await client.submit({
      name: 'http-service',
      jobs: [
        { id: 'api', kind: 'service', script: serve, args: ['--listen', '127.0.0.1:{port}', 'p{port}'], service: { readiness: '/health', readyTimeoutMs: 20_000 } },
        { id: 'client', script: dependent, dependsOn: ['api'], retries: 0 },
      ],
    });
    const ref = `${runId}/api`;
    const done = await waitJob(client, `${runId}/client`, ['COMPLETED', 'DEAD', 'SKIPPED']);
    expect(done.status, done.error ?? '').toBe('COMPLETED');

    const services = await cliJson<ServiceView[]>(cluster, ['services', '--json']);
    const svc = findService(services, ref);
    expect(svc).toMatchObject({ ref, runId, runName: 'http-service', jobId: 'api', status: 'RUNNING', workerId: '127.0.0.1:8100', restarts: 0, attempt: 1, restart: 'always', error: null });
    const port = svc?.port as number;
    const pid = svc?.pid as number;
    seenPids.add(pid);
    expect(port).toBeGreaterThanOrEqual(range[0]);
    expect(port).toBeLessThanOrEqual(range[1]);
    expect(pidAlive(pid)).toBe(true);
    expect(svc?.upSince).toEqual(expect.any(Number));
    expect(svc?.upSince as number).toBeLessThanOrEqual(Date.now());

    // The dependent got host:port and the body the service served.
    const clientLog = await client.logs(`${runId}/client`);
    expect(clientLog).toContain(`service at 127.0.0.1:${port}\n`);
    expect(clientLog).toContain('status 200 body: hello from api attempt 1');
    // {port} was substituted in every argument, and PORT was set.
    await eventually(async () => (await client.logs(ref)).includes('serving'), 10_000, 'the service log');
    expect(await client.logs(ref)).toContain(`serving api attempt 1 PORT=${port} argv=--listen 127.0.0.1:${port} p${port}\n`);
    // The service answers from the test too, on loopback.
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('healthy');

    const workers = await cliJson<WorkerView[]>(cluster, ['workers', '--json']);
    expect(workers).toHaveLength(1);
    expect(workers[0]?.services).toEqual([{ ref, port }]);
    const stats = await cliJson<Stats>(cluster, ['stats', '--json']);
    expect(stats.pools.GENERAL?.services).toBe(1);

    // The service holds its run open while it is up.
    expect((await client.getRun(runId)).run.status).toBe('RUNNING');
    await stopAndCheck(cluster, ref, pid);
    await waitRunStatus(client, runId, 'COMPLETED');
  });

  it('restarts a killed service after a backoff, with a new pid and attempt 2', async () => {
    const { runId } = await client.submit({ name: 'killed-service', jobs: [{ id: 'web', kind: 'service', script: serve, service: { readiness: '/health' } }] });
    const ref = `${runId}/web`;
    const first = await waitUp(client, ref);
    seenPids.add(first.pid);
    expect(first).toMatchObject({ attempt: 1, restarts: 0 });

    // Each service is its own process group; SIGKILL just its leader.
    expect(cmdline(first.pid)).toContain('serve.py');
    process.kill(first.pid, 'SIGKILL');
    const killedAt = Date.now();
    const statuses = new Set<string>();
    const second = await eventually(
      async () => {
        const s = findService(await client.services(), ref);
        if (s) statuses.add(s.status);
        return s?.status === 'RUNNING' && s.attempt >= 2 && s.upSince !== null && s.pid !== null ? (s as ServiceView & { pid: number }) : null;
      },
      20_000,
      'the service to come back',
    );
    seenPids.add(second.pid);
    expect(second).toMatchObject({ attempt: 2, restarts: 1, error: null });
    expect(second.pid).not.toBe(first.pid);
    expect(pidAlive(second.pid)).toBe(true);
    expect(isGone(first.pid)).toBe(true);
    // While it waited for its backoff, the job was FAILED (a restart pending).
    expect([...statuses]).toContain('FAILED');

    const { attempts } = await client.getJob(ref);
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'FAILED'],
      [2, null],
    ]);
    expect(attempts[0]?.error).toContain('SIGKILL');
    // Backoff after the first crash is 1 s +-20%: well over 0.7 s from the kill to the new attempt.
    const restartedAfter = (attempts[1]?.startedAt ?? 0) - killedAt;
    expect(restartedAfter).toBeGreaterThanOrEqual(700);
    expect(restartedAfter).toBeLessThan(15_000);
    // Each attempt's log is kept.
    expect(await client.logs(ref, 1)).toContain('serving web attempt 1');
    await eventually(async () => (await client.logs(ref, 2)).includes('serving web attempt 2'), 10_000, 'the second attempt log');

    await stopAndCheck(cluster, ref, second.pid);
  });

  it('gives up a service that crashes at once: DEAD after crash_loop_limit 3, each attempt log kept', async () => {
    const { runId } = await client.submit({ name: 'crash-loop', jobs: [{ id: 'crasher', kind: 'service', script: crash, service: { crashLoopLimit: 3 } }] });
    const ref = `${runId}/crasher`;
    const dead = await waitJob(client, ref, ['DEAD', 'COMPLETED', 'CANCELLED'], 30_000);
    expect(dead.status).toBe('DEAD');
    expect(dead.error).toMatch(/^crash loop: 3 crashes/);
    expect(dead.error).toContain('exit code 1');
    expect(dead.attempt).toBe(3);
    const { attempts } = await client.getJob(ref);
    expect(attempts.map((a) => [a.attempt, a.outcome, a.exitCode])).toEqual([
      [1, 'FAILED', 1],
      [2, 'FAILED', 1],
      [3, 'FAILED', 1],
    ]);
    // Backoff grows: about 1 s, then about 2 s (each +-20%).
    const gap = (i: number): number => (attempts[i]?.startedAt ?? 0) - (attempts[i - 1]?.finishedAt ?? 0);
    expect(gap(1)).toBeGreaterThanOrEqual(700);
    expect(gap(2)).toBeGreaterThanOrEqual(1400);

    const last = await cluster.cli(['logs', ref, '--attempt', '3']);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stdout).toBe('crashing attempt 3\n');
    expect(await client.logs(ref, 1)).toBe('crashing attempt 1\n');
    expect((await waitRunStatus(client, runId, 'FAILED')).run.status).toBe('FAILED');
    // Given up means not started again.
    await sleep(1500);
    expect((await client.getJob(ref)).job).toMatchObject({ status: 'DEAD', attempt: 3 });
  });

  it('restarts a service that exits cleanly under restart always, ends it under on-failure', async () => {
    const quick = tmp.write('quick.py', 'import os, time\nprint(f"quick attempt {os.environ[\'TITAN_ATTEMPT\']}", flush=True)\ntime.sleep(0.2)\n');
    const once = await client.submit({ name: 'clean-once', jobs: [{ id: 'once', kind: 'service', script: quick, service: { readiness: 'none', restart: 'on-failure', crashLoopLimit: 1 } }] });
    const loop = await client.submit({ name: 'clean-loop', jobs: [{ id: 'loop', kind: 'service', script: quick, service: { readiness: 'none', restart: 'always', crashLoopLimit: 5 } }] });

    const ended = await waitRunStatus(client, once.runId, 'COMPLETED');
    expect(ended.jobs[0]).toMatchObject({ status: 'COMPLETED', attempt: 1, exitCode: 0 });

    const ref = `${loop.runId}/loop`;
    const again = await eventually(async () => {
      const { job } = await client.getJob(ref);
      if (job.status === 'DEAD') throw new Error(`the service died: ${job.error}`);
      return job.attempt >= 2 && job.service?.restarts !== undefined && job.service.restarts >= 1 ? job : null;
    }, 15_000, 'a second attempt after the clean exit');
    expect(again.status).not.toBe('DEAD');
    await eventually(async () => (await client.logs(ref, 2)).includes('quick attempt 2'), 10_000, 'the second attempt log');
    const { attempts } = await client.getJob(ref);
    expect(attempts[0]).toMatchObject({ attempt: 1, outcome: 'COMPLETED', exitCode: 0 });

    const stopped = await cluster.cli(['stop', ref]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const run = await waitRunStatus(client, loop.runId, 'COMPLETED');
    expect(run.jobs[0]?.status).toBe('COMPLETED');
  });

  it('titan stop ends a ready service for good: COMPLETED, process gone, not restarted', async () => {
    const { runId } = await client.submit({ name: 'stopped', jobs: [{ id: 'svc', kind: 'service', script: serve }] });
    const ref = `${runId}/svc`;
    const up = await waitUp(client, ref);
    seenPids.add(up.pid);

    const stopped = await cluster.cli(['stop', ref]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`${ref} stopped`);
    expect(await waitUntil(() => isGone(up.pid), 10_000)).toBe(true);
    const run = await waitRunStatus(client, runId, 'COMPLETED');
    expect(run.jobs[0]).toMatchObject({ status: 'COMPLETED', attempt: 1 });

    await sleep(2000);
    const { job, attempts } = await client.getJob(ref);
    expect(job).toMatchObject({ status: 'COMPLETED', attempt: 1 });
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'CANCELLED']]);
    expect((await client.getRun(runId)).run.status).toBe('COMPLETED');
    await expect(fetch(`http://127.0.0.1:${up.port}/health`)).rejects.toThrow();
    // Stopping it again is refused.
    const again = await cluster.cli(['stop', ref]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already COMPLETED');
  });

  it('titan stop before a service is ready cancels it and skips its dependents', async () => {
    const pidFile = tmp.file('never-ready.pid');
    const { runId } = await client.submit({
      name: 'stopped-early',
      jobs: [
        { id: 'slow', kind: 'service', script: silent, args: [pidFile], service: { readyTimeoutMs: 60_000 } },
        { id: 'after', script: dependent, dependsOn: ['slow'] },
      ],
    });
    const pid = await readPid(pidFile);
    seenPids.add(pid);
    await stopAndCheck(cluster, `${runId}/slow`, pid);
    const run = await waitRunStatus(client, runId, 'CANCELLED');
    expect(Object.fromEntries(run.jobs.map((j) => [j.spec.id, j.status]))).toEqual({ slow: 'CANCELLED', after: 'SKIPPED' });
  });

  it('fails a service that is not ready within readyTimeoutMs: killed, DEAD under restart never', async () => {
    const pidFile = tmp.file('silent.pid');
    const { runId } = await client.submit({
      name: 'not-ready',
      jobs: [{ id: 'mute', kind: 'service', script: silent, args: [pidFile], service: { readiness: 'tcp', readyTimeoutMs: 1500, restart: 'never' } }],
    });
    const ref = `${runId}/mute`;
    const pid = await readPid(pidFile);
    seenPids.add(pid);
    const dead = await waitJob(client, ref, ['DEAD', 'COMPLETED', 'CANCELLED'], 20_000);
    expect(dead.status).toBe('DEAD');
    expect(dead.error).toContain('not ready within 1500 ms');
    expect(await waitUntil(() => isGone(pid), 5000), 'the unready process was killed').toBe(true);
    const { attempts } = await client.getJob(ref);
    expect(attempts).toHaveLength(1);
    expect((attempts[0]?.finishedAt ?? 0) - (attempts[0]?.startedAt ?? 0)).toBeGreaterThanOrEqual(1400);
    expect(await client.logs(ref)).toContain('not listening');
  });

  it('fails fast when a fixed port is in use: DEAD at the first attempt, dependents skipped', async () => {
    const holder = createServer();
    const port = await listen(holder);
    try {
      const started = Date.now();
      const { runId } = await client.submit({
        name: 'port-taken',
        jobs: [
          { id: 'fixed', kind: 'service', script: serve, service: { port, restart: 'always', crashLoopLimit: 5 } },
          { id: 'after', script: dependent, dependsOn: ['fixed'] },
        ],
      });
      const dead = await waitJob(client, `${runId}/fixed`, ['DEAD', 'COMPLETED', 'CANCELLED'], 10_000);
      expect(dead.status).toBe('DEAD');
      expect(dead.error).toContain(`port ${port} is in use`);
      expect(dead.attempt).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      const run = await waitRunStatus(client, runId, 'FAILED');
      expect(run.jobs.find((j) => j.spec.id === 'after')?.status).toBe('SKIPPED');
      expect((await client.getJob(`${runId}/fixed`)).attempts).toHaveLength(1);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('titan submit --wait on a YAML pipeline with a service returns once the dependent is done, the service still up', async () => {
    tmp.write(
      'svc-pipeline.yaml',
      `name: yaml-service
jobs:
  - id: api
    file: serve.py
    type: service
    readiness: /health
    ready_timeout: 20
    restart: on-failure
    crash_loop_limit: 2
    args: ["--yaml", "{port}"]
  - id: client
    file: client.py
    depends_on: [api]
    retries: 0
`,
    );
    const submitted = await cluster.cli(['submit', tmp.file('svc-pipeline.yaml'), '--wait']);
    expect(submitted.code, `${submitted.stdout}\n${submitted.stderr}`).toBe(0);
    expect(submitted.stdout).toMatch(/1 service\(s\) keep running: see titan services/);

    const svc = (await client.services()).find((s) => s.runName === 'yaml-service');
    expect(svc).toMatchObject({ jobId: 'api', status: 'RUNNING', restart: 'on-failure', attempt: 1 });
    const pid = svc?.pid as number;
    seenPids.add(pid);
    expect(pidAlive(pid)).toBe(true);
    const runId = svc?.runId as string;
    expect((await client.getJob(`${runId}/client`)).job.status).toBe('COMPLETED');
    expect(await client.logs(`${runId}/client`)).toContain(`service at 127.0.0.1:${svc?.port}`);
    expect(await client.logs(`${runId}/api`)).toContain(`argv=--yaml ${svc?.port}`);

    await stopAndCheck(cluster, `${runId}/api`, pid);
    await waitRunStatus(client, runId, 'COMPLETED');
  });
});

describe('services across restarts', () => {
  const range = portRange();
  const cluster = new Cluster(['--service-ports', `${range[0]}-${range[1]}`, '--reclaim-grace', '15']);
  const tmp = new TempDir();
  const seenPids = new Set<number>();
  const workDir = join(cluster.dir, 'stable-worker');
  const serve = tmp.write('serve.py', SERVE_PY);

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4, port: 8100, workDir });
  });
  afterAll(async () => {
    killLeftovers(seenPids, cluster.dir);
    await cluster.stop();
    tmp.remove();
  });

  it('keeps a service alive through a master kill -9 and reclaims it (same pid, same attempt)', async () => {
    const before = cluster.client();
    const { runId } = await before.submit({ name: 'survivor', jobs: [{ id: 'svc', kind: 'service', script: serve, service: { readiness: '/health' } }] });
    const ref = `${runId}/svc`;
    const up = await waitUp(before, ref);
    seenPids.add(up.pid);
    before.close();

    // Watch the service process the whole time the master is away.
    let deaths = 0;
    const watcher = setInterval(() => {
      if (!pidAlive(up.pid)) deaths++;
    }, 25);
    try {
      await kill(cluster.master ?? expect.unreachable('no master'), 'SIGKILL');
      await sleep(1000);
      expect(pidAlive(up.pid)).toBe(true);
      await cluster.startMaster();
      const after = cluster.client();
      // Re-claimed: the reconnected worker holds the attempt again.
      const worker = await eventually(
        async () => (await after.workers()).find((w) => w.state === 'connected' && w.services.some((s) => s.ref === ref)),
        20_000,
        'the worker to reclaim the service',
      );
      expect(worker.services).toEqual([{ ref, port: up.port }]);
      const svc = findService(await after.services(), ref);
      expect(svc).toMatchObject({ status: 'RUNNING', pid: up.pid, port: up.port, attempt: 1, restarts: 0, workerId: worker.id });
      expect(svc?.upSince).toEqual(expect.any(Number));
      const res = await fetch(`http://127.0.0.1:${up.port}/hello`);
      expect(await res.text()).toBe('hello from svc attempt 1');
      // Still the one attempt after the reclaim settled.
      await sleep(500);
      expect((await after.getJob(ref)).attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, null]]);
    } finally {
      clearInterval(watcher);
    }
    expect(deaths).toBe(0);
    await stopAndCheck(cluster, ref, up.pid);
    expect((await cluster.client().getJob(ref)).job.status).toBe('COMPLETED');
  });

  it('a restarted worker stops the service its killed predecessor left running (pid file), then the service runs again', async () => {
    const client = cluster.client();
    const { runId } = await client.submit({ name: 'leftover', jobs: [{ id: 'svc', kind: 'service', script: serve, service: { readiness: '/health' } }] });
    const ref = `${runId}/svc`;
    const old = await waitUp(client, ref);
    seenPids.add(old.pid);
    const pidFiles = readdirSync(join(workDir, 'pids')).filter((n) => n.endsWith('.json'));
    expect(pidFiles).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(workDir, 'pids', pidFiles[0] as string), 'utf8'))).toMatchObject({ pgid: old.pid, key: `${ref}#1` });

    // Kill the worker and its orphan reaper, so only the pid file knows about the service.
    const worker = cluster.workers[cluster.workers.length - 1] ?? expect.unreachable('no worker');
    const workerPid = worker.child.pid as number;
    const reapers = reaperOf(workerPid);
    expect(reapers).toHaveLength(1);
    const reaper = reapers[0] as number;
    process.kill(reaper, 'SIGKILL');
    expect(await waitUntil(() => isGone(reaper), 5000)).toBe(true);
    await kill(worker, 'SIGKILL');
    await sleep(500);
    expect(pidAlive(old.pid), 'the service outlived its worker and reaper').toBe(true);

    const restarted = await cluster.startWorker({ slots: 4, port: 8100, workDir });
    expect(restarted.output()).toContain(`stopped leftover attempt ${ref}#1 (process group ${old.pid})`);
    expect(await waitUntil(() => isGone(old.pid), 5000), 'the leftover service is gone').toBe(true);

    const again = await waitUp(client, ref, 2);
    seenPids.add(again.pid);
    expect(again.pid).not.toBe(old.pid);
    expect(pidAlive(again.pid)).toBe(true);
    expect(again).toMatchObject({ status: 'RUNNING', workerId: '127.0.0.1:8100', restarts: 1 });
    const { attempts } = await client.getJob(ref);
    expect(attempts[0]).toMatchObject({ attempt: 1, outcome: 'LOST' });
    expect(attempts.at(-1)).toMatchObject({ attempt: again.attempt, outcome: null });
    await eventually(async () => (await client.logs(ref)).includes(`serving svc attempt ${again.attempt}`), 10_000, 'the new attempt log');

    await stopAndCheck(cluster, ref, again.pid);
    // The stopped service's pid file is gone too.
    expect(await waitUntil(() => readdirSync(join(workDir, 'pids')).length === 0, 5000)).toBe(true);
  });
});
