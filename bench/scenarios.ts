/**
 * The scenarios of DESIGN's performance targets. Each one starts its own cluster of real
 * processes (so `--only` can run any of them alone), warms up, repeats the measurement and
 * reports the median. See bench/README.md for the method.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobSpecInput } from '../src/core/model.js';
import type { JobInput, RunInput, TitanClient } from '../src/sdk/client.js';
import { type BenchCluster, trackChild, withCluster } from './cluster.js';
import { infoRow, type Row, storeCell, targetRow } from './report.js';
import { type BenchStore, startStore, type StoreKind } from './stores.js';
import { fmt, median, now, percentile } from './stats.js';

export interface Context {
  quick: boolean;
  /** Measured repetitions per scenario (the median is reported). */
  runs: number;
  /** Unmeasured repetitions before them. */
  warmups: number;
  /** Where the master and workers write CPU profiles (`--profile`); off when undefined. */
  profileDir: string | undefined;
  /** A temporary directory for scripts and lists. */
  scratch: string;
  /** The stores dispatch, chain, submit latency and the DAG are measured on again, beside SQLite. */
  stores: readonly StoreKind[];
  log(line: string): void;
}

type StoreResults<T> = Partial<Record<StoreKind, T>>;

/**
 * Runs `measure` again with the master on each other store whose column is on, each a private
 * server started for it (as durable as the embedded store) and stopped afterwards.
 */
async function onStores<T>(ctx: Context, label: string, measure: (store: BenchStore) => Promise<T>): Promise<StoreResults<T>> {
  const results: StoreResults<T> = {};
  for (const kind of ctx.stores) {
    const store = await startStore(kind, label);
    ctx.log(`[${label}] the same again with the master on ${store.url}`);
    try {
      results[kind] = await measure(store);
    } finally {
      await store.stop();
    }
  }
  return results;
}

/** A row with a cell per other store measured. */
function withStores<T>(row: Row, results: StoreResults<T>, cell: (result: T) => string): Row {
  const stores: Partial<Record<StoreKind, string>> = {};
  for (const [kind, result] of Object.entries(results) as [StoreKind, T][]) stores[kind] = cell(result);
  return Object.keys(stores).length === 0 ? row : { ...row, stores };
}

/** The master's options for the store measured on: SQLite when null. */
const storeOption = (store: BenchStore | null): { store?: string } => (store ? { store: store.url } : {});

/** How a repetition's log line names the store, when it is not SQLite. */
const onStoreLabel = (store: BenchStore | null): string => (store ? `, ${store.kind}` : '');

export interface Scenario {
  name: string;
  description: string;
  run(ctx: Context): Promise<Row[]>;
}

export const NOOP_SCRIPT = { name: 'noop.sh', content: 'exit 0\n' };

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function independentJobs(n: number, script: JobInput['script']): JobInput[] {
  return Array.from({ length: n }, (_, i) => ({ id: `j${i}`, script, retries: 0 }));
}

function chainJobs(n: number, script: JobInput['script']): JobInput[] {
  return Array.from({ length: n }, (_, i) => ({ id: `s${i}`, script, retries: 0, dependsOn: i === 0 ? [] : [`s${i - 1}`] }));
}

interface Timed {
  /** Submit call to run completion. */
  ms: number;
  /** Submit call to its acknowledgement. */
  submitMs: number;
}

/** Submits through the SDK and waits (SDK `waitForRun`) until the run is over; it must complete. */
export async function runToCompletion(client: TitanClient, input: RunInput): Promise<Timed> {
  const t0 = now();
  const { runId } = await client.submit(input);
  const t1 = now();
  const final = await client.waitForRun(runId);
  const ms = now() - t0;
  if (final.run.status !== 'COMPLETED') {
    const bad = final.jobs.filter((j) => j.status !== 'COMPLETED').slice(0, 3);
    throw new Error(`run ${runId} ended ${final.run.status}: ${bad.map((j) => `${j.spec.id} ${j.status} ${j.error ?? ''}`).join('; ')}`);
  }
  return { ms, submitMs: t1 - t0 };
}

/** Warm-ups (discarded), then `ctx.runs` measured repetitions. */
async function repeat<T>(ctx: Context, label: string, fn: (measured: boolean) => Promise<T>, describe: (r: T) => string): Promise<T[]> {
  for (let i = 0; i < ctx.warmups; i++) {
    const r = await fn(false);
    ctx.log(`${label} warm-up: ${describe(r)}`);
  }
  const results: T[] = [];
  for (let i = 0; i < ctx.runs; i++) {
    const r = await fn(true);
    ctx.log(`${label} run ${i + 1}/${ctx.runs}: ${describe(r)}`);
    results.push(r);
  }
  return results;
}

/**
 * CPU time used by the master, the workers and this (client) process while measuring, to show
 * which process a throughput figure is bound by. On 2 cores, 15,000 jobs/s leaves 133 µs of CPU
 * per job for all processes together.
 */
class CpuMeter {
  private readonly used = { master: 0, workers: 0, client: 0, store: 0 };
  private start: { master: number; workers: number; client: number; store: number } | null = null;

  constructor(
    private readonly cluster: BenchCluster,
    /** The store server the master stores in, when it is not the embedded one. */
    private readonly store: BenchStore | null = null,
  ) {}

  private sample(): { master: number; workers: number; client: number; store: number } {
    const own = process.cpuUsage();
    return {
      master: this.cluster.master.cpuMs(),
      workers: this.cluster.workers.reduce((sum, w) => sum + w.cpuMs(), 0),
      client: (own.user + own.system) / 1000,
      store: this.store?.cpuMs() ?? 0,
    };
  }

  resume(): void {
    this.start = this.sample();
  }

  pause(): void {
    if (!this.start) return;
    const end = this.sample();
    this.used.master += end.master - this.start.master;
    this.used.workers += end.workers - this.start.workers;
    this.used.client += end.client - this.start.client;
    this.used.store += end.store - this.start.store;
    this.start = null;
  }

  perJob(jobs: number): string {
    const us = (ms: number): string => fmt((ms * 1000) / jobs);
    return `${us(this.used.master)} / ${us(this.used.workers)} / ${us(this.used.client)} µs${this.store ? ` + ${this.store.serverName} ${us(this.used.store)} µs` : ''}`;
  }
}

// ---- raw process starts (baselines) -------------------------------------------------------------

/** One child, stdio piped and drained as the worker does; resolves when it exited and its pipes closed. */
function spawnOnce(command: string, args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = trackChild(spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolvePromise() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}

/** Node's own spawn rate: `n` starts of the command, `parallel` at a time (processes per second). */
async function nodeSpawnRate(command: string, args: readonly string[], cwd: string, n: number, parallel: number): Promise<number> {
  let next = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        next++;
        await spawnOnce(command, args, cwd);
      }
    }),
  );
  return n / ((now() - t0) / 1000);
}

/** `xargs -P<parallel> -n1 <command...> <script>` over `n` copies of the script path (processes per second). */
function xargsRate(command: readonly string[], script: string, cwd: string, n: number, parallel: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const t0 = now();
    const child = trackChild(spawn('xargs', [`-P${parallel}`, '-n1', ...command], { cwd, stdio: ['pipe', 'ignore', 'pipe'] }));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`xargs ${command.join(' ')} exited with ${code}: ${err}`));
      else resolvePromise(n / ((now() - t0) / 1000));
    });
    child.stdin.end(`${script}\n`.repeat(n));
  });
}

// ---- scenarios ----------------------------------------------------------------------------------

const dispatch: Scenario = {
  name: 'dispatch',
  description: 'independent no-op jobs through a real worker process over TCP, durable store on',
  async run(ctx) {
    const n = ctx.quick ? 2000 : 10_000;
    const measure = (store: BenchStore | null) =>
      withCluster('dispatch', { profileDir: ctx.profileDir, ...storeOption(store) }, async (cluster) => {
        await cluster.startWorker({ slots: 512, executor: 'noop' });
        const client = cluster.client();
        const cpu = new CpuMeter(cluster, store);
        const results = await repeat(
          ctx,
          `[dispatch${onStoreLabel(store)}] ${n} jobs`,
          async (measured) => {
            if (measured) cpu.resume();
            const r = await runToCompletion(client, { name: 'dispatch', jobs: independentJobs(n, NOOP_SCRIPT) });
            if (measured) cpu.pause();
            return r;
          },
          (r) => `${fmt(r.ms)} ms (${fmt(n / (r.ms / 1000))} jobs/s; submit acked after ${fmt(r.submitMs)} ms)`,
        );
        return { rate: median(results.map((r) => n / (r.ms / 1000))), submitMs: median(results.map((r) => r.submitMs)), cpu: cpu.perJob(n * ctx.runs) };
      });
    const sqlite = await measure(null);
    const others = await onStores(ctx, 'dispatch', measure);
    return [
      withStores(targetRow(`1. dispatch: ${n} no-op jobs → 1 worker × 512 slots (submit → run done)`, sqlite.rate, 'jobs/s', 'atLeast', 15_000), others, (r) => storeCell(r.rate, 'jobs/s', 'atLeast', 15_000)),
      withStores(infoRow('   of which submit → ack (SDK submit, incl. blob.missing)', `${fmt(sqlite.submitMs)} ms`), others, (r) => `${fmt(r.submitMs)} ms`),
      withStores(infoRow('   CPU per job: master / worker / bench client', sqlite.cpu), others, (r) => r.cpu),
    ];
  },
};

const chain: Scenario = {
  name: 'chain',
  description: '40-step chain of no-op jobs',
  async run(ctx) {
    const steps = 40;
    const measure = (store: BenchStore | null) =>
      withCluster('chain', { profileDir: ctx.profileDir, ...storeOption(store) }, async (cluster) => {
        await cluster.startWorker({ slots: 512, executor: 'noop' });
        const client = cluster.client();
        const results = await repeat(
          ctx,
          `[chain${onStoreLabel(store)}] ${steps} no-op steps`,
          () => runToCompletion(client, { name: 'chain', jobs: chainJobs(steps, NOOP_SCRIPT) }),
          (r) => `${fmt(r.ms)} ms (${fmt(r.ms / steps)} ms/step)`,
        );
        return median(results.map((r) => r.ms)) / steps;
      });
    const sqlite = await measure(null);
    const others = await onStores(ctx, 'chain', measure);
    return [withStores(targetRow(`2. chain: ${steps} no-op steps (submit → run done) / ${steps}`, sqlite, 'ms/step', 'atMost', 1), others, (r) => storeCell(r, 'ms/step', 'atMost', 1))];
  },
};

interface ProcessKind {
  key: string;
  label: string;
  /** Jobs per measured run (full size); --quick uses a tenth. */
  jobs: number;
  file: string;
  content: string;
  /** How Titan's executor starts it (interpreterFor), used for the baselines too. */
  command: string[];
  target: number;
}

const PROCESS_KINDS: ProcessKind[] = [
  { key: '3a', label: "python print('x')", jobs: 200, file: 'print_x.py', content: "print('x')\n", command: ['python3', '-u'], target: 85 },
  { key: '3b', label: 'shell exit 0', jobs: 400, file: 'exit0.sh', content: 'exit 0\n', command: ['bash'], target: 35 },
];

const processJobs: Scenario = {
  name: 'process',
  description: 'trivial process jobs on 1 worker × 4 slots vs starting them directly 4 at a time',
  async run(ctx) {
    const rows: Row[] = [];
    return withCluster('process', { profileDir: ctx.profileDir }, async (cluster) => {
      await cluster.startWorker({ slots: 4, executor: 'process' });
      const client = cluster.client();
      for (const kind of PROCESS_KINDS) {
        const n = ctx.quick ? kind.jobs / 10 : kind.jobs;
        const path = join(ctx.scratch, kind.file);
        writeFileSync(path, kind.content, { mode: 0o755 });
        const [command, ...args] = kind.command as [string, ...string[]];
        const measureOnce = async (jobs: number, reversed: boolean): Promise<{ titan: number; xargs: number; node: number }> => {
          // Interleaved, in alternating order, so that drift in the machine's speed affects all three alike.
          const r = { titan: 0, xargs: 0, node: 0 };
          const steps: (() => Promise<void>)[] = [
            async () => void (r.titan = jobs / ((await runToCompletion(client, { name: `process-${kind.key}`, jobs: independentJobs(jobs, path) })).ms / 1000)),
            async () => void (r.xargs = await xargsRate(kind.command, path, ctx.scratch, jobs, 4)),
            async () => void (r.node = await nodeSpawnRate(command, [...args, path], ctx.scratch, jobs, 4)),
          ];
          for (const step of reversed ? steps.reverse() : steps) await step();
          return r;
        };
        for (let i = 0; i < ctx.warmups; i++) {
          const r = await measureOnce(Math.max(8, n >> 2), false);
          ctx.log(`[process ${kind.key}] warm-up (${Math.max(8, n >> 2)} jobs): titan ${fmt(r.titan)}/s, xargs ${fmt(r.xargs)}/s, node ${fmt(r.node)}/s`);
        }
        const results: { titan: number; xargs: number; node: number }[] = [];
        for (let i = 0; i < ctx.runs; i++) {
          const r = await measureOnce(n, i % 2 === 1);
          ctx.log(`[process ${kind.key}] run ${i + 1}/${ctx.runs} (${n} jobs): titan ${fmt(r.titan)}/s, xargs ${fmt(r.xargs)}/s (${fmt((100 * r.titan) / r.xargs)}%), node ${fmt(r.node)}/s`);
          results.push(r);
        }
        const titan = median(results.map((r) => r.titan));
        const xargs = median(results.map((r) => r.xargs));
        const ratio = median(results.map((r) => (100 * r.titan) / r.xargs));
        rows.push(
          infoRow(`${kind.key}. ${kind.label}: Titan, ${n} jobs, 1 worker × 4 slots`, `${fmt(titan)} jobs/s`),
          infoRow(`${kind.key}. ${kind.label}: direct, xargs -P4 -n1 ${kind.command.join(' ')}`, `${fmt(xargs)} starts/s`),
          targetRow(`${kind.key}. ${kind.label}: Titan / direct (same run)`, ratio, '%', 'atLeast', kind.target),
          infoRow(`${kind.key}. ${kind.label}: Node spawn, 4 at a time (context)`, `${fmt(median(results.map((r) => r.node)))} starts/s`),
        );
      }
      return rows;
    });
  },
};

const shellChain: Scenario = {
  name: 'shell-chain',
  description: '40-step chain of trivial shell jobs: orchestration overhead per step',
  async run(ctx) {
    const steps = 40;
    const path = join(ctx.scratch, 'exit0.sh');
    writeFileSync(path, 'exit 0\n', { mode: 0o755 });
    return withCluster('shell-chain', { profileDir: ctx.profileDir }, async (cluster) => {
      await cluster.startWorker({ slots: 4, executor: 'process' });
      const client = cluster.client();
      // The raw cost of one step: start `bash exit0.sh` and wait for it, one at a time.
      const samples = ctx.quick ? 20 : 60;
      for (let i = 0; i < 5; i++) await spawnOnce('bash', [path], ctx.scratch);
      const raw: number[] = [];
      for (let i = 0; i < samples; i++) {
        const t0 = now();
        await spawnOnce('bash', [path], ctx.scratch);
        raw.push(now() - t0);
      }
      const rawMs = median(raw);
      ctx.log(`[shell-chain] raw spawn of bash exit0.sh: median ${fmt(rawMs)} ms over ${samples}`);
      const results = await repeat(
        ctx,
        `[shell-chain] ${steps} shell steps`,
        () => runToCompletion(client, { name: 'shell-chain', jobs: chainJobs(steps, path) }),
        (r) => `${fmt(r.ms)} ms (${fmt(r.ms / steps)} ms/step)`,
      );
      const chainMs = median(results.map((r) => r.ms));
      return [
        infoRow(`4. raw spawn of bash exit0.sh (median of ${samples}, sequential)`, `${fmt(rawMs)} ms`),
        infoRow(`4. chain of ${steps} shell jobs, submit → run done`, `${fmt(chainMs)} ms`),
        targetRow(`4. shell chain overhead: (chain − ${steps} × raw) / ${steps}`, (chainMs - steps * rawMs) / steps, 'ms/step', 'atMost', 5),
      ];
    });
  },
};

/** Uploads the no-op script once (via the SDK) and returns a job that references it by hash. */
async function uploadedJob(client: TitanClient): Promise<JobSpecInput> {
  await client.submit({ name: 'upload', jobs: [{ id: 'upload', script: NOOP_SCRIPT }] });
  return { id: 'j', script: { name: NOOP_SCRIPT.name, sha256: sha256(NOOP_SCRIPT.content) } };
}

const submitLatency: Scenario = {
  name: 'submit-latency',
  description: 'submit → durable ack of a one-job run, sequential, loopback, no worker',
  async run(ctx) {
    const n = ctx.quick ? 200 : 1000;
    const measure = (store: BenchStore | null) =>
      withCluster('submit', { profileDir: ctx.profileDir, ...storeOption(store) }, async (cluster) => {
        const client = cluster.client();
        const job = await uploadedJob(client);
        const once = async (): Promise<number[]> => {
          const samples: number[] = [];
          for (let i = 0; i < n; i++) {
            const t0 = now();
            await client.call('submit', { run: { name: 'latency', jobs: [job] } });
            samples.push(now() - t0);
          }
          return samples;
        };
        const results = await repeat(ctx, `[submit-latency${onStoreLabel(store)}] ${n} submits`, once, (s) => `p50 ${fmt(percentile(s, 50))} ms, p99 ${fmt(percentile(s, 99))} ms, max ${fmt(Math.max(...s))} ms`);
        return { p50: median(results.map((s) => percentile(s, 50))), p99: median(results.map((s) => percentile(s, 99))) };
      });
    const sqlite = await measure(null);
    const others = await onStores(ctx, 'submit-latency', measure);
    return [
      withStores(targetRow(`5. submit → durable ack, p50 (${n} sequential raw submits)`, sqlite.p50, 'ms', 'atMost', 1), others, (r) => storeCell(r.p50, 'ms', 'atMost', 1)),
      withStores(targetRow(`5. submit → durable ack, p99`, sqlite.p99, 'ms', 'atMost', 5), others, (r) => storeCell(r.p99, 'ms', 'atMost', 5)),
    ];
  },
};

/** `layers` × `width` jobs; each job after the first layer depends on three jobs of the layer before. */
function layeredDag(layers: number, width: number, job: JobSpecInput): JobSpecInput[] {
  const jobs: JobSpecInput[] = [];
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      const parents = l === 0 ? [] : [...new Set([i, (i + 1) % width, (i + 37) % width])].map((p) => `n${l - 1}_${p}`);
      jobs.push({ ...job, id: `n${l}_${i}`, dependsOn: parents });
    }
  }
  return jobs;
}

const dag: Scenario = {
  name: 'dag',
  description: 'a layered 10,000-job DAG: submit call → validated, durable ack (no worker)',
  async run(ctx) {
    const layers = ctx.quick ? 20 : 100;
    const width = 100;
    const n = layers * width;
    const measure = (store: BenchStore | null) =>
      withCluster('dag', { profileDir: ctx.profileDir, ...storeOption(store) }, async (cluster) => {
        const client = cluster.client();
        const job = await uploadedJob(client);
        const jobs = layeredDag(layers, width, job);
        const results = await repeat(
          ctx,
          `[dag${onStoreLabel(store)}] ${n} jobs`,
          async () => {
            const t0 = now();
            const res = await client.call('submit', { run: { name: 'dag', jobs } });
            const ms = now() - t0;
            if (res.jobs.length !== n) throw new Error(`expected ${n} jobs acknowledged, got ${res.jobs.length}`);
            return ms;
          },
          (ms) => `${fmt(ms)} ms`,
        );
        return median(results);
      });
    const sqlite = await measure(null);
    const others = await onStores(ctx, 'dag', measure);
    return [withStores(targetRow(`6. DAG of ${n} jobs (${layers} layers × ${width}, 3 parents each): submit → ack`, sqlite, 'ms', 'atMost', 1000), others, (r) => storeCell(r, 'ms', 'atMost', 1000))];
  },
};

const rss: Scenario = {
  name: 'rss',
  description: 'master RSS after 100,000 completed no-op jobs',
  async run(ctx) {
    const total = ctx.quick ? 10_000 : 100_000;
    const perRun = 10_000;
    return withCluster('rss', { profileDir: ctx.profileDir }, async (cluster: BenchCluster) => {
      await cluster.startWorker({ slots: 512, executor: 'noop' });
      const client = cluster.client();
      const before = cluster.master.memory();
      const cpu = new CpuMeter(cluster);
      cpu.resume();
      const t0 = now();
      for (let done = 0; done < total; done += perRun) {
        const r = await runToCompletion(client, { name: 'rss', jobs: independentJobs(perRun, NOOP_SCRIPT) });
        ctx.log(`[rss] ${done + perRun}/${total} jobs completed (${fmt(perRun / (r.ms / 1000))} jobs/s), master RSS ${fmt(cluster.master.memory().rssKb / 1024)} MB`);
      }
      const elapsed = now() - t0;
      cpu.pause();
      // Let the last run's retirement and any pending commit settle before reading.
      await new Promise((r) => setTimeout(r, 1000));
      const after = cluster.master.memory();
      return [
        targetRow(`6. master RSS after ${total.toLocaleString('en-US')} completed jobs (${total / perRun} runs)`, after.rssKb / 1024, 'MB', 'atMost', 300),
        infoRow('   master RSS at start / peak (VmHWM)', `${fmt(before.rssKb / 1024)} / ${fmt(after.hwmKb / 1024)} MB`),
        infoRow(`   throughput over the ${total.toLocaleString('en-US')} jobs`, `${fmt(total / (elapsed / 1000))} jobs/s`),
        infoRow('   CPU per job: master / worker / bench client', cpu.perJob(total)),
      ];
    });
  },
};

export const SCENARIOS: readonly Scenario[] = [dispatch, chain, processJobs, shellChain, submitLatency, dag, rss];
