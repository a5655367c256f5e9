/**
 * The worker agent: dials the master, keeps one v2 session, runs what it is dispatched and
 * reports back. It composes the parts named below: the session and its handshake
 * (master-link.ts), the master's events (master-events.ts), the attempts held (attempts.ts) and
 * how one runs (attempt-runner.ts, service-runner.ts), their output and results on the way to the
 * master (output-batcher.ts, outbox.ts), and draining (drain.ts). Results and output outlive a
 * dropped connection: they are kept until the master acknowledges them and re-sent after
 * reconnecting, and the attempts still running are reclaimed right after the next HELLO so the
 * master neither loses nor duplicates them. A drain for shutdown, or a master unreachable for too
 * long, hands running attempts back (see stop-policy.ts). The worker's name and its credential
 * are kept by identity.ts.
 */
import { hostname } from 'node:os';
import { type AttemptId, MAX_RECLAIM_ATTEMPTS } from '../protocol/methods.js';
import type { Peer } from '../protocol/peer.js';
import { AttemptRunner } from './attempt-runner.js';
import { Attempts, endAttempt } from './attempts.js';
import { Drain } from './drain.js';
import { WorkerIdentity } from './identity.js';
import type { JobOwner } from './job-files.js';
import { handleMasterEvent, type MasterEventHandlers } from './master-events.js';
import { MasterLink } from './master-link.js';
import { Outbox } from './outbox.js';
import { OutputBatcher } from './output-batcher.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, inSeconds, unreachableReason } from './stop-policy.js';
import { type PruneArea, pruneWorkDir } from './work-dir-pruner.js';
import type { WorkerConfig } from './worker-config.js';

export type { WorkerConfig } from './worker-config.js';

const KEEP_RUNS_MS = 72 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;

export class WorkerAgent {
  private readonly attempts = new Attempts();
  private readonly link: MasterLink;
  private readonly outbox: Outbox;
  private readonly logs: OutputBatcher;
  private readonly runner: AttemptRunner;
  private readonly draining: Drain;
  private readonly events: MasterEventHandlers;
  private readonly owner: JobOwner;
  private pruneTimer: NodeJS.Timeout | null = null;

  constructor(private readonly config: WorkerConfig) {
    const log = (line: string): void => this.log(line);
    const identity = new WorkerIdentity(config.host ?? hostname(), config.port, config.workDir, log);
    const jobs = config.jobs ?? { user: null, passEnv: [] };
    this.owner = jobs.user && { uid: jobs.user.uid, gid: jobs.user.gid };
    this.link = new MasterLink(config, identity, {
      held: () => this.held(),
      joined: (peer, abandon) => this.joined(peer, abandon),
      event: (peer, event, data) => handleMasterEvent(peer, event, data, this.events),
      running: () => this.attempts.size,
      unreachable: (afterMs) => this.masterUnreachable(afterMs),
      log,
    });
    this.outbox = new Outbox(() => this.link.peer, log, () => this.link.logStreams);
    this.logs = new OutputBatcher(this.attempts, this.link);
    this.runner = new AttemptRunner(config, this.owner, { attempts: this.attempts, outbox: this.outbox, logs: this.logs, link: this.link, host: identity.host });
    this.draining = new Drain(config, { attempts: this.attempts, outbox: this.outbox, peer: () => this.link.peer, stop: () => this.stop(), log });
    this.events = {
      run: (d) => void this.runner.run(d),
      cancel: (id) => {
        const a = this.attempts.find(id);
        if (a) endAttempt(a, 'cancelled by the master', false);
      },
      drain: () => this.draining.byMaster(),
      undrain: (peer) => this.draining.undrainedByMaster(peer),
      shutdown: (drainTimeoutMs) => this.draining.shutdownAsked(drainTimeoutMs),
      spawnWorker: config.onSpawnWorker,
      log,
    };
  }

  get id(): string | null {
    return this.link.workerId;
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
    return this.link.connect();
  }

  /**
   * Drains for shutdown: takes no new work, lets running attempts finish for up to `graceMs`,
   * hands back what still runs then (LOST: the master runs it elsewhere without spending a retry),
   * reports and disconnects. A second call joins the drain under way, ending it sooner if its
   * grace is shorter.
   */
  drain(graceMs = this.config.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS): Promise<void> {
    return this.draining.forShutdown(graceMs);
  }

  stop(): void {
    this.link.close();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.logs.stop();
  }

  private log(line: string): void {
    this.config.log?.(line);
  }

  /**
   * The attempts to reclaim after HELLO: those still running, then those finished whose results
   * the master has not acknowledged (re-sent right after). A finished attempt left out would be
   * declared lost by the master and its job run a second time.
   */
  private held(): AttemptId[] {
    return [...this.attempts.ids(), ...this.outbox.ids()].slice(0, MAX_RECLAIM_ATTEMPTS);
  }

  /** A session began: what the master re-assigned stops here, and what it should know is said again. */
  private joined(peer: Peer, abandon: AttemptId[]): void {
    for (const a of abandon) {
      // Only the attempt the master named: a newer attempt of the same job is not abandoned.
      const held = this.attempts.find(a);
      if (held) endAttempt(held, 'the master re-assigned this attempt', false);
    }
    this.draining.announce(peer);
    this.runner.services.resend(peer);
    this.outbox.flushOutput(peer);
    this.logs.flushAll();
    this.outbox.schedule();
  }

  /** The master has surely given this worker's attempts to others by now: stop them (see MasterContact). */
  private masterUnreachable(afterMs: number): void {
    if (this.attempts.size === 0 || this.link.stopped) return;
    this.log(`the master has been unreachable for ${inSeconds(afterMs)}: stopping ${this.attempts.size} running attempt(s), to be reported lost once it is back`);
    this.attempts.endAll(unreachableReason(afterMs), true);
  }

  /** Removes run folders and cache entries nothing has touched within the retention, and none an attempt here uses. */
  private prune(): void {
    const keepMs = this.config.keepRunsMs ?? KEEP_RUNS_MS;
    const isBusy = (area: PruneArea, name: string): boolean => this.attempts.isBusy(area, name);
    pruneWorkDir(this.config.workDir, { olderThanMs: keepMs, now: Date.now(), isBusy, owner: this.owner }).then(
      ({ runs, cached }) => {
        if (runs + cached > 0) this.log(`removed ${runs} run folder${runs === 1 ? '' : 's'} and ${cached} cached file${cached === 1 ? '' : 's'} untouched for ${Math.round(keepMs / 3600_000)} h`);
      },
      (err: Error) => this.log(`cleaning the work folder failed: ${err.message}`),
    );
  }
}
