/**
 * The worker registry: workers attach, reclaim what they hold, report, drain and leave; the
 * sweeper declares a silent worker dead and its attempts run again elsewhere (Nomad's heartbeat).
 * Attempts lost to the infrastructure go back through the core (finishAttempt, outcome LOST), so
 * they run again without spending a retry, within the lost-attempt budget.
 */
import type { OutputStream } from '../../core/output-streams.js';
import { TitanError } from '../../core/errors.js';
import type { JobRecord, RunRecord, WorkerInfo } from '../../core/model.js';
import { isTerminal, jobRef, parseJobRef, workerIdOf } from '../../core/model.js';
import { type AttemptClaim, claimOf, isRunningOn } from '../../core/attempt-claims.js';
import { finishAttempt } from '../../core/attempt-transitions.js';
import { type AttemptResult, isCurrentAttempt, type RunState } from '../../core/run-state.js';
import { restoreRun } from '../../core/run-transitions.js';
import { serviceReported } from '../../core/service-transitions.js';
import type { AttemptId, FinishedAttempt, ServiceReport, WorkerView } from '../../protocol/methods.js';
import type { ScalingTarget } from '../autoscaler.js';
import { type FinishedHere, type WorkerLink, WorkerEntry } from '../workers.js';
import { WorkerNames } from '../worker-names.js';
import type { EffectSink, MasterResources } from './resources.js';

export class WorkerRegistry {
  private readonly names: WorkerNames;
  private sweeper: { cancel(): void } | null = null;
  private closed = false;

  constructor(
    private readonly r: MasterResources,
    private readonly effects: EffectSink,
  ) {
    this.names = new WorkerNames(r.clock, r.settings.workerTimeoutMs, r.workers, r.unclaimed);
  }

  /**
   * Takes in the unfinished runs loaded at start-up: their attempts still RUNNING wait for their
   * workers to reclaim them, for the reclaim grace.
   */
  recover(active: readonly { run: RunRecord; jobs: JobRecord[] }[]): void {
    const { totals } = this.r;
    for (const { run, jobs } of active) {
      const { state, effects } = restoreRun(run, jobs, this.r.clock.now());
      this.r.runs.adopt(state);
      for (const job of jobs) {
        if (job.status !== 'RUNNING' || job.workerId === null) continue;
        this.r.unclaimed.set(jobRef(run.runId, job.spec.id), { workerId: job.workerId, attempt: job.attempt });
        // The store counts attempts as they end; these are still under way.
        totals.attempts++;
        if (job.attempt > 1) totals.retried++;
      }
      this.effects.apply(state, effects);
    }
    if (this.r.unclaimed.size > 0) this.r.clock.setTimer(() => this.loseUnclaimed(), this.r.settings.reclaimGraceMs);
  }

  /** Declares silent workers dead; their attempts run again elsewhere. */
  startSweeper(): void {
    const { workers, clock } = this.r;
    const timeout = this.r.settings.workerTimeoutMs;
    const sweep = (): void => {
      if (this.closed) return;
      const now = clock.now();
      for (const w of [...workers.values()]) {
        if (now - w.lastSeen <= timeout) continue;
        const silence = `no heartbeat for ${now - w.lastSeen} ms`;
        w.link?.close(silence);
        w.link = null;
        workers.delete(w.id);
        this.workersChanged();
        this.r.log(`worker ${w.id} is dead (${silence}; the limit is ${timeout} ms)`);
        const lost = [...w.attempts].filter((key) => this.loseAttempt(w, key, `worker ${w.id} stopped responding (${silence})`));
        this.logRequeued(lost, `worker ${w.id} is dead`);
      }
      this.sweeper = clock.setTimer(sweep, Math.min(1000, timeout / 4));
    };
    this.sweeper = clock.setTimer(sweep, Math.min(1000, timeout / 4));
  }

  /** The master is closing: no worker is declared dead any more. */
  stopSweeper(): void {
    this.closed = true;
    this.sweeper?.cancel();
  }

  closeLinks(): void {
    for (const w of this.r.workers.values()) w.link?.close('master shutting down');
  }

  /** What the autoscaler sees of the workers and queue, and how it starts and stops workers. */
  scalingTarget(): ScalingTarget {
    const { workers } = this.r;
    return {
      workers: () =>
        [...workers.values()].map((w) => ({
          id: w.id,
          capabilities: w.capabilities,
          slots: w.slots,
          running: w.running,
          accepting: w.accepting,
          permanent: w.info.permanent,
          spawnedBy: w.info.spawnedBy ?? null,
          idleSince: null,
          connected: w.link !== null,
        })),
      queued: () => {
        const pools = new Map<string, { count: number; oldestAt: number }>();
        for (const { pool, at } of this.r.queuedSince.values()) {
          const p = pools.get(pool);
          if (p) {
            p.count++;
            p.oldestAt = Math.min(p.oldestAt, at);
          } else pools.set(pool, { count: 1, oldestAt: at });
        }
        return pools;
      },
      spawn: (via, request) => {
        const link = workers.get(via)?.link;
        link?.spawnWorker(request);
        return link !== null && link !== undefined;
      },
      stop: (workerId) => {
        if (workers.has(workerId)) this.requestShutdown(workerId, false);
      },
    };
  }

  /**
   * A worker said HELLO. A name the master still knows needs its credential (`proven`: the name
   * the worker's credential proves, if any). The worker takes no work until it has said what it
   * holds (reclaimAttempts).
   */
  attachWorker(info: WorkerInfo, link: WorkerLink, proven: string | null): string {
    const announced = info.port === 0 ? { ...info, port: this.freePort(info.host) } : info;
    const id = workerIdOf(announced);
    this.names.claim(id, proven);
    const now = this.r.clock.now();
    let entry = this.r.workers.get(id);
    let stale: WorkerLink | null = null;
    if (entry?.link) {
      // The same worker process dialling again proves its old connection dead, even if this side
      // has not noticed (a half-open TCP connection): take the new one. Another process is refused.
      const sameProcess = announced.pid !== undefined && entry.info.pid === announced.pid;
      if (!sameProcess) throw new TitanError('CONFLICT', `a worker named ${id} is already connected; start this one with another --port`);
      stale = entry.link;
    }
    if (entry) {
      entry.info = announced;
      entry.capabilities = new Set(announced.capabilities);
      entry.lastSeen = now;
      entry.connectedAt = now;
    } else {
      entry = new WorkerEntry(id, announced, now);
      this.r.workers.set(id, entry);
      this.r.bus.emit('registered', announced, id);
    }
    entry.link = link;
    entry.reclaimed = false;
    // A worker that still drains says so again right after HELLO.
    entry.draining = false;
    entry.exiting = false;
    this.workersChanged();
    // Closed only once the new link is in place, so its detach does not forget the worker.
    stale?.close('replaced by a new connection from the same worker');
    return id;
  }

  /**
   * What the worker on `link` holds, reconciled with what the master expected: attempts both agree on
   * continue, those only the worker has are abandoned (returned), the others run again. Then it takes work.
   */
  reclaimAttempts(id: string, link: WorkerLink, running: readonly AttemptId[]): AttemptId[] {
    const entry = this.r.workers.get(id);
    if (entry?.link !== link) throw new TitanError('UNAVAILABLE', `worker ${id} has a newer connection: this one reclaims nothing`);
    entry.reclaimed = true;
    const abandon: AttemptId[] = [];
    const reported = new Set<string>();
    for (const a of running) {
      const key = jobRef(a.runId, a.jobId);
      if (isRunningOn(this.attemptClaim(a), id)) {
        entry.attempts.add(key);
        entry.unaccepted.delete(key);
        this.r.unclaimed.delete(key);
        reported.add(key);
      } else {
        abandon.push(a);
      }
    }
    const lost: string[] = [];
    for (const key of [...entry.attempts]) if (!reported.has(key) && this.loseAttempt(entry, key, `worker ${id} came back without it`)) lost.push(key);
    for (const [key, u] of this.r.unclaimed) if (u.workerId === id && !reported.has(key) && this.loseUnclaimedOne(key, `worker ${id} came back without it`)) lost.push(key);
    this.logRequeued(lost, `worker ${id} rejoined without them`);
    this.kick();
    return abandon;
  }

  /** Any frame from a worker proves it is alive. */
  touchWorker(workerId: string): void {
    const w = this.r.workers.get(workerId);
    if (w) w.lastSeen = this.r.clock.now();
  }

  /** An operator's drain: the worker finishes what it runs and takes nothing new. */
  requestDrain(workerId: string): WorkerView {
    const w = this.knownWorker(workerId);
    w.draining = true;
    w.link?.drain();
    this.workersChanged();
    return this.view(w);
  }

  /** An operator lets a drained worker take work again; one that is shutting down cannot. */
  requestUndrain(workerId: string): WorkerView {
    const w = this.knownWorker(workerId);
    if (w.exiting) throw new TitanError('CONFLICT', `worker ${workerId} is shutting down and cannot take work again: start it anew`);
    w.draining = false;
    w.link?.undrain();
    this.workersChanged();
    this.kick();
    return this.view(w);
  }

  /**
   * An operator's shutdown: drain, then the worker process exits; what still runs after the
   * drain timeout (`drainTimeoutMs`, else the worker's own) is handed back and runs elsewhere.
   * Permanent workers need `force`.
   */
  requestShutdown(workerId: string, force: boolean, drainTimeoutMs?: number): WorkerView {
    const w = this.knownWorker(workerId);
    if (w.info.permanent && !force) throw new TitanError('CONFLICT', `worker ${workerId} is permanent; shut it down with --force`);
    w.draining = true;
    w.exiting = true;
    w.link?.shutdown(drainTimeoutMs);
    this.workersChanged();
    return this.view(w);
  }

  /** The worker reports that it drains on its own (`exiting`: it was signalled and will stop). */
  workerDraining(workerId: string, exiting: boolean): void {
    const w = this.r.workers.get(workerId);
    if (!w) return;
    w.draining = true;
    w.exiting ||= exiting;
    this.workersChanged();
  }

  /** The worker received these dispatches: from now on only its silence or its word loses them. */
  attemptsAccepted(workerId: string, ids: readonly AttemptId[]): void {
    const w = this.r.workers.get(workerId);
    if (!w) return;
    for (const a of ids) {
      const job = this.r.runs.job(a.runId, a.jobId);
      if (job?.attempt === a.attempt && job.workerId === workerId) w.unaccepted.delete(jobRef(a.runId, a.jobId));
    }
  }

  /**
   * The worker's connection closed. Dispatches it never acknowledged run again elsewhere at once;
   * its other attempts keep their slots until it reconnects or the liveness timeout declares it
   * dead. A worker with nothing running is simply forgotten.
   */
  detachWorker(workerId: string, link: WorkerLink): void {
    const w = this.r.workers.get(workerId);
    if (!w || w.link !== link) return;
    w.link = null;
    const lost = [...w.unaccepted].filter((key) => this.loseAttempt(w, key, `the connection to worker ${workerId} closed before it acknowledged the dispatch`));
    this.logRequeued(lost, `the connection to worker ${workerId} closed before it acknowledged them`);
    if (w.attempts.size === 0 && this.r.workers.delete(workerId)) this.names.forgot(workerId);
    this.workersChanged();
  }

  /** Whose the attempt is, for checking what a worker says about it. */
  attemptClaim(a: AttemptId): AttemptClaim {
    return claimOf(this.r.runs.job(a.runId, a.jobId), a.attempt);
  }

  workerLog(workerId: string, a: AttemptId, data: string, stream: OutputStream): void {
    const job = this.r.runs.job(a.runId, a.jobId);
    // Output of an abandoned or superseded attempt is dropped, never mixed into the current one.
    if (!job || job.attempt !== a.attempt || job.workerId !== workerId) return;
    this.r.logs.append(a.runId, a.jobId, a.attempt, data, stream);
  }

  /** A service attempt started its process or passed its readiness probe on `workerId`. */
  serviceReport(workerId: string, report: ServiceReport): void {
    const state = this.r.runs.get(report.runId);
    const job = state?.jobs.get(report.jobId);
    if (!state || job?.workerId !== workerId) return;
    this.effects.apply(state, serviceReported(state, report.jobId, report.attempt, report, this.r.clock.now()));
  }

  /** Results from a worker; resolves once they are durable (the worker may then forget them). */
  async attemptsFinished(workerId: string, results: readonly FinishedAttempt[]): Promise<number> {
    const { runs, committer, settings } = this.r;
    const worker = this.r.workers.get(workerId);
    const now = this.r.clock.now();
    let accepted = 0;
    for (const r of results) {
      const state = runs.get(r.runId);
      const job = state?.jobs.get(r.jobId);
      if (!state || !job || job.workerId !== workerId || !isCurrentAttempt(state, r.jobId, r.attempt)) continue;
      const key = jobRef(r.runId, r.jobId);
      worker?.attempts.delete(key);
      worker?.unaccepted.delete(key);
      this.r.unclaimed.delete(key);
      this.r.logs.close(r.runId, r.jobId, r.attempt);
      const result: AttemptResult = { outcome: r.outcome, exitCode: r.exitCode, error: r.error, errorCode: r.errorCode, stagedMs: r.stagedMs ?? null };
      const startedAt = job.startedAt ?? now;
      this.effects.apply(state, finishAttempt(state, r.jobId, r.attempt, result, now, this.r.random(), settings.maxLost));
      worker?.remember({ runId: r.runId, jobId: r.jobId, status: isTerminal(job.status) ? job.status : 'FAILED', startedAt, finishedAt: now });
      accepted++;
    }
    if (accepted > 0 && this.r.bus.listens('workers')) committer.afterCommit(() => this.workersChanged());
    this.kick();
    await committer.flushed();
    return accepted;
  }

  listWorkers(): WorkerView[] {
    return [...this.r.workers.values()].map((w) => this.view(w));
  }

  /** Each worker's latest finished attempts, oldest first (for Titan's stats). */
  workerHistory(workerId: string): readonly FinishedHere[] {
    return this.r.workers.get(workerId)?.history ?? [];
  }

  /** Forgets the workers' recent history (Titan's CLEAN_STATS); running work is untouched. */
  clearHistory(): void {
    for (const w of this.r.workers.values()) w.history.length = 0;
  }

  private view(w: WorkerEntry): WorkerView {
    return w.view(this.r.runs.servicesOn(w));
  }

  private knownWorker(workerId: string): WorkerEntry {
    const w = this.r.workers.get(workerId);
    if (!w) throw new TitanError('NOT_FOUND', `no worker ${workerId} (see titan workers)`);
    return w;
  }

  private kick(): void {
    this.r.bus.emit('ready', undefined);
  }

  private workersChanged(): void {
    this.r.bus.emit('workers', undefined);
  }

  /** The worker's attempt is lost to the infrastructure; true when it was still current (and is now re-queued or given up). */
  private loseAttempt(worker: WorkerEntry, key: string, reason: string): boolean {
    worker.attempts.delete(key);
    worker.unaccepted.delete(key);
    const { runId, jobId } = parseJobRef(key);
    const state = this.r.runs.get(runId ?? '');
    const job = state?.jobs.get(jobId);
    if (!state || !job || job.status !== 'RUNNING') return false;
    this.r.logs.close(job.runId, jobId, job.attempt);
    this.lose(state, jobId, job.attempt, reason);
    return true;
  }

  private loseUnclaimedOne(key: string, reason: string): boolean {
    const u = this.r.unclaimed.get(key);
    this.r.unclaimed.delete(key);
    if (!u) return false;
    const { runId, jobId } = parseJobRef(key);
    const state = this.r.runs.get(runId ?? '');
    if (!state || !isCurrentAttempt(state, jobId, u.attempt)) return false;
    this.lose(state, jobId, u.attempt, reason);
    return true;
  }

  private lose(state: RunState, jobId: string, attempt: number, reason: string): void {
    this.effects.apply(state, finishAttempt(state, jobId, attempt, { outcome: 'LOST', exitCode: null, error: reason }, this.r.clock.now(), this.r.random(), this.r.settings.maxLost));
    const job = state.jobs.get(jobId);
    if (job?.status === 'DEAD') this.r.log(`${jobRef(state.run.runId, jobId)} is DEAD: ${job.error ?? reason}`);
    this.kick();
  }

  private loseUnclaimed(): void {
    const grace = this.r.settings.reclaimGraceMs;
    const byWorker = new Map<string, string[]>();
    for (const [key, u] of [...this.r.unclaimed]) {
      if (!this.loseUnclaimedOne(key, `worker ${u.workerId} did not reclaim the attempt within ${grace} ms of the master's restart`)) continue;
      const keys = byWorker.get(u.workerId);
      if (keys) keys.push(key);
      else byWorker.set(u.workerId, [key]);
    }
    for (const [workerId, keys] of byWorker) this.logRequeued(keys, `worker ${workerId} did not reclaim them within ${grace} ms of the master's restart`);
  }

  /** One line for attempts lost together: they run again elsewhere, no retry spent. */
  private logRequeued(keys: readonly string[], why: string): void {
    if (keys.length === 0) return;
    const shown = keys.slice(0, 5).join(', ') + (keys.length > 5 ? ` and ${keys.length - 5} more` : '');
    this.r.log(`${keys.length} attempt${keys.length === 1 ? '' : 's'} lost (${why}): ${shown}; they run again without spending a retry, within --max-lost-attempts (${this.r.settings.maxLost})`);
  }

  private freePort(host: string): number {
    for (let port = 8080; ; port++) if (!this.names.taken(`${host}:${port}`)) return port;
  }
}
