/**
 * Real clusters for integration tests: a master process and worker processes started from the
 * built CLI on loopback, with ports chosen by the OS (the master reports what it bound), a
 * private temporary directory, and cleanup by the pids this helper spawned.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TitanClient } from '../../src/sdk/client.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'bin/titan.js');

export interface WorkerOptions {
  capabilities?: string[];
  slots?: number;
  port?: number;
  name?: string;
  executor?: 'process' | 'noop';
  permanent?: boolean;
  /** The worker's --work-dir; by default a fresh `worker-<index>` folder in the cluster's directory. */
  workDir?: string;
  /** More `titan worker` options. */
  args?: string[];
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
}

export class Cluster {
  readonly dir: string;
  readonly token = `test-token-${process.pid}-${Math.random().toString(36).slice(2)}`;
  port = 0;
  httpPort = 0;
  master: Proc | null = null;
  readonly workers: Proc[] = [];
  private readonly clients: TitanClient[] = [];

  constructor(private readonly masterArgs: string[] = []) {
    this.dir = mkdtempSync(join(tmpdir(), 'titan-test-'));
    // A worker started as root runs its jobs as an unprivileged user: they reach their folders through
    // here, and tests have them write files here.
    chmodSync(this.dir, 0o777);
  }

  /** Starts (or restarts, keeping the data directory and ports) the master. */
  async startMaster(extraArgs: string[] = []): Promise<void> {
    const proc = launch(this.masterCommand(extraArgs));
    this.master = proc;
    const line = await waitForOutput(proc, /listening on 127\.0\.0\.1:(\d+) \(http (\d+)\)/, 20_000);
    this.port = Number(line[1]);
    this.httpPort = Number(line[2]);
  }

  /** The master's command line: its data directory, its ports once known, the token and the cluster's options. */
  masterCommand(extraArgs: string[] = []): string[] {
    return ['master', '--data-dir', join(this.dir, 'data'), '--host', '127.0.0.1', '--port', String(this.port), '--http-port', String(this.httpPort), '--token', this.token, ...this.masterArgs, ...extraArgs];
  }

  /** Starts a worker process and waits until the master lists it. */
  async startWorker(options: WorkerOptions = {}): Promise<Proc> {
    const index = this.workers.length;
    const args = [
      'worker',
      '--master',
      `127.0.0.1:${this.port}`,
      '--token',
      this.token,
      '--capabilities',
      (options.capabilities ?? ['GENERAL']).join(','),
      '--slots',
      String(options.slots ?? 4),
      '--port',
      String(options.port ?? 8100 + index),
      '--name',
      options.name ?? '127.0.0.1',
      '--work-dir',
      options.workDir ?? join(this.dir, `worker-${index}`),
      ...(options.executor ? ['--executor', options.executor] : []),
      ...(options.permanent ? ['--permanent'] : []),
      ...(options.args ?? []),
    ];
    const proc = launch(args);
    this.workers.push(proc);
    await waitForOutput(proc, /joined master/, 20_000);
    return proc;
  }

  /** A client with the cluster token, or with `token` (a named one, say). */
  private readonly named = new Map<string, string>();

  client(token = this.token): TitanClient {
    const c = new TitanClient({ host: '127.0.0.1', port: this.port, token });
    this.clients.push(c);
    return c;
  }

  /** Runs the CLI against this cluster and returns its exit code and output. */
  /** A named token (titan token create) with these roles, created once per name. */
  async namedToken(name: string, roles: ('admin' | 'operator' | 'approver' | 'read')[]): Promise<string> {
    const known = this.named.get(name);
    if (known !== undefined) return known;
    const admin = this.client();
    const { token } = await admin.call('token.create', { name, roles, expiresAt: null });
    this.named.set(name, token);
    return token;
  }

  cli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return runCli(args, { cwd: options.cwd ?? this.dir, env: { TITAN_HOST: '127.0.0.1', TITAN_PORT: String(this.port), TITAN_TOKEN: this.token, ...options.env } });
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    for (const p of [...this.workers, ...(this.master ? [this.master] : [])]) await kill(p, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function launch(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

export function waitForOutput(proc: Proc, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolvePromise, reject) => {
    const check = (): boolean => {
      const m = proc.output().match(pattern);
      if (m) {
        cleanup();
        resolvePromise(m);
        return true;
      }
      return false;
    };
    const onExit = (): void => {
      cleanup();
      reject(new Error(`process exited before printing ${pattern}:\n${proc.output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${pattern}:\n${proc.output()}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      proc.child.stdout?.off('data', check);
      proc.child.stderr?.off('data', check);
      proc.child.off('exit', onExit);
    };
    if (check()) return;
    proc.child.stdout?.on('data', check);
    proc.child.stderr?.on('data', check);
    proc.child.once('exit', onExit);
  });
}

export function kill(proc: Proc, signal: NodeJS.Signals): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    child.once('exit', () => resolvePromise());
    child.kill(signal);
  });
}

export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Polls `fn` until it returns a truthy value (for conditions a test observes from outside). */
export async function eventually<T>(fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export { pidAlive } from './processes.js';
