/**
 * A private redis-server for the bench's Redis column: on a free loopback port, in a temporary
 * directory, durable as the embedded store is (`appendonly yes`, `appendfsync always`, no RDB
 * snapshots). Its process and directory are registered with the bench's cleanup, like every other
 * process the bench starts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { makeTempDir, Proc, removeTempDir } from './cluster.js';
import { freePort } from './ports.js';

/** The redis-server binary, or null when it is not installed. */
export function redisServerPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server || { [ -x /usr/bin/redis-server ] && echo /usr/bin/redis-server; }'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export interface BenchRedis {
  url: string;
  proc: Proc;
  stop(): Promise<void>;
}

export async function startRedis(label: string): Promise<BenchRedis> {
  const binary = redisServerPath();
  if (binary === null) throw new Error('redis-server is not installed');
  const dir = makeTempDir(`redis-${label}`);
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no', '--logfile', ''];
  const proc = new Proc(`redis-${label}`, spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  const stop = async (): Promise<void> => {
    await proc.stop(5_000);
    removeTempDir(dir);
  };
  try {
    await proc.waitFor(/Ready to accept connections/, 20_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}/0`, proc, stop };
}
