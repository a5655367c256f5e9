/**
 * The last hour of the cluster in samples (one every 10 s by default): jobs finished, queue depth
 * and slots in use, for the dashboard's charts. The samples are kept in the store's meta (see
 * docs/architecture.md), rewritten after each sample: at most 360 of them, about 15 KB, so a
 * restart, or another master taking over the same store, continues the charts instead of starting
 * a new hour.
 */
import { z } from 'zod';
import type { MetricsSample } from '../protocol/http-views.js';
import type { Clock } from './clock.js';

export interface MetricsSource {
  totals(): { completed: number; dead: number };
  now(): { queued: number; busySlots: number; slots: number; workers: number };
}

/** Where the samples are kept between starts: the store's meta key, as text. */
export interface SampleKeeper {
  load(): Promise<string | null>;
  save(text: string): Promise<void>;
}

export const SAMPLE_MS = 10_000;
/** The most samples kept: an hour at the default period. */
export const KEEP = 360;
/** Samples older than this are dropped when loaded, whatever the period. */
const WINDOW_MS = 3_600_000;

/** The stored form: one array per sample, in MetricsSample's field order, to keep it small. */
const Stored = z.object({
  v: z.literal(1),
  samples: z.array(z.tuple([z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number()])).max(KEEP),
});
type Row = z.infer<typeof Stored>['samples'][number];

const toRow = (s: MetricsSample): Row => [s.at, s.completed, s.dead, s.queued, s.busySlots, s.slots, s.workers];
const fromRow = ([at, completed, dead, queued, busySlots, slots, workers]: Row): MetricsSample => ({ at, completed, dead, queued, busySlots, slots, workers });

/** The samples a stored text holds that are younger than an hour; none when it is unreadable. */
export function parseSamples(text: string, now: number): MetricsSample[] | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = Stored.safeParse(json);
  if (!parsed.success) return null;
  return parsed.data.samples.map(fromRow).filter((s) => s.at > now - WINDOW_MS && s.at <= now);
}

export const formatSamples = (samples: readonly MetricsSample[]): string => JSON.stringify({ v: 1, samples: samples.map(toRow) });

export interface MetricsHistoryOptions {
  sampleMs?: number;
  keeper?: SampleKeeper;
  log?: (line: string) => void;
}

export class MetricsHistory {
  private readonly samples: MetricsSample[] = [];
  private last: { completed: number; dead: number } | null = null;
  private timer: { cancel(): void } | null = null;
  private readonly sampleMs: number;
  /** The save in flight; the next waits for it, so saves land in order. */
  private saving: Promise<void> = Promise.resolve();
  private saveFailed = false;

  constructor(
    private readonly clock: Clock,
    private readonly source: MetricsSource,
    private readonly options: MetricsHistoryOptions = {},
  ) {
    this.sampleMs = options.sampleMs ?? SAMPLE_MS;
  }

  /** Loads the kept samples (those of the last hour), then samples every period. */
  async start(): Promise<void> {
    const text = await this.options.keeper?.load().catch((err: unknown) => {
      this.options.log?.(`the overview's chart history could not be read (${(err as Error).message}); the charts start over`);
      return null;
    });
    if (text) {
      const kept = parseSamples(text, this.clock.now());
      if (kept) this.samples.push(...kept.slice(-KEEP));
      else this.options.log?.("the overview's chart history in the store is not readable; the charts start over");
    }
    this.last = this.source.totals();
    const tick = (): void => {
      this.sample();
      this.timer = this.clock.setTimer(tick, this.sampleMs);
    };
    this.timer = this.clock.setTimer(tick, this.sampleMs);
  }

  /** Stops sampling; resolves once the last sample is kept. */
  stop(): Promise<void> {
    this.timer?.cancel();
    return this.saving;
  }

  sample(): void {
    const totals = this.source.totals();
    const last = this.last ?? totals;
    this.samples.push({ at: this.clock.now(), completed: totals.completed - last.completed, dead: totals.dead - last.dead, ...this.source.now() });
    if (this.samples.length > KEEP) this.samples.shift();
    this.last = totals;
    this.keep();
  }

  list(): MetricsSample[] {
    return [...this.samples];
  }

  private keep(): void {
    const keeper = this.options.keeper;
    if (!keeper) return;
    const text = formatSamples(this.samples);
    this.saving = this.saving
      .then(() => keeper.save(text))
      .then(
        () => {
          this.saveFailed = false;
        },
        (err: unknown) => {
          // Once per outage: the charts still work from memory.
          if (!this.saveFailed) this.options.log?.(`the overview's chart history could not be kept (${(err as Error).message}); a restart would start the charts over`);
          this.saveFailed = true;
        },
      );
  }
}
