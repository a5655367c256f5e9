import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/helpers/manual-clock.js';
import { MiB } from '../store/disk-space.js';
import { LogCap } from './log-cap.js';
import { LogStore } from './log-store.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A log store under a cap, with the runs the test says are running. */
function capped(capBytes: number, active: Set<string>, lines: string[] = []): { logs: LogStore; cap: LogCap; clock: ManualClock } {
  const clock = new ManualClock();
  let logs: LogStore | null = null;
  const cap = new LogCap({ dir, capBytes, isActive: (runId) => active.has(runId), remove: (runId, note) => logs?.removeRun(runId, note), clock, log: (l) => lines.push(l) });
  logs = new LogStore(dir, { usage: cap });
  return { logs, cap, clock };
}

const kept = (logs: LogStore, runId: string): boolean => logs.read(runId, 'a', 1, 0, 1).size > 0;

describe('LogCap', () => {
  it("removes the logs of the finished runs written to longest ago first, never a running run's, and leaves a note", () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-log-cap-'));
    const active = new Set(['running']);
    const lines: string[] = [];
    const { logs, cap, clock } = capped(MiB, active, lines);
    cap.start();
    const chunk = 'x'.repeat(300 * 1024);
    logs.append('running', 'a', 1, chunk);
    logs.append('old', 'a', 1, chunk);
    logs.append('newer', 'a', 1, chunk);
    // A later write makes `old` the most recently written.
    logs.append('old', 'a', 1, 'more');
    logs.append('newest', 'a', 1, chunk);
    expect(kept(logs, 'newer')).toBe(true);
    // Trimmed after the append that crossed the cap, not inside it.
    clock.advance(0);
    expect(kept(logs, 'newer')).toBe(false);
    expect(logs.removedNote('newer')).toBe('the output of this run was removed to keep stored logs under --max-logs-mb (1 MiB)');
    for (const runId of ['running', 'old', 'newest']) expect(kept(logs, runId), runId).toBe(true);
    expect(lines).toEqual(['removed the stored output of 1 finished run (0.3 MiB) to keep stored logs under --max-logs-mb (1 MiB)']);

    // Deleting a run lowers the total: room for another run without removing anything.
    logs.removeRun('old');
    logs.append('fresh', 'a', 1, chunk);
    clock.advance(0);
    for (const runId of ['running', 'newest', 'fresh']) expect(kept(logs, runId), runId).toBe(true);
    logs.closeAll();
  });

  it('counts what is stored at start, oldest first, and says once when running runs alone are over the cap', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-log-cap-'));
    const before = new LogStore(dir);
    for (const [runId, size] of [['r1', 400], ['r2', 400], ['live', 1200]] as const) {
      before.append(runId, 'a', 1, 'y'.repeat(size * 1024));
      before.close(runId, 'a', 1);
    }
    const lines: string[] = [];
    const active = new Set(['live']);
    const { logs, cap, clock } = capped(MiB, active, lines);
    cap.start();
    clock.advance(0);
    expect(kept(logs, 'r1')).toBe(false);
    expect(kept(logs, 'r2')).toBe(false);
    expect(kept(logs, 'live')).toBe(true);
    expect(existsSync(join(dir, 'r1', '.removed'))).toBe(true);
    expect(lines).toEqual([
      'removed the stored output of 2 finished runs (0.8 MiB) to keep stored logs under --max-logs-mb (1 MiB)',
      'the output of running runs alone takes 1.2 MiB, over --max-logs-mb (1 MiB): it is removed once they have finished',
    ]);
    logs.append('live', 'a', 1, 'z');
    clock.advance(0);
    expect(lines).toHaveLength(2);
    // Once it has finished, it goes at the next trim.
    active.clear();
    logs.append('live', 'a', 1, 'z');
    clock.advance(0);
    expect(kept(logs, 'live')).toBe(false);
    logs.closeAll();
  });
});
