/**
 * Singleton and debounce: what a submission does given the unfinished runs, decided from their
 * flow settings (RunRecord.flow, kept by the store, so a restarted or new leader decides the
 * same). Pure: the unfinished runs and the time are arguments.
 *
 * - singleton: while an unfinished run holds the submission's singleton key, no run is created;
 *   the answer is that run.
 * - debounce: the new run starts nothing until its window (`waitMs` from now) has passed; every
 *   unfinished run of the same key whose window is still open is replaced (cancelled).
 */
import type { RunRecord, RunSpec } from './model.js';

export type SubmitDecision =
  | { kind: 'held'; key: string; heldBy: string }
  | { kind: 'create'; replaces: string[] };

/** What to do with a submission (its keys resolved) among the unfinished runs. */
export function decideSubmission(spec: Pick<RunSpec, 'singleton' | 'debounce'>, unfinished: Iterable<RunRecord>, now: number): SubmitDecision {
  if (spec.singleton === undefined && !spec.debounce) return { kind: 'create', replaces: [] };
  const open = [...unfinished].filter((r) => r.status === 'RUNNING');
  const debounce = spec.debounce;
  const replaces = debounce ? open.filter((r) => r.flow?.debounce?.key === debounce.key && r.flow.debounce.until > now).map((r) => r.runId) : [];
  // A run this submission replaces holds nothing against it; of the others, the oldest holder answers.
  const holder = open.filter((r) => r.flow?.singleton !== undefined && r.flow.singleton === spec.singleton && !replaces.includes(r.runId)).sort((a, b) => a.createdAt - b.createdAt)[0];
  if (holder && spec.singleton !== undefined) return { kind: 'held', key: spec.singleton, heldBy: holder.runId };
  return { kind: 'create', replaces };
}

/** The error of the jobs of a run replaced by a newer submission of its debounce key. */
export const replacedReason = (by: string, key: string): string => `replaced by run ${by} (debounce ${key})`;
