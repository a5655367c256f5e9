/**
 * The running master: it owns the in-memory state of every active run, applies the core's
 * decisions, commits them through the group committer and only then lets the outside world see
 * them (replies, dispatches, events). It knows no transport: the server adapts sessions to the
 * methods here.
 *
 * This class is a facade: the work is done by the systems in `systems/`, each constructed with
 * one resources bag and talking to the others through its event bus (see docs/architecture.md).
 */
import type { RunTimeline } from '../core/timeline.js';
import { join } from 'node:path';
import type { OutputStream } from '../core/output-streams.js';
import type { AgentRunSummary, AttemptRecord, GateDecision, JobSpec, RunRecord, RunSpec, WorkerInfo } from '../core/model.js';
import { LIMITS } from '../core/model.js';
import { ReadyQueue } from '../core/ready-queue.js';
import type { AttemptClaim } from '../core/attempt-claims.js';
import type { AgentRunView, AttemptId, FinishedAttempt, GateDecisionResult, GateView, JobView, LogChunk, RunSummary, RunView, ServiceReport, ServiceView, Stats, SubmitResult, WorkerView } from '../protocol/methods.js';
import { MASTER_DEFAULTS, type MasterTuning } from '../config/master-defaults.js';
import type { Store } from '../store/store.js';
import { ArtifactStore } from './artifacts.js';
import { PipelineParser } from './pipeline-parser.js';
import { type AutoscaleOptions, Autoscaler, type DesiredCount } from './autoscaler.js';
import { BlobStore } from './blob-store.js';
import { type Clock, systemClock } from './clock.js';
import { Committer } from './committer.js';
import { DiskWatch } from './disk-watch.js';
import { FileArea } from './file-area.js';
import { JobViews } from './job-views.js';
import { MetricsHistory } from './metrics-history.js';
import { KvService } from './kv.js';
import { LogCap } from './log-cap.js';
import { LogStore } from './log-store.js';
import { Schedules } from './schedules.js';
import { Triggers } from './triggers.js';
import { Timers } from './timers.js';
import type { FinishedHere, WorkerEntry, WorkerLink } from './workers.js';
import { Commands, type RunOrigin } from './systems/commands.js';
import { Dispatcher } from './systems/dispatch.js';
import { FlowControl } from './systems/flow.js';
import type { ClusterLimit } from '../core/flow-spec.js';
import type { FlowKeyView } from '../protocol/flow-methods.js';
import type { SecretInfo } from '../protocol/secret-methods.js';
import { type SecretKeys, Secrets, type SecretsHandedOut } from './systems/secrets.js';
import { type StepReport, Steps } from './systems/steps.js';
import type { StepView } from '../core/steps.js';
import type { StepOutcome } from '../protocol/step-methods.js';
import { Notifications, type NotifyOptions } from './systems/notifications.js';
import type { NotificationDelivery, NotifyEvent } from '../core/notify-spec.js';
import type { NotifySettings } from '../protocol/notify-methods.js';
import { EffectApplier } from './systems/effects.js';
import { EventBus, type MasterEvents } from './systems/events.js';
import type { MasterResources } from './systems/resources.js';
import { RunTable } from './systems/runs.js';
import { Views } from './systems/views.js';
import { type ClusterWatcher, type LogFollower, type RunWatcher, Watchers } from './systems/watchers.js';
import { WorkerRegistry } from './systems/worker-registry.js';

export type { ClusterWatcher, LogFollower, RunOrigin, RunWatcher };

/** The store's meta key that keeps the overview's chart samples (metrics-history.ts). */
const HISTORY_META = 'metrics.history';
export { serviceEnvName } from './systems/dispatch.js';

/**
 * What the Master takes: its settings (MasterTuning, each MASTER_DEFAULTS when absent) and the
 * parts it is built with.
 */
export interface MasterOptions extends Partial<MasterTuning> {
  dataDir: string;
  /** Where uploaded scripts and archives, artifact files and job logs live (default: dataDir); masters sharing a store share it. */
  blobDir?: string;
  store: Store;
  clock?: Clock;
  random?: () => number;
  /** Called when the store fails: the master cannot keep its promises and must stop. */
  onFatal?: (err: Error) => void;
  /** Starts and stops ephemeral workers by the load of each pool; off when absent. */
  autoscale?: AutoscaleOptions;
  /** Hears each change of a pool's desired worker count (the scale webhook). */
  onDesired?: (count: DesiredCount) => void;
  /** The token a job of this run gets as TITAN_TOKEN (see protocol/derived-tokens.ts). */
  jobToken: (a: AttemptId) => string;
  /** Where the master says what it did on its own (a worker declared dead, attempts re-queued). */
  log?: (line: string) => void;
  /** The key secrets are encrypted with (server/secret-key.ts); without one, secrets cannot be set. */
  secretKeys?: SecretKeys;
  /** How notifications are POSTed (server/notify-post.ts); without it none are sent. */
  notify?: NotifyOptions;
}

export const HEARTBEAT_MS = 2000;

export class Master {
  readonly store: Store;
  readonly logs: LogStore;
  readonly blobs: BlobStore;
  readonly kv: KvService;
  readonly artifacts: ArtifactStore;
  /** Titan's `uploads/`: assets and project archives, by name. */
  readonly uploads: FileArea;
  /** Titan's script library (`perm_files/`): scripts deployed by name to run or serve later. */
  readonly registry: FileArea;
  /** Parses pipeline YAML that clients send, off the event loop. */
  readonly pipelines = new PipelineParser();
  /** Pipelines submitted on cron schedules. */
  readonly schedules: Schedules;
  /** Pipelines started by requests to /hooks/NAME. */
  readonly triggers: Triggers;
  /** A worker silent for this long is dead; workers hear it, to stop their jobs when cut off as long. */
  readonly workerTimeoutMs: number;
  /** The last hour in 10 s samples, for the dashboard's charts, kept in the store across restarts. */
  readonly history: MetricsHistory;
  private readonly r: MasterResources;
  private readonly effects: EffectApplier;
  private readonly dispatcher: Dispatcher;
  private readonly flow: FlowControl;
  private readonly secrets: Secrets;
  private readonly steps: Steps;
  private readonly notifications: Notifications;
  private readonly workers: WorkerRegistry;
  private readonly commands: Commands;
  private readonly views: Views;
  private readonly watchers: Watchers;
  private readonly autoscaler: Autoscaler | null;
  private readonly disk: DiskWatch;
  private readonly logCap: LogCap | null;

  constructor(options: MasterOptions) {
    const store = (this.store = options.store);
    const clock = options.clock ?? systemClock;
    const log = options.log ?? ((line: string) => void process.stderr.write(`titan master: ${line}\n`));
    this.workerTimeoutMs = options.workerTimeoutMs ?? MASTER_DEFAULTS.workerTimeoutMs;
    const startedAt = clock.now();
    const onFatal =
      options.onFatal ??
      ((err: Error) => {
        process.stderr.write(`titan master: the store failed, stopping so that no unrecorded work is acknowledged: ${err.message}\n`);
        process.exit(70);
      });
    const bus = new EventBus<MasterEvents>();
    const committer = new Committer(store, onFatal, log);
    const timers = new Timers(clock, (key) => this.effects.onTimer(key));
    const runs = new RunTable({ store, committer, clock, timers, bus });
    const files = options.blobDir ?? options.dataDir;
    const logDir = join(files, 'logs');
    const maxLogsBytes = options.maxLogsBytes ?? MASTER_DEFAULTS.maxLogsBytes;
    this.logCap = maxLogsBytes ? new LogCap({ dir: logDir, capBytes: maxLogsBytes, isActive: (runId) => runs.has(runId), remove: (runId, note) => this.logs.removeRun(runId, note), clock, log }) : null;
    // An attempt reclaimed after a restart is masked by its job's secrets as they are now.
    const secretsOf = (runId: string, jobId: string): string[] => this.secrets.valuesOf(runs.job(runId, jobId)?.spec.secrets ?? []);
    this.logs = new LogStore(logDir, { maxBytes: options.maxLogBytes ?? MASTER_DEFAULTS.maxLogBytes, log, secretsOf, ...(this.logCap && { usage: this.logCap }) });
    this.blobs = new BlobStore(join(files, 'blobs'), LIMITS.maxBlobBytes);
    this.kv = new KvService(store, clock, onFatal);
    const maxArtifactBytes = options.maxArtifactBytes ?? MASTER_DEFAULTS.maxArtifactBytes;
    this.artifacts = new ArtifactStore(join(files, 'artifacts'), store, clock, maxArtifactBytes, (runId) => runs.exists(runId));
    this.uploads = new FileArea(join(files, 'uploads'), maxArtifactBytes);
    this.registry = new FileArea(join(files, 'scripts'), LIMITS.maxScriptBytes);
    const workers = new Map<string, WorkerEntry>();
    const settings = { workerTimeoutMs: this.workerTimeoutMs, maxLost: options.maxLostAttempts ?? MASTER_DEFAULTS.maxLostAttempts, reclaimGraceMs: options.reclaimGraceMs ?? MASTER_DEFAULTS.reclaimGraceMs, servicePorts: options.servicePorts ?? MASTER_DEFAULTS.servicePorts, jobToken: options.jobToken, autoscale: options.autoscale !== undefined };
    const totals = { submitted: 0, completed: 0, dead: 0, attempts: 0, retried: 0 };
    const queue = new ReadyQueue();
    const jobViews = new JobViews({ runs, workers, servicesOn: (w) => runs.servicesOn(w), heldBack: (job) => this.flow.reasonOf(job), ahead: (ref) => queue.ahead(ref), now: () => clock.now() });
    const r: MasterResources = { store, committer, clock, random: options.random ?? Math.random, log, bus, settings, totals, logs: this.logs, blobs: this.blobs, kv: this.kv, artifacts: this.artifacts, runs, workers, unclaimed: new Map(), queue, queuedSince: new Map(), timers, jobViews };
    this.r = r;
    this.flow = new FlowControl(r);
    this.secrets = new Secrets(r, options.secretKeys ?? null);
    this.steps = new Steps(r);
    this.notifications = new Notifications(r, (name) => this.secrets.valuesOf([name])[0] ?? null, options.notify ?? null);
    this.effects = new EffectApplier(r, this.flow);
    this.dispatcher = new Dispatcher(r, this.effects, this.flow, this.secrets);
    this.workers = new WorkerRegistry(r, this.effects);
    this.commands = new Commands(r, this.effects);
    this.disk = new DiskWatch(options.dataDir, options.minFreeBytes ?? MASTER_DEFAULTS.minFreeBytes, clock, log);
    const autoscaler = options.autoscale ? new Autoscaler(options.autoscale, this.workers.scalingTarget(), clock, options.onDesired ?? (() => undefined)) : null;
    if (autoscaler) bus.on('registered', (info, id) => autoscaler.registered(id, info.spawnedBy, info.capabilities));
    this.autoscaler = autoscaler;
    this.views = new Views(r, { startedAt, disk: () => this.disk.view(), autoscaler: () => autoscaler?.view() ?? { enabled: false } });
    this.watchers = new Watchers(r, this.views);
    this.history = new MetricsHistory(
      clock,
      {
        totals: () => ({ completed: totals.completed, dead: totals.dead }),
        now: () => {
          const w = this.views.workerTotals();
          return { queued: r.queue.size, busySlots: w.busySlots, slots: w.slots, workers: w.connected };
        },
      },
      { sampleMs: options.metricsSampleMs ?? MASTER_DEFAULTS.metricsSampleMs, keeper: { load: () => store.getMeta(HISTORY_META), save: (text) => store.setMeta(HISTORY_META, text) }, log },
    );
    const check = (run: RunSpec): void => {
      this.commands.checkScripts(run.jobs);
      this.secrets.checkDeclared(run.jobs);
    };
    this.schedules = new Schedules({ store, clock, submit: (run) => this.submit(run), isRunActive: (runId) => runs.has(runId), check, log });
    this.triggers = new Triggers({ store, clock, submit: (run, origin) => this.submit(run, origin), check, secretValue: (name) => this.secrets.valueOf(name), putBlob: (content) => this.blobs.putBuffer(content), log });
  }

  /** Loads every unfinished run and re-arms its queue, timers and reclaim grace. */
  async start(): Promise<void> {
    Object.assign(this.r.totals, await this.store.totals());
    await this.flow.loadLimits();
    await this.secrets.load();
    await this.notifications.start();
    this.workers.recover(await this.store.loadActiveRuns());
    this.flow.restore();
    // After the active runs are known: their logs are never trimmed.
    this.logCap?.start();
    this.workers.startSweeper();
    this.disk.start();
    this.autoscaler?.start();
    await this.history.start();
    await this.kv.start();
    await this.schedules.start();
    await this.triggers.start();
    await this.r.committer.flushed();
  }

  async close(): Promise<void> {
    this.dispatcher.close();
    this.workers.stopSweeper();
    await this.schedules.stop();
    this.autoscaler?.stop();
    this.disk.stop();
    await this.history.stop();
    this.workers.closeLinks();
    await this.notifications.close();
    await this.r.committer.flushed();
    await this.kv.close();
    await this.pipelines.close();
    this.logs.closeAll();
  }

  // ---- commands (systems/commands.ts) ---------------------------------------------------------

  /** Creates a run; a `requestId` seen before returns the run it created (see Commands.submit). */
  async submit(spec: RunSpec, origin: RunOrigin = {}): Promise<SubmitResult> {
    this.secrets.checkDeclared(spec.jobs);
    return this.commands.submit(spec, origin);
  }

  /** `addedBy`: the job of that run whose own token asks (its provenance is kept on what it adds). */
  async extendRun(runId: string, jobs: JobSpec[], addedBy?: string): Promise<{ runId: string; jobs: string[] }> {
    this.secrets.checkDeclared(jobs);
    return this.commands.extendRun(runId, jobs, addedBy);
  }

  decideGate(ref: string, approved: boolean, by: string, comment: string | null): Promise<GateDecisionResult> {
    return this.commands.decideGate(ref, approved, by, comment);
  }

  cancelJob(ref: string): Promise<JobView> {
    return this.commands.cancelJob(ref);
  }

  retryJob(ref: string): Promise<JobView> {
    return this.commands.retryJob(ref);
  }

  /** Submits a run's jobs again as a new run (the jobs added at runtime included). */
  async rerun(runId: string): Promise<{ runId: string; jobs: string[] }> {
    const { run, jobs } = await this.views.getRun(runId);
    return this.submit({ name: run.name, tags: run.tags, ...(run.agentRunId !== null && { agentRunId: run.agentRunId }), ...(run.notify && { on: run.notify }), jobs: jobs.map((j) => j.spec) });
  }

  deleteRun(runId: string): Promise<boolean> {
    return this.commands.deleteRun(runId);
  }

  pruneRuns(cutoff: number): Promise<number> {
    return this.commands.pruneRuns(cutoff);
  }

  cancelRun(runId: string): Promise<number> {
    return this.commands.cancelRun(runId);
  }

  stopService(ref: string): Promise<JobView> {
    return this.commands.stopService(ref);
  }

  // ---- flow control (systems/flow.ts) ----------------------------------------------------------

  flowKeys = (): FlowKeyView[] => this.flow.keys();
  setLimit = (limit: ClusterLimit): Promise<ClusterLimit[]> => this.flow.setLimit(limit);
  removeLimit = (key: string): Promise<{ removed: boolean; limits: ClusterLimit[] }> => this.flow.removeLimit(key);

  // ---- secrets (systems/secrets.ts): names and dates out, never values -------------------------

  /** Refuses jobs, started with the token of attempt `by`, that declare a secret its job does not (Secrets.checkWithin). */
  checkSecretsWithin = (by: AttemptId, jobs: readonly Pick<JobSpec, 'id' | 'secrets'>[]): void =>
    this.secrets.checkWithin(this.r.runs.job(by.runId, by.jobId)?.spec.secrets ?? [], `${by.runId}/${by.jobId}`, jobs);

  listSecrets = (): SecretInfo[] => this.secrets.list();
  setSecret = (name: string, value: string): Promise<{ secret: SecretInfo; created: boolean }> => this.secrets.set(name, value);
  removeSecret = (name: string): Promise<{ removed: boolean }> => this.secrets.remove(name);
  /** Hears each hand-out of secrets to an attempt (the audit log records it). */
  onSecretsHandedOut = (listener: (out: SecretsHandedOut) => void): (() => void) => this.secrets.onHandOut(listener);

  // ---- durable steps (systems/steps.ts): a job's own, for the attempt its token names -------------

  getStep = (a: AttemptId, name: string): Promise<{ step: StepView | null; result: string | null }> => this.steps.get(a, name);
  recordStep = (a: AttemptId, report: StepReport): Promise<StepOutcome & { kept: boolean }> => this.steps.record(a, report);
  // ---- notifications out (systems/notifications.ts) -------------------------------------------

  notificationSettings = (): NotifySettings => this.notifications.view();
  setNotificationTarget = (event: NotifyEvent, url: string | null): Promise<{ changed: boolean; settings: NotifySettings }> => this.notifications.setTarget(event, url);
  setNotificationKey = (secret: string): Promise<NotifySettings> => this.notifications.setKeySecret(secret);
  listDeliveries = (query: { runId?: string; limit: number }): Promise<NotificationDelivery[]> => this.notifications.listDeliveries(query);

  // ---- queries (systems/views.ts) and feeds (systems/watchers.ts) -----------------------------

  listAgentRuns = (limit: number): Promise<AgentRunSummary[]> => this.views.listAgentRuns(limit);
  getAgentRun = (agentRunId: string): Promise<AgentRunView> => this.views.getAgentRun(agentRunId);
  listGates = (): Promise<GateView[]> => this.views.listGates();
  gateHistory = (limit: number): Promise<GateDecision[]> => this.views.gateHistory(limit);
  listServices = (): ServiceView[] => this.views.listServices();
  isRunActive = (runId: string): boolean => this.views.isRunActive(runId);
  attemptRunning = (a: AttemptId): boolean => this.views.attemptRunning(a);
  qualifyRef = (ref: string): Promise<{ runId: string; ref: string }> => this.views.qualifyRef(ref);
  withinReach = (own: string, target: string): Promise<boolean> => this.views.withinReach(own, target);
  agentRunOf = (runId: string): Promise<string | null> => this.views.agentRunOf(runId);
  getRun = (runId: string): Promise<RunView> => this.views.getRun(runId);
  runTimeline = (runId: string): Promise<RunTimeline> => this.views.runTimeline(runId);
  listRuns = (query: { limit: number; status?: RunRecord['status']; tag?: string; after?: string }): Promise<{ runs: RunSummary[]; next: string | null }> => this.views.listRuns(query);
  getJob = (ref: string): Promise<{ job: JobView; attempts: AttemptRecord[]; steps: StepView[] }> => this.views.getJob(ref);
  readLogs = (ref: string, attempt: number | undefined, offset: number, limit: number): Promise<LogChunk> => this.views.readLogs(ref, attempt, offset, limit);
  waitingCounts = (): { queued: number; delayed: number; blocked: number } => this.views.waitingCounts();
  stats = (): Stats => this.views.stats();
  watchAgentRun = (agentRunId: string, onStage: (run: RunRecord) => void): Promise<{ snapshot: AgentRunView; stop: () => void }> => this.watchers.watchAgentRun(agentRunId, onStage);
  onAttemptEnd = (a: AttemptId, fn: () => void): (() => void) => this.watchers.onAttemptEnd(a, fn);
  followLogs = (ref: string, follower: LogFollower): Promise<() => void> => this.watchers.followLogs(ref, follower);
  watchRun = (runId: string, watcher: RunWatcher): Promise<{ snapshot: RunView; stop: () => void }> => this.watchers.watchRun(runId, watcher);
  watchCluster = (watcher: ClusterWatcher): (() => void) => this.watchers.watchCluster(watcher);

  // ---- workers (systems/worker-registry.ts) ---------------------------------------------------

  attachWorker = (info: WorkerInfo, link: WorkerLink, proven: string | null): string => this.workers.attachWorker(info, link, proven);
  reclaimAttempts = (id: string, link: WorkerLink, running: readonly AttemptId[]): AttemptId[] => this.workers.reclaimAttempts(id, link, running);
  touchWorker = (workerId: string): void => this.workers.touchWorker(workerId);
  requestDrain = (workerId: string): WorkerView => this.workers.requestDrain(workerId);
  requestUndrain = (workerId: string): WorkerView => this.workers.requestUndrain(workerId);
  requestShutdown = (workerId: string, force: boolean, drainTimeoutMs?: number): WorkerView => this.workers.requestShutdown(workerId, force, drainTimeoutMs);
  workerDraining = (workerId: string, exiting: boolean): void => this.workers.workerDraining(workerId, exiting);
  attemptsAccepted = (workerId: string, ids: readonly AttemptId[]): void => this.workers.attemptsAccepted(workerId, ids);
  detachWorker = (workerId: string, link: WorkerLink): void => this.workers.detachWorker(workerId, link);
  attemptClaim = (a: AttemptId): AttemptClaim => this.workers.attemptClaim(a);
  workerLog = (workerId: string, a: AttemptId, data: string, stream: OutputStream): void => this.workers.workerLog(workerId, a, data, stream);
  serviceReport = (workerId: string, report: ServiceReport): void => this.workers.serviceReport(workerId, report);
  attemptsFinished = (workerId: string, results: readonly FinishedAttempt[]): Promise<number> => this.workers.attemptsFinished(workerId, results);
  listWorkers = (): WorkerView[] => this.workers.listWorkers();
  workerHistory = (workerId: string): readonly FinishedHere[] => this.workers.workerHistory(workerId);
  clearHistory = (): void => this.workers.clearHistory();
}
