/**
 * The worker agent: dials the master, keeps one v2 session, runs what it is dispatched and
 * reports back. Results and output outlive a dropped connection: they are kept until the master
 * acknowledges them and re-sent after reconnecting, and the attempts still running are reclaimed
 * right after the next HELLO so the master neither loses nor duplicates them. A drain for
 * shutdown, or a master unreachable for too long, hands running attempts back (see
 * stop-policy.ts). The worker's name and its credential are kept by identity.ts.
 */
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { TitanError } from '../core/errors.js';
import { type AttemptId, type Dispatch, type FinishedAttempt, type HelloResult, MAX_RECLAIM_ATTEMPTS, NAME_TAKEN, type Results, type ServiceDispatch, type ServiceReport, type SpawnWorker, WorkerEvents } from '../protocol/methods.js';
import { Peer } from '../protocol/peer.js';
import { dial, explainConnectFailure, type TlsFiles, type TlsSetting } from '../protocol/tls-dial.js';
import { AttemptOutput } from './attempt-output.js';
import type { ExecutionRequest, Executor, RunningAttempt } from './executor.js';
import { WorkerIdentity } from './identity.js';
import { JobEnvironment, type JobSettings } from './job-env.js';
import { type JobOwner, JobFiles } from './job-files.js';
import { Outbox } from './outbox.js';
import { publishOutputs } from './outputs.js';
import { pickFreePort, portIsFree } from './ports.js';
import { waitUntilReady } from './readiness.js';
import { Stager, unpack } from './staging.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, DrainGrace, handedBackReason, inSeconds, MasterContact, type StopAfterDisconnect, unreachableReason } from './stop-policy.js';
import { type PruneArea, pruneWorkDir } from './work-dir-pruner.js';

export interface WorkerConfig {
  masterHost: string;
  masterPort: number;
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

interface Attempt {
  id: AttemptId;
  key: string;
  /** The cached script or archive it runs from (kept from the pruner while it runs). */
  sha256: string | null;
  running: RunningAttempt | null;
  output: AttemptOutput;
  /** Set when this side ends the attempt; `lost`: it is reported LOST, to run again without spending a retry. */
  ended: { reason: string; lost: boolean } | null;
  /** What the master has been told about a service attempt, told again after a reconnect. */
  service: ServiceReport | null;
}

const LOG_FLUSH_MS = 100;
const KEEP_RUNS_MS = 72 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;
const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5000;
/** Heartbeat periods without any frame from the master after which the connection is presumed dead. */
const SILENT_MASTER_HEARTBEATS = 3;
export class WorkerAgent {
  private peer: Peer | null = null;
  private readonly attempts = new Map<string, Attempt>();
  private readonly outbox: Outbox;
  private readonly identity: WorkerIdentity;
  private workerId: string | null = null;
  private stopping = false;
  private draining = false;
  /** The drain for shutdown, once one began: the worker then only winds down. */
  private exit: { grace: DrainGrace; done: Promise<void> } | null = null;
  private readonly contact: MasterContact;
  private reconnectDelay = RECONNECT_MIN_MS;
  private heartbeat: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private connectedOnce: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Waiting for a session (to upload outputs across a reconnect); woken on HELLO and on stop. */
  private sessionWaiters: (() => void)[] = [];
  private readonly owner: JobOwner;
  private readonly files: JobFiles;
  private readonly jobEnv: JobEnvironment;
  private readonly stager: Stager;

  constructor(private readonly config: WorkerConfig) {
    this.identity = new WorkerIdentity(config.host ?? hostname(), config.port, config.workDir, (line) => this.log(line));
    const jobs = config.jobs ?? { user: null, passEnv: [] };
    this.owner = jobs.user && { uid: jobs.user.uid, gid: jobs.user.gid };
    this.files = new JobFiles(this.owner);
    this.jobEnv = new JobEnvironment({ host: config.masterHost, port: config.masterPort }, config.tls ? (config.tlsFiles ?? {}) : null, jobs);
    this.stager = new Stager(join(config.workDir, 'cache'), () => this.session());
    this.outbox = new Outbox(() => this.peer, (line) => this.log(line));
    this.contact = new MasterContact(config.stopAfterDisconnect, (afterMs) => this.masterUnreachable(afterMs));
  }

  get id(): string | null {
    return this.workerId;
  }

  get runningCount(): number {
    return this.attempts.size;
  }

  /**
   * Stops the process groups left running by this worker's previous life, then connects (retrying
   * with backoff); resolves after the first successful HELLO.
   */
  async start(): Promise<void> {
    for (const line of (await this.config.executor.sweepLeftovers?.()) ?? []) this.log(line);
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_EVERY_MS).unref();
    const ready = new Promise<void>((resolve, reject) => (this.connectedOnce = { resolve, reject }));
    this.dial();
    return ready;
  }

  /**
   * Drains for shutdown: takes no new work, lets running attempts finish for up to `graceMs`,
   * hands back what still runs then (LOST: the master runs it elsewhere without spending a retry),
   * reports and disconnects. A second call joins the drain under way, ending it sooner if its
   * grace is shorter.
   */
  drain(graceMs = this.config.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS): Promise<void> {
    if (this.exit) {
      this.exit.grace.shorten(graceMs);
      return this.exit.done;
    }
    const grace = new DrainGrace(graceMs);
    this.draining = true;
    this.peer?.notify('drain', { exiting: true });
    this.exit = { grace, done: this.windDown(grace) };
    return this.exit.done;
  }

  private async windDown(grace: DrainGrace): Promise<void> {
    const ended = await Promise.race([this.idle().then(() => null), grace.ended]);
    if (ended !== null) {
      if (this.attempts.size > 0) this.log(`the drain's grace of ${inSeconds(ended)} ended: handing back ${this.attempts.size} running attempt(s)`);
      for (const a of this.attempts.values()) this.end(a, handedBackReason(ended), true);
    }
    await this.idle();
    grace.cancel();
    await this.outbox.sendNow();
    this.stop();
  }

  private idle(): Promise<void> {
    return this.attempts.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Ends an attempt from this side: kills its process, or keeps it from starting if it has none yet. */
  private end(a: Attempt, reason: string, lost: boolean): void {
    a.ended ??= { reason, lost };
    a.running?.kill(reason);
  }

  /** The master has surely given this worker's attempts to others by now: stop them (see MasterContact). */
  private masterUnreachable(afterMs: number): void {
    if (this.attempts.size === 0 || this.stopping) return;
    this.log(`the master has been unreachable for ${inSeconds(afterMs)}: stopping ${this.attempts.size} running attempt(s), to be reported lost once it is back`);
    for (const a of this.attempts.values()) this.end(a, unreachableReason(afterMs), true);
  }

  stop(): void {
    this.stopping = true;
    this.contact.close();
    for (const wake of this.sessionWaiters.splice(0)) wake();
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.peer?.close();
  }

  private log(line: string): void {
    this.config.log?.(line);
  }

  private dial(): void {
    if (this.stopping) return;
    const address = `${this.config.masterHost}:${this.config.masterPort}`;
    const { socket, ready } = dial(this.config.masterHost, this.config.masterPort, this.config.tls);
    const peer = new Peer(socket, { server: false });
    let connected = false;
    socket.once(ready, () => {
      connected = true;
      void this.greet(peer);
    });
    peer.onClose((err) => {
      const joined = this.peer === peer;
      if (joined) {
        this.peer = null;
        this.contact.lost();
      }
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = null;
      if (this.stopping) return;
      // An untrusted certificate or a master that does not speak TLS will not fix itself, as a wrong token would not.
      const failure = joined ? null : explainConnectFailure(err, address, { tls: Boolean(this.config.tls), connected });
      if (failure?.fatal) return this.giveUp(new TitanError('UNAVAILABLE', failure.message));
      const delay = this.reconnectDelay * (0.8 + 0.4 * Math.random());
      this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
      this.log(`${failure?.message ?? `connection to master ${address} lost (${err.message})`}; retrying in ${Math.round(delay)} ms`);
      setTimeout(() => this.dial(), delay);
    });
  }

  /** Stops for good: start() rejects, or, once joined, the process is told to exit with an error. */
  private giveUp(err: TitanError): void {
    this.log(err.message);
    this.stopping = true;
    if (this.connectedOnce) this.connectedOnce.reject(err);
    else this.config.onFatal?.(err);
    this.connectedOnce = null;
  }

  private async greet(peer: Peer): Promise<void> {
    peer.onEvent = (event, data) => this.onEvent(peer, event, data);
    let result: HelloResult;
    let abandon: AttemptId[];
    try {
      const { port, credential } = this.identity.hello();
      result = (await peer.hello({
        token: this.config.token,
        role: 'worker',
        versions: [2],
        worker: {
          host: this.identity.host,
          port,
          capabilities: this.config.capabilities,
          slots: this.config.slots,
          permanent: this.config.permanent,
          pid: process.pid,
          ...(this.config.spawnedBy !== undefined && { spawnedBy: this.config.spawnedBy }),
        },
        ...(credential !== undefined && { credential }),
      })) as HelloResult;
      // Kept before the reclaim: should the connection drop now, the next HELLO proves the name.
      this.identity.joined(result);
      // Said first, so the master has reconciled what this worker holds before anything else arrives.
      abandon = (await peer.request<Results['worker.reclaim']>('worker.reclaim', { running: this.held() })).abandon;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const message = (err as Error).message;
      const refusal = `master refused this worker: ${message}`;
      // A wrong token or a malformed description will not fix itself: stop instead of retrying. A
      // name that belongs to a worker the master still knows comes free once it forgets that worker.
      if ((code === 'UNAUTHORIZED' && !message.includes(NAME_TAKEN)) || code === 'BAD_REQUEST') this.giveUp(new TitanError(code, refusal));
      else this.log(refusal);
      peer.close();
      return;
    }
    this.peer = peer;
    for (const wake of this.sessionWaiters.splice(0)) wake();
    this.reconnectDelay = RECONNECT_MIN_MS;
    this.workerId = result.workerId ?? null;
    for (const a of abandon) {
      // Only the attempt the master named: a newer attempt of the same job is not abandoned.
      const held = this.attempts.get(`${a.runId}/${a.jobId}`);
      if (held?.id.attempt === a.attempt) this.end(held, 'the master re-assigned this attempt', false);
    }
    const heartbeatMs = result.heartbeatMs ?? 2000;
    this.contact.joined(result);
    peer.onEvent = (event, data) => {
      this.contact.heard();
      this.onEvent(peer, event, data);
    };
    this.heartbeat = setInterval(() => {
      // The master echoes every heartbeat; long silence means the connection is dead even if TCP has not noticed.
      if (this.contact.silentMs > SILENT_MASTER_HEARTBEATS * heartbeatMs) {
        peer.abort(`no word from the master for ${Math.round(this.contact.silentMs)} ms`);
        return;
      }
      this.peer?.notify('heartbeat', { running: this.attempts.size });
    }, heartbeatMs);
    this.heartbeat.unref();
    if (this.draining) peer.notify('drain', { exiting: this.exit !== null });
    for (const a of this.attempts.values()) if (a.service) peer.notify('service', a.service);
    this.log(`joined master ${this.config.masterHost}:${this.config.masterPort} as ${this.workerId}`);
    this.outbox.flushOutput(peer);
    this.flushLogs();
    this.outbox.schedule();
    this.connectedOnce?.resolve();
    this.connectedOnce = null;
  }

  /**
   * The attempts to reclaim after HELLO: those still running, then those finished whose results
   * the master has not acknowledged (re-sent right after). A finished attempt left out would be
   * declared lost by the master and its job run a second time.
   */
  private held(): AttemptId[] {
    return [...[...this.attempts.values()].map((a) => a.id), ...this.outbox.ids()].slice(0, MAX_RECLAIM_ATTEMPTS);
  }

  private onEvent(peer: Peer, event: string, data: unknown): void {
    if (event === 'dispatch') {
      const parsed = WorkerEvents.dispatch.safeParse(data);
      if (!parsed.success) return this.log(`ignored a malformed dispatch: ${parsed.error.issues[0]?.message}`);
      // Said at once, so the master knows these arrived (it runs unacknowledged ones elsewhere).
      peer.notify('accepted', { attempts: parsed.data.attempts.map((d) => ({ runId: d.runId, jobId: d.jobId, attempt: d.attempt })) });
      // Each item was validated by the dispatch schema above.
      for (const d of parsed.data.attempts) void this.run(d);
    } else if (event === 'drain') {
      this.log('drained by the master: taking no new work');
      this.draining = true;
    } else if (event === 'undrain') {
      // The master refuses to undrain a worker it knows is shutting down; say it again should it have forgotten.
      if (this.exit) return peer.notify('drain', { exiting: true });
      this.log('undrained by the master: taking work again');
      this.draining = false;
    } else if (event === 'shutdown') {
      const parsed = WorkerEvents.shutdown.safeParse(data ?? {});
      if (!parsed.success) return this.log(`ignored a malformed shutdown request: ${parsed.error.issues[0]?.message}`);
      const graceMs = parsed.data.drainTimeoutMs ?? this.config.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
      this.log(`the master asked this worker to shut down: draining, for up to ${inSeconds(graceMs)}`);
      void this.drain(graceMs).then(() => this.config.onShutdown?.());
    } else if (event === 'spawnWorker') {
      const parsed = WorkerEvents.spawnWorker.safeParse(data);
      if (!parsed.success) return this.log(`ignored a malformed spawnWorker request: ${parsed.error.issues[0]?.message}`);
      if (!this.config.onSpawnWorker) return this.log('the master asked for an ephemeral worker, but this worker cannot start one');
      this.config.onSpawnWorker(parsed.data);
    } else if (event === 'kill') {
      const parsed = WorkerEvents.kill.safeParse(data);
      if (!parsed.success) return;
      const a = this.attempts.get(`${parsed.data.runId}/${parsed.data.jobId}`);
      if (a && a.id.attempt === parsed.data.attempt) this.end(a, 'cancelled by the master', false);
    }
  }

  private async run(d: Dispatch): Promise<void> {
    const key = `${d.runId}/${d.jobId}`;
    const id: AttemptId = { runId: d.runId, jobId: d.jobId, attempt: d.attempt };
    const attempt: Attempt = { id, key, sha256: (d.script ?? d.archive)?.sha256 ?? null, running: null, output: new AttemptOutput(id), ended: null, service: null };
    const older = this.attempts.get(key);
    if (older) this.end(older, 'superseded by a newer attempt', false);
    this.attempts.set(key, attempt);
    const source = d.script ?? d.archive;
    if (!source) return this.finish(attempt, { outcome: 'FAILED', exitCode: null, error: 'the dispatch names neither a script nor an archive', errorCode: 'BAD_REQUEST' });
    let scriptPath: string;
    let sharedDir: string;
    const runDir = join(this.config.workDir, 'runs', d.runId);
    const attemptDir = join(runDir, `${d.jobId}.${d.attempt}`);
    const outputDir = join(attemptDir, 'out');
    try {
      scriptPath = await this.stager.stage(source);
      sharedDir = this.files.sharedDir(runDir);
      const folders = this.config.executor.folders;
      if (folders) this.files.attemptDir(attemptDir, outputDir);
      // Unpacked beside out/ (never into it), and run from the entry's own folder as Titan does.
      const unpacked = d.archive ? unpack(d.archive, scriptPath, join(attemptDir, 'archive')) : { scriptPath };
      // Last: while the worker writes in the folder, nothing there is the job user's.
      if (folders) this.files.handOver(attemptDir);
      if ('error' in unpacked) return this.finish(attempt, { outcome: 'FAILED', exitCode: null, ...unpacked });
      scriptPath = unpacked.scriptPath;
    } catch (err) {
      this.finish(attempt, { outcome: 'FAILED', exitCode: null, error: `could not stage ${source.name}: ${(err as Error).message}`, errorCode: 'STAGING' });
      return;
    }
    const cwd = d.archive ? dirname(scriptPath) : attemptDir;
    // Ended while its code was being fetched (handed back, cancelled): it never starts.
    if (attempt.ended) return this.finish(attempt, { outcome: 'FAILED', exitCode: null, error: `not started: ${attempt.ended.reason}`, errorCode: null });
    const env = this.jobEnv.for(d, { shared: sharedDir, output: outputDir }, this.workerId);
    const req = { key: `${key}#${d.attempt}`, scriptPath, args: d.args, cwd, env, ...(this.owner && { user: this.owner }) };
    if (d.service) {
      await this.runService(attempt, d.service, req);
      return;
    }
    const running = this.config.executor.start({ ...req, timeoutMs: d.timeoutMs }, (chunk) => this.output(attempt, chunk));
    attempt.running = running;
    const result = this.asReported(attempt, await running.done);
    // Before the result, so a finished job's outputs are already on the master. A process that
    // never started (pid null) wrote nothing; one handed back unfinished runs again, and the
    // attempt that finishes it publishes (nor does it wait for a master that may be unreachable).
    if (running.pid !== null && result.outcome !== 'LOST') await publishOutputs(attempt.id, outputDir, this.owner, () => this.session(), (line) => this.output(attempt, line));
    this.finish(attempt, result);
  }

  /**
   * Runs a service attempt: a port (fixed, or a free one from the master's range) reaches the
   * process as PORT and as `{port}` in its arguments; the master hears when it started and when
   * it passed its readiness probe.
   */
  private async runService(attempt: Attempt, svc: ServiceDispatch, req: Omit<ExecutionRequest, 'timeoutMs'>): Promise<void> {
    const taken = new Set<number>();
    for (const a of this.attempts.values()) if (a.service) taken.add(a.service.port);
    let port: number | null;
    if (svc.port !== null) {
      port = (await portIsFree(svc.port)) ? svc.port : null;
      if (port === null) return this.finish(attempt, { outcome: 'FAILED', exitCode: null, error: `port ${svc.port} is in use on ${this.config.host ?? hostname()}`, errorCode: 'PORT_IN_USE' });
    } else {
      port = await pickFreePort(svc.portRange, taken);
      if (port === null) return this.finish(attempt, { outcome: 'FAILED', exitCode: null, error: `no free port in ${svc.portRange[0]}-${svc.portRange[1]}`, errorCode: 'NO_FREE_PORT' });
    }
    const portText = String(port);
    const args = req.args.map((a) => a.replaceAll('{port}', portText));
    const running = this.config.executor.start({ ...req, args, env: { ...req.env, PORT: portText }, timeoutMs: null }, (chunk) => this.output(attempt, chunk));
    attempt.running = running;
    let result: Omit<FinishedAttempt, keyof AttemptId>;
    if (running.pid === null) {
      result = await running.done;
    } else {
      const pid = running.pid;
      this.reportService(attempt, { ...attempt.id, phase: 'started', pid, port });
      const exited = new AbortController();
      void running.done.then(() => exited.abort());
      const probe = await waitUntilReady(svc.readiness, port, svc.readyTimeoutMs, exited.signal);
      if (probe.ready) this.reportService(attempt, { ...attempt.id, phase: 'ready', pid, port });
      else if (!exited.signal.aborted) running.kill(probe.reason);
      result = await running.done;
      if (!probe.ready && probe.reason !== 'aborted') result = { outcome: 'FAILED', exitCode: result.exitCode, error: probe.reason, errorCode: 'NOT_READY' };
    }
    this.finish(attempt, result);
  }

  private reportService(attempt: Attempt, report: ServiceReport): void {
    attempt.service = report;
    this.peer?.notify('service', report);
  }

  /** The current session, or the next one; null once the worker is stopping. */
  private async session(): Promise<Peer | null> {
    while (!this.peer && !this.stopping) await new Promise<void>((resolve) => this.sessionWaiters.push(resolve));
    return this.stopping ? null : this.peer;
  }

  private finish(attempt: Attempt, result: Omit<FinishedAttempt, keyof AttemptId>): void {
    if (this.attempts.get(attempt.key) === attempt) this.attempts.delete(attempt.key);
    this.outbox.add({ ...attempt.id, ...this.asReported(attempt, result) }, attempt.output);
    if (this.attempts.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Given back unfinished, an attempt is LOST: it runs again elsewhere without spending a retry. One that completed all the same stands. */
  private asReported(attempt: Attempt, result: Omit<FinishedAttempt, keyof AttemptId>): Omit<FinishedAttempt, keyof AttemptId> {
    if (attempt.ended?.lost !== true || result.outcome === 'COMPLETED') return result;
    return { outcome: 'LOST', exitCode: result.exitCode, error: attempt.ended.reason, errorCode: null };
  }

  /** Removes run folders and cache entries nothing has touched within the retention, and none an attempt here uses. */
  private prune(): void {
    const keepMs = this.config.keepRunsMs ?? KEEP_RUNS_MS;
    const isBusy = (area: PruneArea, name: string): boolean => [...this.attempts.values()].some((a) => (area === 'runs' ? a.id.runId === name : a.sha256 === name));
    pruneWorkDir(this.config.workDir, { olderThanMs: keepMs, now: Date.now(), isBusy, owner: this.owner }).then(
      ({ runs, cached }) => {
        if (runs + cached > 0) this.log(`removed ${runs} run folder${runs === 1 ? '' : 's'} and ${cached} cached file${cached === 1 ? '' : 's'} untouched for ${Math.round(keepMs / 3600_000)} h`);
      },
      (err: Error) => this.log(`cleaning the work folder failed: ${err.message}`),
    );
  }

  private output(attempt: Attempt, chunk: string): void {
    if (attempt.output.push(chunk, this.peer !== null)) return this.flushAttempt(attempt);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flushLogs();
      }, LOG_FLUSH_MS);
    }
  }

  private flushLogs(): void {
    for (const a of this.attempts.values()) this.flushAttempt(a);
  }

  private flushAttempt(a: Attempt): void {
    if (this.peer) a.output.flush(this.peer);
  }
}
