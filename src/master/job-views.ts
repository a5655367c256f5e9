/**
 * Jobs as clients see them: the record, its reference and, for a job that is ready (or nearly)
 * but not running, why it waits. The reason is computed when a view is built, from the workers,
 * the queue and the run as they are then; it is never stored and never computed while
 * dispatching. Dispatch runs before a commit's views are built, so a job still QUEUED by then
 * really waits.
 */
import type { JobRecord } from '../core/model.js';
import { jobRef } from '../core/model.js';
import { pendingReason } from '../core/pending-reason.js';
import { affinityTarget, type RunState } from '../core/run-state.js';
import { placementWait, type Waiting, withAhead } from '../core/waiting-reason.js';
import type { JobView } from '../protocol/methods.js';
import type { WorkerEntry } from './workers.js';

/**
 * How many jobs of one run view get their place in line counted: each count walks the job's lane,
 * so a view of a huge run counts for the jobs nearest the front (a view lists jobs in submission
 * order) and says only that the slots are busy for the rest.
 */
export const AHEAD_COUNTS_PER_VIEW = 25;

export interface JobViewSources {
  runs: { get(runId: string): RunState | undefined };
  workers: ReadonlyMap<string, WorkerEntry>;
  servicesOn: (w: WorkerEntry) => readonly { port: number | null }[];
  /** Why a queued job waits for a flow-control key, if it does. */
  heldBack: (job: JobRecord) => string | null;
  /** About how many jobs of its lane will be offered a slot before this one (null: not in line). */
  ahead: (ref: string) => number | null;
  now: () => number;
}

export class JobViews {
  constructor(private readonly s: JobViewSources) {}

  /**
   * A builder for one batch of views (a commit's changes, a whole run): jobs waiting in one lane
   * share one placement reason. The first `aheadCounts` jobs waiting only for a busy slot also
   * say how many jobs are ahead of them; a commit's changes count none (that would be work done
   * on every dispatch).
   */
  batch(aheadCounts = 0): (job: JobRecord) => JobView {
    const byLane = new Map<string, Waiting | null>();
    let counts = aheadCounts;
    const now = this.s.now();
    return (job) => {
      const ref = jobRef(job.runId, job.spec.id);
      if (job.status !== 'QUEUED') {
        const state = this.s.runs.get(job.runId);
        return { ...job, ref, waitingReason: pendingReason(job, (id) => state?.jobs.get(id), now, state?.run.flow) };
      }
      const held = this.s.heldBack(job);
      if (held !== null) return { ...job, ref, waitingReason: held };
      const wait = this.placementWait(job, byLane);
      if (wait === null) return { ...job, ref, waitingReason: null };
      if (!wait.slotsBusy || counts <= 0) return { ...job, ref, waitingReason: wait.text };
      counts--;
      return { ...job, ref, waitingReason: withAhead(wait, this.s.ahead(ref)) };
    };
  }

  /** One job's view, with its place in line when it waits for a slot. */
  one(job: JobRecord): JobView {
    return this.batch(1)(job);
  }

  private placementWait(job: JobRecord, byLane: Map<string, Waiting | null>): Waiting | null {
    const state = this.s.runs.get(job.runId);
    const placement = { requirement: job.spec.requirement, affinity: job.spec.affinity, preferredWorker: state ? affinityTarget(state, job) : null };
    const port = job.spec.service?.port;
    if (port !== undefined) return placementWait(placement, this.s.workers.values(), { port, takenOn: this.holding(port) });
    // Soft affinity places anywhere when its worker is full, so only a required target makes a lane.
    const lane = `${placement.requirement}\0${placement.affinity === 'required' ? (placement.preferredWorker ?? '') : ''}`;
    let wait = byLane.get(lane);
    if (wait === undefined) {
      wait = placementWait(placement, this.s.workers.values());
      byLane.set(lane, wait);
    }
    return wait;
  }

  /** The workers where a service holds this port. */
  private holding(port: number): Set<string> {
    const ids = new Set<string>();
    for (const w of this.s.workers.values()) if (this.s.servicesOn(w).some((s) => s.port === port)) ids.add(w.id);
    return ids;
  }
}
