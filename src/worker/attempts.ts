/**
 * The attempts a worker holds, from their dispatch (while their code is staged) until they end.
 * One per job: a newer attempt of a job supersedes the older one. An attempt this side ends
 * unfinished to give it back (see stop-policy.ts) is reported LOST, to run again elsewhere.
 */
import type { AttemptId, FinishedAttempt, ServiceReport } from '../protocol/methods.js';
import { AttemptOutput } from './attempt-output.js';
import type { RunningAttempt } from './executor.js';
import type { PruneArea } from './work-dir-pruner.js';

export interface Attempt {
  id: AttemptId;
  key: string;
  /** The cached script or archive it runs from (kept from the pruner while it runs). */
  sha256: string | null;
  running: RunningAttempt | null;
  output: AttemptOutput;
  /** Set when this side ends the attempt; `lost`: it is reported LOST, to run again without spending a retry. */
  ended: { reason: string; lost: boolean } | null;
  /** What the master has been told about a service attempt, told again after a reconnect. */
  service: ServiceReport | null;
}

/** What is reported of an ended attempt besides its id. */
export type AttemptResult = Omit<FinishedAttempt, keyof AttemptId>;

/** Just the id of something that names an attempt (a dispatch, a result): what goes on the wire as one. */
export const attemptIdOf = (a: AttemptId): AttemptId => ({ runId: a.runId, jobId: a.jobId, attempt: a.attempt });

/** Ends an attempt from this side: kills its process, or keeps it from starting if it has none yet. */
export function endAttempt(a: Attempt, reason: string, lost: boolean): void {
  a.ended ??= { reason, lost };
  a.running?.kill(reason);
}

/** Given back unfinished, an attempt is LOST: it runs again elsewhere without spending a retry. One that completed all the same stands. */
export function asReported(attempt: Pick<Attempt, 'ended'>, result: AttemptResult): AttemptResult {
  if (attempt.ended?.lost !== true || result.outcome === 'COMPLETED') return result;
  return { outcome: 'LOST', exitCode: result.exitCode, error: attempt.ended.reason, errorCode: null };
}

export class Attempts {
  private readonly byJob = new Map<string, Attempt>();
  private idleWaiters: (() => void)[] = [];

  get size(): number {
    return this.byJob.size;
  }

  values(): IterableIterator<Attempt> {
    return this.byJob.values();
  }

  /** Holds a newly dispatched attempt; an older attempt of the same job still held is ended. */
  hold(id: AttemptId, sha256: string | null): Attempt {
    const key = `${id.runId}/${id.jobId}`;
    const attempt: Attempt = { id, key, sha256, running: null, output: new AttemptOutput(id), ended: null, service: null };
    const older = this.byJob.get(key);
    if (older) endAttempt(older, 'superseded by a newer attempt', false);
    this.byJob.set(key, attempt);
    return attempt;
  }

  /** The attempt held with this very number: a newer attempt of the same job is not it. */
  find(id: AttemptId): Attempt | undefined {
    const held = this.byJob.get(`${id.runId}/${id.jobId}`);
    return held?.id.attempt === id.attempt ? held : undefined;
  }

  /** Lets go of an ended attempt (not of a newer one of its job); the last one let go wakes idle(). */
  release(attempt: Attempt): void {
    if (this.byJob.get(attempt.key) === attempt) this.byJob.delete(attempt.key);
    if (this.byJob.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves once no attempt is held. */
  idle(): Promise<void> {
    return this.byJob.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  endAll(reason: string, lost: boolean): void {
    for (const a of this.byJob.values()) endAttempt(a, reason, lost);
  }

  ids(): AttemptId[] {
    return [...this.byJob.values()].map((a) => a.id);
  }

  /** The ports of the service attempts held. */
  servicePorts(): Set<number> {
    const taken = new Set<number>();
    for (const a of this.byJob.values()) if (a.service) taken.add(a.service.port);
    return taken;
  }

  /** Whether an attempt held uses this run folder or cache entry (see work-dir-pruner.ts). */
  isBusy(area: PruneArea, name: string): boolean {
    return [...this.byJob.values()].some((a) => (area === 'runs' ? a.id.runId === name : a.sha256 === name));
  }
}
