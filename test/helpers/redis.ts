/**
 * A private redis-server for tests: on a free loopback port, in its own temporary directory,
 * durable as Titan wants it (`appendonly yes`, `appendfsync always`, no RDB snapshots). It can be
 * killed (-9 by pid) and started again on the same port and directory, which replays its AOF.
 * Every server still running when the test process exits is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from './scripts.js';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** The redis-server on PATH (or in /usr/sbin, /usr/bin), or null when there is none. */
export function redisServerBinary(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export interface RedisOptions {
  appendonly?: 'yes' | 'no';
  appendfsync?: 'always' | 'everysec' | 'no';
  /** More `--name value` arguments for redis-server. */
  extra?: string[];
}

export class RedisServer {
  private child: ChildProcess | null = null;
  private out = '';

  private constructor(
    readonly binary: string,
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisOptions,
  ) {}

  /** Starts a server on a free port in a fresh directory; retries when the port was taken meanwhile. */
  static async start(options: RedisOptions = {}): Promise<RedisServer> {
    const binary = redisServerBinary();
    if (binary === null) throw new Error('redis-server is not installed (apt-get install redis-server)');
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = new RedisServer(binary, await freePort(), mkdtempSync(join(tmpdir(), 'titan-redis-')), options);
      try {
        await server.start();
        return server;
      } catch (err) {
        lastError = err;
        await server.remove();
      }
    }
    throw lastError;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the server printed, across its starts (the last 64 KiB). */
  output(): string {
    return this.out.slice(-64 * 1024);
  }

  /** Starts (or restarts, on the same port and directory) the server and waits until it serves. */
  async start(): Promise<void> {
    if (this.running) return;
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--appendonly',
      this.options.appendonly ?? 'yes',
      '--appendfsync',
      this.options.appendfsync ?? 'always',
      '--save',
      '',
      '--daemonize',
      'no',
      '--logfile',
      '',
      ...(this.options.extra ?? []),
    ];
    // Only this start's output counts: a restart must not see the previous "Ready" line.
    const from = this.out.length;
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    const append = (d: Buffer): void => {
      this.out += d.toString();
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`redis-server did not start within 20 s:\n${this.out}`)), 20_000);
      const check = (): void => {
        // Printed once the AOF is loaded and the port is open.
        if (/Ready to accept connections/.test(this.out.slice(from))) finish(null);
      };
      const onExit = (): void => finish(new Error(`redis-server exited while starting:\n${this.out}`));
      const finish = (err: Error | null): void => {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        child.off('exit', onExit);
        if (err) reject(err);
        else resolve();
      };
      child.stdout?.on('data', check);
      child.once('exit', onExit);
      check();
    });
  }

  /** Stops the server by its pid: SIGKILL (a crash) by default, SIGTERM for a clean shutdown. */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === null || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.pid !== undefined) process.kill(child.pid, signal);
    await exited;
  }

  /** Kills the server and deletes its directory. */
  async remove(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
