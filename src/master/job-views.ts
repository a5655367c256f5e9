/**
 * Jobs as clients see them: the record, its reference and, for a QUEUED job, why no worker takes
 * it. The reason is computed when a view is built, from the workers as they are then; it is never
 * stored and never computed while dispatching. Dispatch runs before a commit's views are built, so
 * a job still QUEUED by then really waits.
 */
import type { JobRecord } from '../core/model.js';
import { jobRef } from '../core/model.js';
import { affinityTarget, type RunState } from '../core/run-state.js';
import { waitingReason } from '../core/waiting-reason.js';
import type { JobView } from '../protocol/methods.js';
import type { WorkerEntry } from './workers.js';

export class JobViews {
  constructor(
    private readonly runs: { get(runId: string): RunState | undefined },
    private readonly workers: ReadonlyMap<string, WorkerEntry>,
    private readonly servicesOn: (w: WorkerEntry) => readonly { port: number | null }[],
    /** Why a queued job waits for a flow-control key, if it does. */
    private readonly heldBack: (job: JobRecord) => string | null,
  ) {}

  /** A builder for one batch of views (a commit's changes, a whole run): jobs waiting in one lane share one reason. */
  batch(): (job: JobRecord) => JobView {
    const byLane = new Map<string, string | null>();
    return (job) => {
      const ref = jobRef(job.runId, job.spec.id);
      if (job.status !== 'QUEUED') return { ...job, ref, waitingReason: null };
      const held = this.heldBack(job);
      if (held !== null) return { ...job, ref, waitingReason: held };
      const state = this.runs.get(job.runId);
      const placement = { requirement: job.spec.requirement, affinity: job.spec.affinity, preferredWorker: state ? affinityTarget(state, job) : null };
      const port = job.spec.service?.port;
      if (port !== undefined) return { ...job, ref, waitingReason: waitingReason(placement, this.workers.values(), { port, takenOn: this.holding(port) }) };
      // Soft affinity places anywhere when its worker is full, so only a required target makes a lane.
      const lane = `${placement.requirement}\0${placement.affinity === 'required' ? (placement.preferredWorker ?? '') : ''}`;
      let reason = byLane.get(lane);
      if (reason === undefined) {
        reason = waitingReason(placement, this.workers.values());
        byLane.set(lane, reason);
      }
      return { ...job, ref, waitingReason: reason };
    };
  }

  one(job: JobRecord): JobView {
    return this.batch()(job);
  }

  /** The workers where a service holds this port. */
  private holding(port: number): Set<string> {
    const ids = new Set<string>();
    for (const w of this.workers.values()) if (this.servicesOn(w).some((s) => s.port === port)) ids.add(w.id);
    return ids;
  }
}
