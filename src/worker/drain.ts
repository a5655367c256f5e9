/**
 * Draining. Drained by the master, a worker takes no new work until undrained. Draining for
 * shutdown (the master asked, or the process is stopping), it lets running attempts finish for a
 * grace, hands back what still runs then (LOST: the master runs it elsewhere without spending a
 * retry), reports and disconnects; the master is told so again after each reconnect.
 */
import type { Peer } from '../protocol/peer.js';
import type { Attempts } from './attempts.js';
import type { Outbox } from './outbox.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, DrainGrace, handedBackReason, inSeconds } from './stop-policy.js';
import type { WorkerConfig } from './worker-config.js';

export interface DrainParts {
  attempts: Attempts;
  outbox: Pick<Outbox, 'sendNow'>;
  /** The current session, if any. */
  peer: () => Pick<Peer, 'notify'> | null;
  /** Disconnects for good. */
  stop: () => void;
  log: (line: string) => void;
}

export class Drain {
  private draining = false;
  /** The drain for shutdown, once one began: the worker then only winds down. */
  private exit: { grace: DrainGrace; done: Promise<void> } | null = null;

  constructor(
    private readonly config: Pick<WorkerConfig, 'drainTimeoutMs' | 'onShutdown'>,
    private readonly parts: DrainParts,
  ) {}

  /**
   * Drains for shutdown: takes no new work, lets running attempts finish for up to `graceMs`,
   * hands back what still runs then, reports and disconnects. A second call joins the drain under
   * way, ending it sooner if its grace is shorter.
   */
  forShutdown(graceMs: number): Promise<void> {
    if (this.exit) {
      this.exit.grace.shorten(graceMs);
      return this.exit.done;
    }
    const grace = new DrainGrace(graceMs);
    this.draining = true;
    this.parts.peer()?.notify('drain', { exiting: true });
    this.exit = { grace, done: this.windDown(grace) };
    return this.exit.done;
  }

  /** The master asked this worker to shut down: it drains, then the process decides how to exit. */
  shutdownAsked(drainTimeoutMs: number | undefined): void {
    const graceMs = drainTimeoutMs ?? this.config.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.parts.log(`the master asked this worker to shut down: draining, for up to ${inSeconds(graceMs)}`);
    void this.forShutdown(graceMs).then(() => this.config.onShutdown?.());
  }

  byMaster(): void {
    this.parts.log('drained by the master: taking no new work');
    this.draining = true;
  }

  undrainedByMaster(peer: Pick<Peer, 'notify'>): void {
    // The master refuses to undrain a worker it knows is shutting down; say it again should it have forgotten.
    if (this.exit) return peer.notify('drain', { exiting: true });
    this.parts.log('undrained by the master: taking work again');
    this.draining = false;
  }

  /** Said again to each new session. */
  announce(peer: Pick<Peer, 'notify'>): void {
    if (this.draining) peer.notify('drain', { exiting: this.exit !== null });
  }

  private async windDown(grace: DrainGrace): Promise<void> {
    const { attempts } = this.parts;
    const ended = await Promise.race([attempts.idle().then(() => null), grace.ended]);
    if (ended !== null) {
      if (attempts.size > 0) this.parts.log(`the drain's grace of ${inSeconds(ended)} ended: handing back ${attempts.size} running attempt(s)`);
      attempts.endAll(handedBackReason(ended), true);
    }
    await attempts.idle();
    grace.cancel();
    await this.parts.outbox.sendNow();
    this.parts.stop();
  }
}
