/**
 * Durable steps (core/steps.ts): a running job records how each of its named steps ended, and a
 * later attempt of the same job in the same run gets a completed step's result back instead of
 * running it again. Records go straight to the store, outside the group committer: a step's
 * record is committed before the job hears of it, and no run state changes with it. The caller
 * is the attempt a job's token names (the session checked that it still runs).
 */
import { TitanError } from '../../core/errors.js';
import { type StepRecord, stepView, type StepView } from '../../core/steps.js';
import { type AttemptId, attemptName } from '../../protocol/methods.js';
import type { StepOutcome } from '../../protocol/step-methods.js';
import type { MasterResources } from './resources.js';

/** What a job reports of one step (step.record's parameters). */
export interface StepReport {
  name: string;
  attempt: number;
  status: StepRecord['status'];
  result?: string | undefined;
  error?: string | undefined;
  startedAt: number;
  finishedAt: number;
}

const outcome = (s: StepRecord): StepOutcome => ({ step: stepView(s), result: s.status === 'COMPLETED' ? s.result : null });

export class Steps {
  constructor(private readonly r: Pick<MasterResources, 'store'>) {}

  /** The step's record for the job of attempt `a`; a completed one notes that this attempt took its result. */
  async get(a: AttemptId, name: string): Promise<{ step: StepView | null; result: string | null }> {
    const stored = await this.r.store.stepGet(a.runId, a.jobId, name);
    if (stored === null) return { step: null, result: null };
    if (stored.status === 'COMPLETED' && stored.attempt !== a.attempt && (stored.cachedIn ?? 0) < a.attempt) {
      await this.r.store.stepCached(a.runId, a.jobId, name, a.attempt);
      return outcome({ ...stored, cachedIn: a.attempt });
    }
    return outcome(stored);
  }

  /** Records the step for the job of attempt `a`, durably; a step completed before keeps its record. */
  async record(a: AttemptId, report: StepReport): Promise<StepOutcome & { kept: boolean }> {
    if (report.attempt !== a.attempt) throw new TitanError('BAD_REQUEST', `step "${report.name}" reports attempt ${report.attempt}, but this token is attempt ${attemptName(a)}`);
    const step: StepRecord = {
      runId: a.runId,
      jobId: a.jobId,
      name: report.name,
      status: report.status,
      result: report.status === 'COMPLETED' ? (report.result ?? null) : null,
      error: report.status === 'FAILED' ? (report.error ?? null) : null,
      attempt: a.attempt,
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      cachedIn: null,
    };
    const stored = await this.r.store.stepRecord(step);
    const kept = stored.status === 'COMPLETED' && (stored.attempt !== step.attempt || stored.startedAt !== step.startedAt || stored.result !== step.result);
    return { ...outcome(stored), kept };
  }
}
