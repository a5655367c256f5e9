/**
 * Real processes for the benchmark: a master and workers started from the built CLI
 * (bin/titan.js → dist/src/cli/main.js) on loopback, each in a private temporary directory.
 * Every process and directory is registered here so that `cleanupAll` can remove them even when
 * a scenario throws or the bench is interrupted; processes are only ever signalled by their pid.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TitanClient } from '../src/sdk/client.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'bin/titan.js');

const liveProcs = new Set<Proc>();
const tempDirs = new Set<string>();
/** Baseline children (xargs, raw spawns) that are not Titan processes. */
const liveChildren = new Set<ChildProcess>();

/** Registers a short-lived child so that cleanup can kill it (by pid) if the bench stops early. */
export function trackChild<T extends ChildProcess>(child: T): T {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  child.once('error', () => liveChildren.delete(child));
  return child;
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `titan-bench-${prefix}-`));
  // Passable: a worker started as root runs its jobs as an unprivileged user, who reaches their folders through it.
  chmodSync(dir, 0o711);
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Last resort on error or interrupt: SIGKILL what is still running (by pid), delete temp dirs. */
export function cleanupAll(): void {
  for (const p of liveProcs) p.killNow();
  liveProcs.clear();
  for (const child of liveChildren) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

const OUTPUT_LIMIT = 64 * 1024;

let clockTicks: number | null = null;
/** Kernel clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
function ticksPerSecond(): number {
  if (clockTicks === null) {
    const text = (() => {
      try {
        return execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
      } catch {
        return '100';
      }
    })();
    clockTicks = Number(text) > 0 ? Number(text) : 100;
  }
  return clockTicks;
}

/** CPU time (user + system) process `pid` has used so far, in milliseconds (0 once it is gone). */
export function processCpuMs(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // Fields after the command name (which may contain spaces) start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** CPU time of process `pid` and of its children (a server and the backends it forked), in milliseconds. */
export function processTreeCpuMs(pid: number): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone, or the kernel does not list children
  }
  return processCpuMs(pid) + children.reduce((sum, child) => sum + processCpuMs(child), 0);
}

export interface Memory {
  rssKb: number;
  hwmKb: number;
}

/** A child process whose output is kept (the tail) for error messages and readiness checks. */
export class Proc {
  private out = '';
  private done = false;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    liveProcs.add(this);
    const append = (d: Buffer): void => {
      this.out += d.toString();
      if (this.out.length > OUTPUT_LIMIT) this.out = this.out.slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.exited = new Promise((resolvePromise) => {
      child.once('exit', () => {
        this.done = true;
        liveProcs.delete(this);
        resolvePromise();
      });
      child.once('error', () => {
        this.done = true;
        liveProcs.delete(this);
        resolvePromise();
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid (it failed to start)`);
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  output(): string {
    return this.out;
  }

  /** Resolves with the first match of `pattern` in the output; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern} from ${this.name}:\n${this.out}`)), timeoutMs);
      const check = (): void => {
        const m = this.out.match(pattern);
        if (m) finish(null, m);
      };
      const onExit = (): void => finish(new Error(`${this.name} exited before printing ${pattern}:\n${this.out}`));
      const finish = (err: Error | null, m?: RegExpMatchArray): void => {
        clearTimeout(timer);
        this.child.stdout?.off('data', check);
        this.child.stderr?.off('data', check);
        this.child.off('exit', onExit);
        if (err) reject(err);
        else resolvePromise(m as RegExpMatchArray);
      };
      this.child.stdout?.on('data', check);
      this.child.stderr?.on('data', check);
      this.child.once('exit', onExit);
      check();
    });
  }

  /** SIGTERM (Titan's processes shut down cleanly on it), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.done) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  killNow(): void {
    if (!this.done) this.signal('SIGKILL');
  }

  /** Resident and peak resident memory, from /proc/<pid>/status. */
  memory(): Memory {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const field = (name: string): number => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      if (!m) throw new Error(`no ${name} in /proc/${this.pid}/status`);
      return Number(m[1]);
    };
    return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
  }

  /** CPU time (user + system) the process has used so far, in milliseconds. */
  cpuMs(): number {
    return processCpuMs(this.pid);
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }
}

export interface ClusterOptions {
  /** Directory for `node --cpu-prof` output of the master (and workers); off when undefined. */
  profileDir?: string;
  /** The master's `--store` (a Redis or PostgreSQL URL); the embedded SQLite store when undefined. */
  store?: string;
}

export interface WorkerOptions {
  slots: number;
  executor: 'process' | 'noop';
}

/** Starts `titan <args>` from the built CLI (with a CPU profile into `profileDir` when given). */
export function launch(name: string, args: string[], profileDir: string | undefined): Proc {
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${name}-${Date.now()}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Proc(name, child);
}

/**
 * One master process and its workers: the SQLite store in a temp dir (synchronous=FULL as
 * shipped), or the Redis or PostgreSQL server named by `options.store`.
 */
export class BenchCluster {
  readonly workers: Proc[] = [];
  private readonly clients: TitanClient[] = [];
  port = 0;

  private constructor(
    readonly dir: string,
    readonly token: string,
    readonly master: Proc,
    private readonly options: ClusterOptions,
  ) {}

  static async start(label: string, options: ClusterOptions = {}): Promise<BenchCluster> {
    const dir = makeTempDir(label);
    const token = `bench-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const args = ['master', '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--token', token, ...(options.store ? ['--store', options.store] : [])];
    const cluster = new BenchCluster(dir, token, launch(`master-${label}`, args, options.profileDir), options);
    try {
      const m = await cluster.master.waitFor(/listening on 127\.0\.0\.1:(\d+) \(http (\d+)\)/, 30_000);
      cluster.port = Number(m[1]);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Starts a worker process and waits until it has joined. */
  async startWorker(options: WorkerOptions): Promise<Proc> {
    const index = this.workers.length;
    const workDir = join(this.dir, `worker-${index}`);
    mkdirSync(workDir, { recursive: true });
    const args = [
      'worker',
      '--master',
      `127.0.0.1:${this.port}`,
      '--token',
      this.token,
      '--slots',
      String(options.slots),
      '--name',
      '127.0.0.1',
      '--port',
      String(8100 + index),
      '--work-dir',
      workDir,
      '--executor',
      options.executor,
    ];
    const proc = launch(`worker-${index}`, args, this.options.profileDir);
    this.workers.push(proc);
    await proc.waitFor(/joined master/, 30_000);
    return proc;
  }

  client(): TitanClient {
    const c = new TitanClient({ host: '127.0.0.1', port: this.port, token: this.token });
    this.clients.push(c);
    return c;
  }

  /** Stops workers, then the master (gracefully, so CPU profiles are written), and deletes the directory. */
  async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    try {
      for (const w of this.workers) await w.stop();
      await this.master.stop();
    } finally {
      for (const w of this.workers) w.killNow();
      this.master.killNow();
      removeTempDir(this.dir);
    }
  }
}

/** Runs `fn` with a fresh cluster and always stops it afterwards. */
export async function withCluster<T>(label: string, options: ClusterOptions, fn: (cluster: BenchCluster) => Promise<T>): Promise<T> {
  const cluster = await BenchCluster.start(label, options);
  try {
    return await fn(cluster);
  } finally {
    await cluster.stop();
  }
}
