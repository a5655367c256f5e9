/** How a worker is set up: its master, its name, its slots, its work directory and what the process hears from it. */
import type { TitanError } from '../core/errors.js';
import type { MasterEndpoint } from '../protocol/masters.js';
import type { SpawnWorker } from '../protocol/methods.js';
import type { TlsFiles, TlsSetting } from '../protocol/tls-dial.js';
import type { Executor } from './executor.js';
import type { JobSettings } from './job-env.js';
import type { StopAfterDisconnect } from './stop-policy.js';

export interface WorkerConfig {
  /** The master, or several masters sharing a store in the order to try them (the worker follows the leader). */
  masters: MasterEndpoint[];
  token: string;
  /** TLS to the master (see TitanClient's `tls`); absent: plain TCP. */
  tls?: TlsSetting;
  /** The files behind `tls` (absolute paths); jobs get the CA (TITAN_CA), never the worker's key. */
  tlsFiles?: TlsFiles;
  /** Who jobs run as and what of the worker's environment they get; default: as the worker, the base environment only. */
  jobs?: JobSettings;
  capabilities: string[];
  slots: number;
  permanent: boolean;
  /** Advertised name `host:port` (Titan's identity); port 0 lets the master pick one. */
  host?: string;
  port: number;
  /** Laid out for the jobs' user by prepareWorkDir (job-files.ts) before the worker starts. */
  workDir: string;
  executor: Executor;
  /** Called once a shutdown the master asked for has drained and disconnected: the process decides how to exit. */
  onShutdown?: () => void;
  /** How long a drain for shutdown lets running attempts finish before handing them back (default 30 s). */
  drainTimeoutMs?: number;
  /** Stop running attempts after the master has been unreachable this long (default: its own worker timeout). */
  stopAfterDisconnect?: StopAfterDisconnect;
  /**
   * Called when the worker gives up after having joined (a token or certificate the master no
   * longer accepts): the process should exit with an error. Before the first join, start() rejects.
   */
  onFatal?: (err: TitanError) => void;
  /** Called when the autoscaler asks this (permanent) worker to start an ephemeral worker on its host. */
  onSpawnWorker?: (request: SpawnWorker) => void;
  /** Set on a worker the autoscaler started: the permanent worker that spawned it. */
  spawnedBy?: string;
  /** Run folders and cached scripts untouched this long are removed (default 72 hours). */
  keepRunsMs?: number;
  log?: (line: string) => void;
}
