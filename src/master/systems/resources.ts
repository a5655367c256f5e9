/**
 * The resources bag every system of the master is constructed with: the store and its committer,
 * the clock, the event bus, the log, the settings, and the tables the systems share (runs,
 * workers, the ready queue). A system reaches another only through the bus or a narrow interface
 * defined here, never through its internals.
 */
import type { MasterTuning } from '../../config/master-defaults.js';
import type { ReadyQueue } from '../../core/ready-queue.js';
import type { Effect, RunState } from '../../core/run-state.js';
import type { AttemptId } from '../../protocol/methods.js';
import type { Store } from '../../store/store.js';
import type { ArtifactStore } from '../artifacts.js';
import type { BlobStore } from '../blob-store.js';
import type { Clock } from '../clock.js';
import type { Committer } from '../committer.js';
import type { JobViews } from '../job-views.js';
import type { KvService } from '../kv.js';
import type { LogStore } from '../log-store.js';
import type { Timers } from '../timers.js';
import type { WorkerEntry } from '../workers.js';
import type { EventBus, MasterEvents } from './events.js';
import type { RunTable } from './runs.js';

/** The master's settings the systems read (see MasterTuning for each), and what they are built with. */
export interface MasterSettings extends Pick<MasterTuning, 'workerTimeoutMs' | 'reclaimGraceMs' | 'servicePorts'> {
  maxLost: MasterTuning['maxLostAttempts'];
  /** The token a job gets as TITAN_TOKEN. */
  jobToken: (a: AttemptId) => string;
  /** Whether the autoscaler runs: only then is the wait of each queued job tracked. */
  autoscale: boolean;
}

/** What the master has done since its store began (Titan's stats). */
export interface Totals {
  submitted: number;
  completed: number;
  dead: number;
  attempts: number;
  retried: number;
}

/** Applies the core's decisions to a run (the effects system): what a system that changes runs holds. */
export interface EffectSink {
  apply(state: RunState, effects: readonly Effect[]): void;
}

export interface MasterResources {
  readonly store: Store;
  readonly committer: Committer;
  readonly clock: Clock;
  readonly random: () => number;
  /** Where the master says what it did on its own. */
  readonly log: (line: string) => void;
  readonly bus: EventBus<MasterEvents>;
  readonly settings: MasterSettings;
  readonly totals: Totals;
  readonly logs: LogStore;
  readonly blobs: BlobStore;
  readonly kv: KvService;
  readonly artifacts: ArtifactStore;
  readonly runs: RunTable;
  readonly workers: Map<string, WorkerEntry>;
  /** Attempts found RUNNING at start-up that no worker has reclaimed yet. */
  readonly unclaimed: Map<string, { workerId: string; attempt: number }>;
  readonly queue: ReadyQueue;
  /** When each job waiting in a capability lane was queued; kept only for the autoscaler. */
  readonly queuedSince: Map<string, { pool: string; at: number }>;
  readonly timers: Timers;
  readonly jobViews: JobViews;
}
