/**
 * What a watch or a log follow does when its subscription is opened again on a new connection
 * (see RESUMED): the master sends its state afresh, and only what changed is passed on, so a
 * watcher sees each change once across a master restart or a failover.
 */
import type { RunRecord } from '../core/model.js';
import type { JobView, RunView } from '../protocol/methods.js';

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The jobs of a fresh snapshot that differ from those known (new ones included), and the run if it changed. */
export function snapshotChanges(known: ReadonlyMap<string, JobView>, run: RunRecord, snapshot: RunView): { jobs: JobView[]; run: RunRecord | null } {
  const jobs = snapshot.jobs.filter((j) => !same(known.get(j.spec.id), j));
  return { jobs, run: same(run, snapshot.run) ? null : snapshot.run };
}

/**
 * The output of a followed job, without what a re-opened follow sends again: the master starts a
 * follow with what the current attempt has written so far, so after a resume that text is
 * skipped as long as it matches what was already passed on. Where it differs (a master that
 * does not have the same output), the rest is passed on: a repeat rather than a loss.
 */
export class LogReplay {
  private attempt = 0;
  private text = '';
  /** While a resumed follow re-sends the current attempt's output: how much of it has matched. */
  private replayAt: number | null = null;

  resumed(): void {
    this.replayAt = this.text === '' ? null : 0;
  }

  /** The part of this chunk not seen before ('' for none). */
  fresh(attempt: number, data: string): string {
    let out = data;
    if (this.replayAt !== null && attempt === this.attempt) {
      let n = 0;
      const at = this.replayAt;
      while (n < data.length && at + n < this.text.length && data[n] === this.text[at + n]) n++;
      this.replayAt = n < data.length || at + n >= this.text.length ? null : at + n;
      out = data.slice(n);
    } else this.replayAt = null;
    if (out === '') return out;
    if (attempt !== this.attempt) {
      this.attempt = attempt;
      this.text = '';
    }
    this.text += out;
    return out;
  }
}
