/**
 * A master's resources bag for unit tests of its systems: an in-memory SQLite store, a manual
 * clock, real log, blob and artifact stores in a private directory, and what the systems logged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobSpec, WorkerInfo } from '../../src/core/model.js';
import type { RunState } from '../../src/core/run-state.js';
import { createRun } from '../../src/core/run-transitions.js';
import { ReadyQueue } from '../../src/core/ready-queue.js';
import { ArtifactStore } from '../../src/master/artifacts.js';
import { BlobStore } from '../../src/master/blob-store.js';
import { Committer } from '../../src/master/committer.js';
import { JobViews } from '../../src/master/job-views.js';
import { KvService } from '../../src/master/kv.js';
import { LogStore } from '../../src/master/log-store.js';
import { Dispatcher } from '../../src/master/systems/dispatch.js';
import { EffectApplier } from '../../src/master/systems/effects.js';
import { EventBus, type MasterEvents } from '../../src/master/systems/events.js';
import { FlowControl } from '../../src/master/systems/flow.js';
import { Secrets } from '../../src/master/systems/secrets.js';
import type { MasterResources, MasterSettings } from '../../src/master/systems/resources.js';
import { RunTable } from '../../src/master/systems/runs.js';
import { Timers } from '../../src/master/timers.js';
import { WorkerEntry, type WorkerLink } from '../../src/master/workers.js';
import type { AttemptId, Dispatch } from '../../src/protocol/methods.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { ManualClock } from './manual-clock.js';

export interface TestResources {
  r: MasterResources;
  /** The flow-control system over `r`, for the systems a test builds. */
  flow: FlowControl;
  /** The secrets system over `r`, with a fixed key. */
  secrets: Secrets;
  clock: ManualClock;
  store: SqliteStore;
  /** Lines the systems logged. */
  logged: string[];
  /** Each due timer key goes here; a test wires it to its effects system. */
  onTimer: { fn: (key: string) => void };
  /** Waits for what is staged to be committed, then closes the store and removes the directory. */
  close(): Promise<void>;
}

export function masterResources(settings: Partial<MasterSettings> = {}): TestResources {
  const dir = mkdtempSync(join(tmpdir(), 'titan-systems-'));
  const clock = new ManualClock(1_000);
  const store = SqliteStore.open(':memory:');
  const logged: string[] = [];
  const log = (line: string): void => void logged.push(line);
  const onFatal = (err: Error): never => {
    throw err;
  };
  const bus = new EventBus<MasterEvents>();
  const committer = new Committer(store, onFatal, log);
  const onTimer = { fn: (_key: string): void => undefined };
  const timers = new Timers(clock, (key) => onTimer.fn(key));
  const runs = new RunTable({ store, committer, clock, timers, bus });
  const workers = new Map<string, WorkerEntry>();
  const queue = new ReadyQueue();
  const r: MasterResources = {
    store,
    committer,
    clock,
    random: () => 0.5,
    log,
    bus,
    settings: { workerTimeoutMs: 4_000, maxLost: 10, reclaimGraceMs: 15_000, servicePorts: [20_000, 29_999], jobToken: (a) => `token-${a.runId}-${a.jobId}-${a.attempt}`, autoscale: false, ...settings },
    totals: { submitted: 0, completed: 0, dead: 0, attempts: 0, retried: 0 },
    logs: new LogStore(join(dir, 'logs')),
    blobs: new BlobStore(join(dir, 'blobs'), 1 << 20),
    kv: new KvService(store, clock, onFatal),
    artifacts: new ArtifactStore(join(dir, 'artifacts'), store, clock, 1 << 20),
    runs,
    workers,
    unclaimed: new Map(),
    queue,
    queuedSince: new Map(),
    timers,
    jobViews: new JobViews({ runs, workers, servicesOn: (w) => runs.servicesOn(w), heldBack: (job) => flow.reasonOf(job), ahead: (ref) => queue.ahead(ref), now: () => clock.now() }),
  };
  const flow = new FlowControl(r);
  return {
    r,
    flow,
    secrets: new Secrets(r, { current: () => TEST_SECRETS_KEY, previous: null }),
    clock,
    store,
    logged,
    onTimer,
    close: async () => {
      await committer.flushed();
      r.logs.closeAll();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A worker's link that records what the master sent it. */
export class RecordingLink implements WorkerLink {
  readonly dispatched: Dispatch[] = [];
  readonly killed: AttemptId[] = [];
  readonly closed: string[] = [];
  dispatch(items: Dispatch[]): void {
    this.dispatched.push(...items);
  }
  kill(attempt: AttemptId): void {
    this.killed.push(attempt);
  }
  drain(): void {}
  undrain(): void {}
  shutdown(): void {}
  spawnWorker(): void {}
  close(reason: string): void {
    this.closed.push(reason);
  }
}

export const workerInfo = (port: number, capabilities: string[] = ['GENERAL'], slots = 4): WorkerInfo => ({ host: '127.0.0.1', port, capabilities, slots, permanent: false });

/** The secrets key of the systems a test builds. */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7);

/** The systems that place jobs over `t` (effects and dispatch), with ways to connect a worker and to submit a run. */
export function dispatching(t: TestResources): {
  effects: EffectApplier;
  dispatcher: Dispatcher;
  worker: (port: number, capabilities: string[], slots: number) => { entry: WorkerEntry; link: RecordingLink };
  submit: (runId: string, jobs: JobSpec[]) => RunState;
} {
  const effects = new EffectApplier(t.r, t.flow);
  const dispatcher = new Dispatcher(t.r, effects, t.flow, t.secrets);
  const worker = (port: number, capabilities: string[], slots: number): { entry: WorkerEntry; link: RecordingLink } => {
    const entry = new WorkerEntry(`127.0.0.1:${port}`, workerInfo(port, capabilities, slots), t.clock.now());
    const link = new RecordingLink();
    entry.link = link;
    entry.reclaimed = true;
    t.r.workers.set(entry.id, entry);
    return { entry, link };
  };
  const submit = (runId: string, jobs: JobSpec[]): RunState => {
    const { state, effects: created } = createRun(runId, { name: runId, jobs }, t.clock.now());
    t.r.runs.adopt(state);
    for (const job of state.jobs.values()) t.r.committer.newJob(job);
    effects.apply(state, created);
    return state;
  };
  return { effects, dispatcher, worker, submit };
}
