import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/helpers/manual-clock.js';
import { MiB } from '../store/disk-space.js';
import { DiskWatch } from './disk-watch.js';

describe('DiskWatch', () => {
  it('warns once when free space falls below the watermark and once when it is back, looking every few seconds', () => {
    const clock = new ManualClock();
    const lines: string[] = [];
    let free = 500 * MiB;
    const watch = new DiskWatch('/data', 256 * MiB, clock, (l) => lines.push(l), () => ({ freeBytes: free, totalBytes: 1024 * MiB }));
    watch.start();
    expect(lines).toEqual([]);

    free = 100 * MiB;
    clock.advance(5_000);
    clock.advance(5_000);
    expect(lines).toEqual(['warning: the disk holding /data has 100.0 MiB free, below --min-free-mb 256: free some space (once it is full, submissions and data bus writes are refused with UNAVAILABLE and job output is lost)']);
    expect(watch.view()).toEqual({ freeBytes: 100 * MiB, totalBytes: 1024 * MiB, minFreeBytes: 256 * MiB, low: true });

    free = 300 * MiB;
    // A look from stats sees it at once.
    expect(watch.view()?.low).toBe(false);
    clock.advance(5_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('the disk holding /data has 300.0 MiB free again, above --min-free-mb 256');

    watch.stop();
    free = 1;
    clock.advance(60_000);
    expect(lines).toHaveLength(2);
  });

  it('keeps the last known state when the disk cannot be read, and has none before the first look', () => {
    let fail = true;
    const watch = new DiskWatch('/data', MiB, new ManualClock(), () => undefined, () => {
      if (fail) throw new Error('EIO');
      return { freeBytes: 2 * MiB, totalBytes: 4 * MiB };
    });
    expect(watch.view()).toBeNull();
    fail = false;
    expect(watch.view()?.freeBytes).toBe(2 * MiB);
    fail = true;
    expect(watch.view()?.freeBytes).toBe(2 * MiB);
  });
});
