/**
 * Live progress of a run: on a terminal, a block redrawn in place (counts by status, elapsed
 * time, the running jobs, why jobs that are ready wait); elsewhere, one plain line per change,
 * with the reason a job waits the first time that reason appears.
 */
import type { JobStatus } from '../core/model.js';
import { JOB_STATUSES } from '../core/model.js';
import { withoutAhead } from '../core/waiting-reason.js';
import type { JobView, RunView } from '../protocol/methods.js';
import type { RunEvent } from '../sdk/client.js';
import { bold, colourStatus, duration } from './format.js';

export class Progress {
  private readonly jobs = new Map<string, JobView>();
  private readonly started = Date.now();
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly live: boolean;
  private readonly reasonsSeen = new Set<string>();

  constructor(
    private readonly snapshot: RunView,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.live = Boolean(out.isTTY);
    for (const j of snapshot.jobs) this.jobs.set(j.spec.id, j);
    if (this.live) {
      this.draw();
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    } else {
      out.write(`run ${snapshot.run.runId} (${snapshot.run.name}): ${snapshot.jobs.length} jobs\n`);
      for (const j of snapshot.jobs) {
        const reason = newWaitingReason(this.reasonsSeen, j);
        if (reason !== null) out.write(`${clock()} ${j.spec.id} ${j.status}: ${reason}\n`);
      }
    }
  }

  update(event: RunEvent): void {
    if (event.type !== 'job') return;
    const before = this.jobs.get(event.job.spec.id);
    this.jobs.set(event.job.spec.id, event.job);
    if (this.live) return;
    const j = event.job;
    if (newWaitingReason(this.reasonsSeen, j) === null && before?.status === j.status) return;
    const where = j.status === 'RUNNING' ? ` (attempt ${j.attempt} on ${j.workerId})` : detailOf(j);
    this.out.write(`${clock()} ${j.spec.id} ${j.status}${where}\n`);
  }

  finish(final: RunView): void {
    for (const j of final.jobs) this.jobs.set(j.spec.id, j);
    if (this.timer) clearInterval(this.timer);
    if (this.live) this.draw();
    else this.out.write(`run ${final.run.runId} ${final.run.status} in ${duration(Date.now() - this.started)}\n`);
  }

  private draw(): void {
    const counts = new Map<JobStatus, number>();
    const running: string[] = [];
    const reasons = new Set<string>();
    for (const j of this.jobs.values()) {
      counts.set(j.status, (counts.get(j.status) ?? 0) + 1);
      if (j.status === 'RUNNING') running.push(`${j.spec.id}@${j.workerId}`);
      const reason = shownReason(j);
      if (reason !== null) reasons.add(withoutAhead(reason));
    }
    const summary = JOB_STATUSES.filter((s) => counts.has(s))
      .map((s) => `${colourStatus(s)} ${counts.get(s)}`)
      .join('  ');
    const lines = [
      `${bold(`run ${this.snapshot.run.runId}`)} ${this.snapshot.run.name}  ${duration(Date.now() - this.started)}`,
      `  ${summary}`,
      `  running: ${running.length === 0 ? '-' : running.slice(0, 8).join(', ') + (running.length > 8 ? ` (+${running.length - 8})` : '')}`,
      ...[...reasons].slice(0, 3).map((r) => `  waiting: ${r}`),
    ];
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    // Clearing to the end of the screen removes the lines of a taller block drawn before.
    this.out.write(up + lines.map((l) => `\x1b[2K${l}\n`).join('') + '\x1b[J');
    this.drawn = lines.length;
  }
}

const clock = (): string => new Date().toISOString().slice(11, 19);

/**
 * The reason a job waits, when it is worth a line of its own: a job ready (or due to retry,
 * restart or end its delay) that is not running, or an open gate. A job waiting for its parents
 * is left out: its parents' lines say what it waits for.
 */
function shownReason(j: JobView): string | null {
  if (j.waitingReason === null || (j.status === 'PENDING' && j.notBefore === null)) return null;
  return j.waitingReason;
}

function detailOf(j: JobView): string {
  const detail = jobDetail(j, shownReason(j));
  return detail === '' ? '' : `: ${detail}`;
}

/** What went wrong with a job's last attempt, if anything, then why it waits (a FAILED job: when it is retried). */
export function jobDetail(j: JobView, reason = j.waitingReason): string {
  const error = j.status === 'COMPLETED' ? null : j.error;
  return [error, reason].filter((s): s is string => s !== null && s !== '').join('; ');
}

/**
 * A job's reason for waiting, the first time that reason is seen for its status (null otherwise):
 * jobs waiting for the same slots share one, whatever their place in line.
 */
export function newWaitingReason(seen: Set<string>, j: JobView): string | null {
  const reason = shownReason(j);
  if (reason === null) return null;
  const key = `${j.status} ${withoutAhead(reason)}`;
  if (seen.has(key)) return null;
  seen.add(key);
  return reason;
}
