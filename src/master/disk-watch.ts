/**
 * The free space of the disk holding the data directory, against the `--min-free-mb` watermark:
 * looked at every few seconds and at each stats request. Crossing the watermark is logged once
 * each way. It refuses nothing: writes are refused only when they actually fail (a full disk).
 */
import type { DiskView } from '../protocol/methods.js';
import { MiB, type SpaceOf, spaceOf } from '../store/disk-space.js';
import type { Clock } from './clock.js';

const CHECK_MS = 5_000;

const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

export class DiskWatch {
  private last: DiskView | null = null;
  private timer: { cancel(): void } | null = null;

  constructor(
    private readonly dir: string,
    private readonly minFreeBytes: number,
    private readonly clock: Clock,
    private readonly log: (line: string) => void,
    private readonly space: SpaceOf = spaceOf,
  ) {}

  start(): void {
    const tick = (): void => {
      this.check();
      this.timer = this.clock.setTimer(tick, CHECK_MS);
    };
    tick();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** The disk now (the last known state if it cannot be read), or null if it never could be. */
  view(): DiskView | null {
    this.check();
    return this.last;
  }

  private check(): void {
    let freeBytes: number;
    let totalBytes: number;
    try {
      ({ freeBytes, totalBytes } = this.space(this.dir));
    } catch {
      return;
    }
    const low = freeBytes < this.minFreeBytes;
    if (low && this.last?.low !== true) {
      this.log(`warning: the disk holding ${this.dir} has ${mib(freeBytes)} MiB free, below --min-free-mb ${this.minFreeBytes / MiB}: free some space (once it is full, submissions and data bus writes are refused with UNAVAILABLE and job output is lost)`);
    } else if (!low && this.last?.low === true) {
      this.log(`the disk holding ${this.dir} has ${mib(freeBytes)} MiB free again, above --min-free-mb ${this.minFreeBytes / MiB}`);
    }
    this.last = { freeBytes, totalBytes, minFreeBytes: this.minFreeBytes, low };
  }
}
