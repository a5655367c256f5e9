/**
 * The composition of a worker process, the same for `titan worker` and for `titan up`'s local
 * worker: its executor and reaper, the agent that joins the master, and the ephemeral workers it
 * starts for the autoscaler.
 */
import { join } from 'node:path';
import type { WorkerSettings } from '../config/worker-settings.js';
import { formatMaster, type MasterEndpoint } from '../protocol/masters.js';
import { type TlsClientOptions, type TlsFiles, tlsEnvFor } from '../protocol/tls-dial.js';
import { lockDir } from '../worker/dir-lock.js';
import type { WorkerAgent } from '../worker/agent.js';
import { UsageError } from './connection.js';
import { type JobSetup, layOutWorkDir } from './job-options.js';

export interface WorkerPlan {
  /** The master, or several sharing a store, in the order to try them. */
  masters: MasterEndpoint[];
  token: string;
  /** TLS to the master; undefined: plain TCP. */
  tls: { tls: TlsClientOptions | undefined; files: TlsFiles } | undefined;
  settings: Pick<WorkerSettings, 'capabilities' | 'slots' | 'permanent' | 'name' | 'port' | 'executor' | 'keepRunsHours' | 'drainTimeout' | 'stopAfterDisconnect' | 'spawnedBy'>;
  /** The work directory, resolved. */
  workDir: string;
  jobs: JobSetup;
  log: (line: string) => void;
  /** Joined once, then refused (a changed token or certificate). */
  onFatal: (err: Error) => void;
  /** The master told this worker to exit; without it, only drained and disconnected. */
  onShutdown?: () => void;
}

export interface ComposedWorker {
  agent: WorkerAgent;
  /** Stops the reaper that ends the process groups of this worker's attempts, and frees the work directory. */
  release(): void;
}

/** Where a worker records its attempts' process groups, for its next life to stop what this one leaves. */
const pidDir = (workDir: string): string => join(workDir, 'pids');

/**
 * The worker's modules, loaded only by the commands that run one: a worker forks a process per
 * attempt, and fork time grows with the parent's memory, so it must not carry the master's.
 */
async function loadWorker(): Promise<typeof import('../worker/agent.js') & typeof import('../worker/executor.js') & typeof import('../worker/reaper.js') & typeof import('../worker/spawner.js')> {
  const [agent, executor, reaper, spawner] = await Promise.all([import('../worker/agent.js'), import('../worker/executor.js'), import('../worker/reaper.js'), import('../worker/spawner.js')]);
  return { ...agent, ...executor, ...reaper, ...spawner };
}

export function splitList(text: string): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError('give at least one capability');
  return items;
}

/** Lays out the work directory and builds the worker (not started yet: the caller starts it). */
export async function composeWorker(plan: WorkerPlan): Promise<ComposedWorker> {
  const { settings: o, workDir, jobs, log, tls } = plan;
  const capabilities = splitList(o.capabilities);
  const { WorkerAgent, ProcessExecutor, NoopExecutor, Reaper, spawnEphemeralWorker } = await loadWorker();
  for (const line of [...jobs.notices, ...layOutWorkDir(workDir, jobs)]) log(line);
  // Before the reaper: it stops what a previous worker on this directory left running.
  const unlock = lockDir(workDir, { role: 'worker', option: '--work-dir' });
  const reaper = o.executor === 'process' ? Reaper.start() : null;
  const agent: WorkerAgent = new WorkerAgent({
    masters: plan.masters,
    token: plan.token,
    ...(tls?.tls && { tls: tls.tls, tlsFiles: tls.files }),
    capabilities,
    slots: o.slots,
    permanent: o.permanent,
    host: o.name,
    port: o.port,
    workDir,
    jobs: jobs.settings,
    executor: o.executor === 'noop' ? new NoopExecutor() : new ProcessExecutor({ ...(reaper && { reaper }), pidDir: pidDir(workDir) }),
    log,
    drainTimeoutMs: o.drainTimeout,
    ...(o.stopAfterDisconnect !== undefined && { stopAfterDisconnect: o.stopAfterDisconnect }),
    ...(plan.onShutdown && { onShutdown: plan.onShutdown }),
    onFatal: plan.onFatal,
    ...(o.spawnedBy !== undefined && { spawnedBy: o.spawnedBy }),
    keepRunsMs: o.keepRunsHours * 3600_000,
    ...(o.permanent && {
      onSpawnWorker: (request) =>
        void spawnEphemeralWorker({ entry: process.argv[1] ?? '', master: plan.masters.map(formatMaster).join(','), token: plan.token, name: o.name, workDir, env: tls?.tls ? tlsEnvFor(tls.files) : {}, jobArgs: jobs.args }, agent.id ?? '', request, log),
    }),
  });
  return {
    agent,
    release: () => {
      reaper?.close();
      unlock();
    },
  };
}
