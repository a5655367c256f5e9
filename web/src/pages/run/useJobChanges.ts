/**
 * Job changes from the event stream, merged into the run a few times a second rather than one
 * event at a time: a busy run sends an event per commit (thousands a minute), and merging each
 * into thousands of jobs, then drawing the page, kept the main thread from panning the graph.
 */
import { useCallback, useEffect, useRef } from 'react';
import type { JobView, RunView } from '../../api.ts';

/** How long changes gather before they are merged. */
export const MERGE_EVERY_MS = 100;

/** The run with `changed` merged in: changed jobs replaced in place, new ones appended (the graph grows). */
export function mergeJobs(run: RunView, changed: ReadonlyMap<string, JobView>): RunView {
  const jobs = run.jobs.map((j) => changed.get(j.spec.id) ?? j);
  const known = new Set(run.jobs.map((j) => j.spec.id));
  for (const [id, j] of changed) if (!known.has(id)) jobs.push(j);
  return { ...run, jobs };
}

/** `add(jobs)` gathers changes; `apply` gets them merged in at most every MERGE_EVERY_MS (the latest version of each job). */
export function useJobChanges(apply: (merge: (run: RunView) => RunView) => void): (jobs: readonly JobView[]) => void {
  const pending = useRef(new Map<string, JobView>());
  const timer = useRef<number | undefined>(undefined);
  const applyRef = useRef(apply);
  applyRef.current = apply;
  useEffect(
    () => () => {
      window.clearTimeout(timer.current);
      timer.current = undefined;
      pending.current.clear();
    },
    [],
  );
  return useCallback((jobs: readonly JobView[]) => {
    for (const j of jobs) pending.current.set(j.spec.id, j);
    if (timer.current !== undefined) return;
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      const changed = pending.current;
      pending.current = new Map();
      applyRef.current((run) => mergeJobs(run, changed));
    }, MERGE_EVERY_MS);
  }, []);
}
