/**
 * When a worker gives its running attempts back unfinished: when the grace of a drain for
 * shutdown ends, and when the master has been unreachable for so long that it has surely given
 * them to another worker. Either way they are reported LOST, so the master runs them again without
 * spending a retry (or ignores the report, having re-queued them already).
 */

/** How long a worker draining for shutdown lets running attempts finish, unless told otherwise. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/** 2000 → "2 s", 2500 → "2.5 s". */
export const inSeconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

export const handedBackReason = (graceMs: number): string => `handed back: the worker drained and its grace of ${inSeconds(graceMs)} ended`;

export const unreachableReason = (afterMs: number): string => `stopped: the master was unreachable for ${inSeconds(afterMs)}`;

/**
 * The grace of a drain for shutdown. `ended` resolves with the grace that ran out; a later request
 * with a shorter grace brings the end forward, never back.
 */
export class DrainGrace {
  readonly ended: Promise<number>;
  private endNow!: (graceMs: number) => void;
  private timer: NodeJS.Timeout | null = null;
  private deadline = Infinity;

  constructor(graceMs: number) {
    this.ended = new Promise((resolve) => (this.endNow = resolve));
    this.shorten(graceMs);
  }

  shorten(graceMs: number): void {
    const deadline = performance.now() + graceMs;
    if (deadline >= this.deadline) return;
    this.deadline = deadline;
    this.cancel();
    this.timer = setTimeout(() => this.endNow(graceMs), graceMs);
  }

  /** Nothing is left to wait for: the timer need not keep the process alive. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** `never`, or milliseconds; absent: the worker timeout the master announced at HELLO. */
export type StopAfterDisconnect = number | 'never';

/** How often the silence is looked at: the granularity of a stop after disconnect. */
const CHECK_EVERY_MS = 250;

/**
 * How long the master has been silent, from the last frame heard from it. The silence counts as
 * an outage once the connection is down or the master's answer to a heartbeat is overdue (a
 * black-holed connection looks up until then); an outage longer than the stop-after setting
 * calls `onExpired` once, with that setting.
 */
export class MasterContact {
  private lastHeard = performance.now();
  private connected = false;
  private heartbeatMs = 2000;
  private masterTimeoutMs: number | null = null;
  private expired = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly stopAfter: StopAfterDisconnect | undefined,
    private readonly onExpired: (afterMs: number) => void,
  ) {
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** A session began; the master says how often to beat and how long it waits for a silent worker. */
  joined(hello: { heartbeatMs?: number; workerTimeoutMs?: number }): void {
    this.heartbeatMs = hello.heartbeatMs ?? this.heartbeatMs;
    if (hello.workerTimeoutMs !== undefined) this.masterTimeoutMs = hello.workerTimeoutMs;
    this.connected = true;
    this.heard();
  }

  /** Any frame from the master. */
  heard(): void {
    this.lastHeard = performance.now();
    this.expired = false;
  }

  lost(): void {
    this.connected = false;
  }

  get silentMs(): number {
    return performance.now() - this.lastHeard;
  }

  /**
   * The outage after which running attempts stop; null: never. An older master that does not
   * say how long it waits leaves them running.
   */
  get stopAfterMs(): number | null {
    if (this.stopAfter === 'never') return null;
    return this.stopAfter ?? this.masterTimeoutMs;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const limit = this.stopAfterMs;
    if (limit === null || this.expired) return;
    const silent = this.silentMs;
    // Half a heartbeat of slack: the echo of a heartbeat sent on time is not overdue yet.
    const outage = !this.connected || silent > this.heartbeatMs * 1.5;
    if (!outage || silent < limit) return;
    this.expired = true;
    this.onExpired(limit);
  }
}
