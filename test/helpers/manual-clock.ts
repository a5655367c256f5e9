/**
 * Clocks a test moves by hand: timers fire, in deadline order, as time passes them. ManualClock
 * fires them synchronously; SettlingClock lets the asynchronous work each timer starts (store
 * writes, submissions) settle before time moves on.
 */
import type { Clock } from '../../src/master/clock.js';

interface Pending {
  at: number;
  fn: () => void;
  cancelled: boolean;
}

abstract class HandClock implements Clock {
  protected pending: Pending[] = [];
  /** setTimer calls so far. */
  created = 0;

  constructor(protected t = 0) {}

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): { cancel(): void } {
    const entry = { at: this.t + Math.max(0, ms), fn, cancelled: false };
    this.pending.push(entry);
    this.created++;
    return { cancel: () => void (entry.cancelled = true) };
  }

  /** Underlying timers still waiting to fire. */
  get live(): number {
    return this.pending.filter((e) => !e.cancelled).length;
  }

  /** Time passes with nobody listening (the process is down): pending timers are dropped. */
  jump(ms: number): void {
    this.pending = [];
    this.t += ms;
  }

  /** Takes the earliest live timer due by `target` and moves the clock to it. */
  protected takeDue(target: number): Pending | undefined {
    let next: Pending | undefined;
    for (const e of this.pending) if (!e.cancelled && e.at <= target && (!next || e.at < next.at)) next = e;
    if (!next) return undefined;
    this.pending.splice(this.pending.indexOf(next), 1);
    this.t = Math.max(this.t, next.at);
    return next;
  }
}

export class ManualClock extends HandClock {
  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }

  advanceTo(target: number): void {
    for (let next = this.takeDue(target); next; next = this.takeDue(target)) next.fn();
    this.t = Math.max(this.t, target);
  }
}

/** Everything queued by fired timers and the work they started has run. */
export const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

export class SettlingClock extends HandClock {
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await settle();
    for (let next = this.takeDue(target); next; next = this.takeDue(target)) {
      next.fn();
      await settle();
    }
    this.t = Math.max(this.t, target);
  }
}
