/**
 * The last hour of the cluster in samples (one every 10 s): jobs finished, queue depth and slots
 * in use, for the dashboard's charts. Kept in memory only: a restart starts a new hour.
 */
import type { MetricsSample } from '../protocol/http-views.js';
import type { Clock } from './clock.js';

export interface MetricsSource {
  totals(): { completed: number; dead: number };
  now(): { queued: number; busySlots: number; slots: number; workers: number };
}

export const SAMPLE_MS = 10_000;
const KEEP = 360;

export class MetricsHistory {
  private readonly samples: MetricsSample[] = [];
  private last: { completed: number; dead: number } | null = null;
  private timer: { cancel(): void } | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly source: MetricsSource,
  ) {}

  start(): void {
    this.last = this.source.totals();
    const tick = (): void => {
      this.sample();
      this.timer = this.clock.setTimer(tick, SAMPLE_MS);
    };
    this.timer = this.clock.setTimer(tick, SAMPLE_MS);
  }

  stop(): void {
    this.timer?.cancel();
  }

  sample(): void {
    const totals = this.source.totals();
    const last = this.last ?? totals;
    this.samples.push({ at: this.clock.now(), completed: totals.completed - last.completed, dead: totals.dead - last.dead, ...this.source.now() });
    if (this.samples.length > KEEP) this.samples.shift();
    this.last = totals;
  }

  list(): MetricsSample[] {
    return [...this.samples];
  }
}
