/**
 * A master's part in a cluster whose masters share one store: it stands by until it acquires the
 * store's lease, then keeps it by renewing it, and gives it up on a clean stop. It uses only the
 * LeaderLease interface, so it is the same on every store that has one.
 *
 * Losing the lease is final for this process: `onLost` is called once, when a renewal is refused
 * (another master acquired the lease), when a write was fenced off (see watchFenced), or when the
 * leader steps aside: it could not renew the lease for as long as the lease lives, so a standby
 * may lead now, and it saw one up at its last renewal. Every master records its presence in the
 * store (LeaderLease.heartbeat), so the leader knows whether another can take over; one that saw
 * none holds on, as a single master rides through an outage of its store.
 */
import { hostname } from 'node:os';
import { FencedError, type LeaderLease, type MasterAddress } from '../store/lease.js';

/** The lease lives 3 s unless renewed, is renewed every second, and standbys try for it twice a second. */
export const LEASE_TIMING = { ttlMs: 3_000, renewEveryMs: 1_000, acquireEveryMs: 500 } as const;
export type LeaseTiming = { ttlMs: number; renewEveryMs: number; acquireEveryMs: number };

/** The exit code of a master that lost the leadership (EX_TEMPFAIL: start it again, it stands by). */
export const LOST_LEADERSHIP_EXIT = 75;

/** The host others are told: --advertise, else the listening host unless it is a wildcard, else this machine's name. */
export function advertisedHost(host: string, advertise: string | undefined): string {
  const name = advertise ?? (host === '0.0.0.0' || host === '::' ? hostname() : host);
  return name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
}

export class Leadership {
  private epoch = 0;
  private known: MasterAddress | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Fires when the lease may have expired: `ttlMs` after the last successful renewal was sent. */
  private deadline: NodeJS.Timeout | null = null;
  /** When the acquisition that won the lease was sent (performance.now()). */
  private acquiredAt = 0;
  /** The other masters that were up at the last successful renewal (or at the acquisition). */
  private others: MasterAddress[] = [];
  private beatFailing = false;
  private stopped = false;
  private lostOnce = false;
  private onLost: (why: string) => void = () => undefined;

  constructor(
    private readonly lease: LeaderLease,
    readonly me: MasterAddress,
    private readonly log: (line: string) => void,
    private readonly timing: LeaseTiming = LEASE_TIMING,
  ) {}

  /** The master that leads, as this one last saw it: itself once it leads, null when unknown. */
  leader(): MasterAddress | null {
    return this.epoch > 0 ? this.me : this.known;
  }

  /** The epoch this master leads with (0 while it stands by). */
  get leadingEpoch(): number {
    return this.epoch;
  }

  /** Tries for the lease every `acquireEveryMs` until it is this master's; resolves with its epoch. */
  async acquire(): Promise<number> {
    let said = '';
    for (;;) {
      if (this.stopped) throw new Error('stopped while standing by');
      const others = await this.heartbeat();
      if (others) this.others = others;
      const sentAt = performance.now();
      try {
        const result = await this.lease.acquire(this.me, this.timing.ttlMs);
        if (result.acquired) {
          this.epoch = result.epoch;
          this.acquiredAt = sentAt;
          this.log(`leading the cluster (epoch ${result.epoch})`);
          return result.epoch;
        }
        this.known = result.current?.holder ?? null;
        const now = this.known ? `standing by: the leader is at ${this.known.tcp} (dashboard ${this.known.http})` : 'standing by: no master leads right now';
        if (now !== said) this.log((said = now));
      } catch (err) {
        const now = `standing by: cannot reach the store to try for the leadership (${(err as Error).message})`;
        if (now !== said) this.log((said = now));
      }
      await new Promise((r) => setTimeout(r, this.timing.acquireEveryMs));
    }
  }

  /**
   * Renews the lease every `renewEveryMs`, recording this master's presence after each renewal;
   * `onLost` is called once when a renewal is refused, or when no renewal succeeded for `ttlMs`
   * and one renewal period more while another master was up at the last one (see stepAsideOrHoldOn). Otherwise, while the
   * store cannot be reached the master holds on, as its commits do: every write it makes waits
   * for the store and is refused if another master acquired the lease meanwhile.
   */
  keep(onLost: (why: string) => void): void {
    this.onLost = onLost;
    this.armDeadline(this.acquiredAt);
    let failing = false;
    const tick = async (): Promise<void> => {
      const sentAt = performance.now();
      try {
        if (!(await this.lease.renew(this.me, this.epoch, this.timing.ttlMs))) return this.lost(`another master acquired the lease (this one led at epoch ${this.epoch})`);
        if (this.stopped) return;
        this.armDeadline(sentAt);
        if (failing) this.log('renewed the leadership again');
        failing = false;
        const others = await this.heartbeat();
        if (others) this.others = others;
      } catch (err) {
        if (!failing) this.log(`cannot renew the leadership (${(err as Error).message}); holding on, trying every ${this.timing.renewEveryMs} ms: nothing is written unless this master still leads`);
        failing = true;
      }
      // Paced from when this renewal was sent, so that a slow store leaves the lease less short.
      if (!this.stopped) this.timer = setTimeout(() => void tick(), Math.max(0, sentAt + this.timing.renewEveryMs - performance.now()));
    };
    this.timer = setTimeout(() => void tick(), this.timing.renewEveryMs);
  }

  /** Records this master's presence; the other masters that are up, or null when the store did not answer. */
  private async heartbeat(): Promise<MasterAddress[] | null> {
    try {
      const others = await this.lease.heartbeat(this.me, this.timing.ttlMs);
      this.beatFailing = false;
      return others;
    } catch (err) {
      if (!this.beatFailing) this.log(`cannot record this master's presence in the store (${(err as Error).message})`);
      this.beatFailing = true;
      return null;
    }
  }

  /** The lease, renewed by a request sent at `sentAt`, lives until `ttlMs` after it at least. */
  private armDeadline(sentAt: number): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.stepAsideOrHoldOn(), Math.max(0, sentAt + this.timing.ttlMs - performance.now()));
  }

  /**
   * The lease was not renewed for as long as it lives, so it may have expired. When another master
   * was up at the last renewal, it may lead now: this one steps aside (`onLost`) so that its
   * workers and clients go to that master instead of waiting with this one. It waits one renewal
   * period first, for a renewal on its way to answer (after a pause, the store says at once
   * whether another master took the lease). Without another master, stepping aside would leave
   * nobody to lead: it holds on until the store answers.
   */
  private stepAsideOrHoldOn(): void {
    this.deadline = null;
    if (this.stopped || this.lostOnce) return;
    const ttl = this.timing.ttlMs;
    if (this.others.length === 0) {
      this.log(`the lease was not renewed for ${ttl} ms and no other master was up at the last renewal: holding on until the store answers`);
      return;
    }
    const standbys = this.others.map((m) => m.tcp).join(', ');
    const why = `the lease was not renewed for ${ttl + this.timing.renewEveryMs} ms (the store did not answer, or this process was paused) and another master that can lead was up (${standbys}): stepping aside`;
    this.deadline = setTimeout(() => {
      this.deadline = null;
      this.lost(why);
    }, this.timing.renewEveryMs);
  }

  /** The leadership is lost (a renewal refused, a write fenced off, or stepping aside): stops renewing and tells `onLost`, once. */
  lost(why: string): void {
    if (this.lostOnce || this.stopped || this.epoch === 0) return;
    this.lostOnce = true;
    this.stop();
    this.onLost(why);
  }

  /** Stops renewing (the lease then expires by itself). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.deadline) clearTimeout(this.deadline);
  }

  /** Stops renewing and gives the lease up, so a standby takes over at once. */
  async release(): Promise<void> {
    const wasLeading = this.epoch > 0 && !this.lostOnce;
    this.stop();
    if (wasLeading) await this.lease.release(this.me, this.epoch);
  }
}

/**
 * The store as the master uses it, reporting every write refused with FencedError to `onFenced`
 * before the caller sees it, so that the master stops acting as leader whichever write noticed.
 */
export function watchFenced<T extends object>(store: T, onFenced: (err: FencedError) => void): T {
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(out instanceof Promise)) return out;
        return out.catch((err: unknown) => {
          if (err instanceof FencedError) onFenced(err);
          throw err;
        });
      };
    },
  });
}
