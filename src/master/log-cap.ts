/**
 * `--max-logs-mb`: a cap on the job output kept under `<data-dir>/logs`. The total is counted once
 * at start and then kept up to date from the log store's appends and removals, so an append costs
 * no file system call. Past the cap, the logs of finished runs go, those written to longest ago
 * first; a running run's logs never do. Each removed run keeps a note saying why, which
 * `titan logs` shows instead of an empty output.
 */
import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MiB } from '../store/disk-space.js';
import type { Clock } from './clock.js';
import type { LogUsage } from './log-store.js';

export interface LogCapOptions {
  /** The logs directory. */
  dir: string;
  capBytes: number;
  /** Whether the run is still running: its logs are never removed. */
  isActive: (runId: string) => boolean;
  /** Removes a run's logs, leaving `note` in their place (LogStore.removeRun, which reports back through `removed`). */
  remove: (runId: string, note: string) => void;
  clock: Clock;
  log: (line: string) => void;
}

const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

export class LogCap implements LogUsage {
  private total = 0;
  /** Bytes stored per run, the run written to longest ago first (each write moves its run last). */
  private readonly runs = new Map<string, number>();
  private scheduled = false;
  /** Over the cap with only running runs left to remove: said once until under it again. */
  private stuck = false;

  constructor(private readonly o: LogCapOptions) {}

  /** Counts what is stored already, then trims to the cap. */
  start(): void {
    const found: { runId: string; bytes: number; at: number }[] = [];
    for (const run of entries(this.o.dir)) {
      if (!run.isDirectory()) continue;
      let bytes = 0;
      let at = 0;
      for (const job of entries(join(this.o.dir, run.name))) {
        if (!job.isDirectory()) continue;
        for (const file of entries(join(this.o.dir, run.name, job.name))) {
          if (!file.name.endsWith('.log')) continue;
          try {
            const st = statSync(join(this.o.dir, run.name, job.name, file.name));
            bytes += st.size;
            at = Math.max(at, st.mtimeMs);
          } catch {
            // removed meanwhile
          }
        }
      }
      if (bytes > 0) found.push({ runId: run.name, bytes, at });
    }
    found.sort((a, b) => a.at - b.at);
    for (const { runId, bytes } of found) this.stored(runId, bytes);
  }

  stored(runId: string, bytes: number): void {
    const had = this.runs.get(runId) ?? 0;
    this.runs.delete(runId);
    this.runs.set(runId, had + bytes);
    this.total += bytes;
    if (this.total <= this.o.capBytes || this.scheduled) return;
    // Trimmed once per turn, out of the append that crossed the cap.
    this.scheduled = true;
    this.o.clock.setTimer(() => {
      this.scheduled = false;
      this.trim();
    }, 0);
  }

  removed(runId: string): void {
    const had = this.runs.get(runId);
    if (had === undefined) return;
    this.total -= had;
    this.runs.delete(runId);
  }

  private trim(): void {
    const capMiB = this.o.capBytes / MiB;
    let runs = 0;
    let freed = 0;
    // Removing a run deletes its entry (through `removed`), which a Map's iteration allows.
    for (const [runId, bytes] of this.runs) {
      if (this.total <= this.o.capBytes) break;
      if (this.o.isActive(runId)) continue;
      this.o.remove(runId, `the output of this run was removed to keep stored logs under --max-logs-mb (${capMiB} MiB)`);
      runs++;
      freed += bytes;
    }
    if (runs > 0) this.o.log(`removed the stored output of ${runs} finished run${runs === 1 ? '' : 's'} (${mib(freed)} MiB) to keep stored logs under --max-logs-mb (${capMiB} MiB)`);
    const over = this.total > this.o.capBytes;
    if (over && !this.stuck) this.o.log(`the output of running runs alone takes ${mib(this.total)} MiB, over --max-logs-mb (${capMiB} MiB): it is removed once they have finished`);
    this.stuck = over;
  }
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
