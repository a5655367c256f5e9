/**
 * Fills in the flow-control keys of a submission (flow-keys.ts) from the run's values, once, so
 * that the master keeps and compares plain keys. A key that cannot be filled is an error naming
 * the job and the field.
 */
import { resolveFlowKey, type FlowKeySource } from './flow-keys.js';
import type { RunFlow } from './flow-spec.js';
import type { JobSpec, RunRecord, RunSpec } from './model.js';

export type Resolved<T> = { value: T; errors: [] } | { value: null; errors: string[] };

type RunValues = Omit<FlowKeySource, 'jobId' | 'args' | 'env'>;

/** The run's values as a key template sees them. */
export function runValues(runId: string, run: Pick<RunSpec, 'name' | 'tags'> & { agentRunId?: string | null }): RunValues {
  return { runId, name: run.name, agentRunId: run.agentRunId ?? null, tags: run.tags };
}

/** The submission with its keys filled in: the run's fairness group and its jobs' keys. */
export function resolveRunFlow(runId: string, spec: RunSpec): Resolved<RunSpec> {
  const values = runValues(runId, spec);
  const errors: string[] = [];
  const fill = (field: string, template: string): string => {
    const r = resolveFlowKey(template, values);
    if ('error' in r) errors.push(`${field}: ${r.error}`);
    return 'key' in r ? r.key : template;
  };
  const fairness = spec.fairness && { ...spec.fairness, key: fill('fairness', spec.fairness.key) };
  const singleton = spec.singleton === undefined ? undefined : fill('singleton', spec.singleton);
  const debounce = spec.debounce && { ...spec.debounce, key: fill('debounce', spec.debounce.key) };
  const jobs = resolveJobKeys(values, spec.jobs, errors);
  if (errors.length > 0) return { value: null, errors };
  return { value: { ...spec, ...(fairness && { fairness }), ...(singleton !== undefined && { singleton }), ...(debounce && { debounce }), jobs }, errors: [] };
}

/** What a run created at `now` keeps of its own flow settings: its debounce window starts then. */
export function runFlowOf(spec: Pick<RunSpec, 'fairness' | 'singleton' | 'debounce'>, now: number): RunFlow | undefined {
  const flow: RunFlow = {
    ...(spec.fairness && { fairness: spec.fairness }),
    ...(spec.singleton !== undefined && { singleton: spec.singleton }),
    ...(spec.debounce && { debounce: { ...spec.debounce, until: now + spec.debounce.waitMs } }),
  };
  return Object.keys(flow).length > 0 ? flow : undefined;
}

/** Jobs added to a live run: their keys are filled from that run's values. */
export function resolveAddedJobs(run: RunRecord, jobs: readonly JobSpec[]): Resolved<JobSpec[]> {
  const errors: string[] = [];
  const out = resolveJobKeys(runValues(run.runId, run), jobs, errors);
  return errors.length > 0 ? { value: null, errors } : { value: out, errors: [] };
}

function resolveJobKeys(values: RunValues, jobs: readonly JobSpec[], errors: string[]): JobSpec[] {
  return jobs.map((job) => {
    // Most keys are plain: such a job is kept as it is, without a copy.
    if (!hasPlaceholder(job.concurrency?.key) && !hasPlaceholder(job.rateLimit?.key)) return job;
    const src: FlowKeySource = { ...values, jobId: job.id, args: job.args, env: job.env };
    const fill = <T extends { key: string }>(field: string, declared: T | undefined): T | undefined => {
      if (!declared) return undefined;
      const r = resolveFlowKey(declared.key, src);
      if ('error' in r) errors.push(`job ${job.id}: ${field} ${r.error}`);
      return 'key' in r ? { ...declared, key: r.key } : declared;
    };
    const concurrency = fill('concurrency', job.concurrency);
    const rateLimit = fill('rateLimit', job.rateLimit);
    return { ...job, ...(concurrency && { concurrency }), ...(rateLimit && { rateLimit }) };
  });
}

const hasPlaceholder = (key: string | undefined): boolean => key !== undefined && key.includes('{');
