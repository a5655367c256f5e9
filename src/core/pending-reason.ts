/**
 * Why a job that is not queued yet is not running either, as a short sentence for people: its
 * delay, a retry's backoff, a service's restart, an open gate, or the parents it waits for. Pure,
 * computed only when someone looks at the job. Queued jobs have their reasons in waiting-reason.ts.
 */
import { gateDeadline } from './job-deadlines.js';
import type { RunFlow } from './flow-spec.js';
import type { JobRecord } from './model.js';
import { isTerminal } from './model.js';
import { releases } from './run-state.js';
import { utcTime } from './time-text.js';

/** Parents named in a reason; the rest are counted. */
const NAMED_PARENTS = 3;

/** The reason, or null for a job that is queued, running, finished, or waits for nothing. */
export function pendingReason(job: JobRecord, parentOf: (id: string) => JobRecord | undefined, now: number, runFlow?: RunFlow): string | null {
  if (job.status === 'WAITING_APPROVAL') {
    const deadline = gateDeadline(job);
    return deadline === null ? 'awaiting a decision' : `awaiting a decision; times out at ${utcTime(deadline, now)}`;
  }
  if (job.status !== 'PENDING' && job.status !== 'FAILED') return null;
  if (job.notBefore !== null) {
    const at = utcTime(job.notBefore, now);
    if (job.service !== null && job.service.restarts > 0) return `restarting at ${at} (restart ${job.service.restarts})`;
    if (job.status === 'FAILED') return `retrying after backoff at ${at}, attempt ${job.attempt + 1 - job.retryBase - job.lost} of ${job.spec.retries + 1}`;
    const debounce = runFlow?.debounce;
    if (debounce && job.notBefore === debounce.until + job.spec.delayMs) {
      if (job.spec.delayMs > 0) return `delayed until ${at}, counted from the end of the debounce window of key ${debounce.key}`;
      return `held by the debounce window of key ${debounce.key} until ${at} (a newer submission of the key replaces this run)`;
    }
    return `delayed until ${at}`;
  }
  return job.status === 'PENDING' ? parentsReason(job, parentOf) : null;
}

function parentsReason(job: JobRecord, parentOf: (id: string) => JobRecord | undefined): string | null {
  const waiting: JobRecord[] = [];
  for (const id of new Set(job.spec.dependsOn)) {
    const parent = parentOf(id);
    if (parent && !releases(parent) && !isTerminal(parent.status)) waiting.push(parent);
  }
  const [only] = waiting;
  if (only === undefined) return null;
  if (waiting.length === 1) return `waits for its parent ${only.spec.kind === 'approval' ? 'gate ' : ''}${only.spec.id} (${stateOf(only)})`;
  const named = waiting.slice(0, NAMED_PARENTS).map((p) => `${p.spec.id} (${p.spec.kind === 'approval' ? 'gate, ' : ''}${stateOf(p)})`);
  const more = waiting.length - named.length;
  return `waits for ${waiting.length} parents: ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** A parent's state as a word or two: what it is doing rather than its status name, when that says more. */
function stateOf(parent: JobRecord): string {
  if (parent.status === 'WAITING_APPROVAL') return 'awaiting a decision';
  if (parent.status === 'FAILED') return 'retrying';
  if (parent.status === 'PENDING' && parent.notBefore !== null) return 'delayed';
  if (parent.spec.kind === 'service' && parent.status === 'RUNNING') return 'starting';
  return parent.status;
}
