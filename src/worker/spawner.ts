/**
 * Starts an ephemeral worker on this host when the master's autoscaler asks a permanent worker
 * for one: a real `titan worker` process, launched with the same entry point as this one, that
 * joins the same master with the pool's capability and says who spawned it. It stays in this
 * worker's process group, so stopping the permanent worker from a terminal stops its ephemerals
 * too; otherwise the autoscaler shuts them down once idle. It runs its jobs as its parent does
 * (the same --run-as, --pass-env and job certificate).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { SpawnWorker } from '../protocol/methods.js';

export interface SpawnerConfig {
  /** The CLI script this process was started from. */
  entry: string;
  /** The --master of this worker: host:port of the master, or of several, comma-separated. */
  master: string;
  token: string;
  /** The advertised host name, shared with the parent. */
  name: string;
  /** The parent's work directory; each ephemeral worker gets its own below it. */
  workDir: string;
  /** More environment for the worker: the parent's TLS settings (TITAN_TLS, TITAN_CA, ...). */
  env?: Record<string, string>;
  /** The parent's options for its jobs (--run-as, --pass-env, --job-cert, --job-key), passed on as they are. */
  jobArgs?: string[];
}

/** Launches the worker and returns its pid (null when it could not be started). */
export function spawnEphemeralWorker(config: SpawnerConfig, parentId: string, request: SpawnWorker, log: (line: string) => void): number | null {
  const dir = join(config.workDir, 'ephemeral', request.spawnId);
  // Private like its parent's work directory, whatever the umask (`ephemeral/` itself is laid out by prepareWorkDir).
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = openSync(join(dir, 'worker.log'), 'a', 0o600);
  try {
    const args = [
      config.entry,
      'worker',
      '--master',
      config.master,
      '--capabilities',
      request.capabilities.join(','),
      '--slots',
      String(request.slots),
      '--name',
      config.name,
      '--work-dir',
      dir,
      '--spawned-by',
      parentId,
      ...(config.jobArgs ?? []),
    ];
    // The token travels in the environment, never on a command line other users can read; the
    // worker drops it from its own environment once read, and runs its jobs as its parent does.
    const child = spawn(process.execPath, args, { env: { ...process.env, ...config.env, TITAN_TOKEN: config.token }, stdio: ['ignore', out, out] });
    child.on('error', (err) => log(`could not start an ephemeral worker: ${err.message}`));
    child.unref();
    if (child.pid !== undefined) log(`started ephemeral worker (pid ${child.pid}) for ${request.capabilities.join(',')} with ${request.slots} slots; its log is ${join(dir, 'worker.log')}`);
    return child.pid ?? null;
  } finally {
    closeSync(out);
  }
}
