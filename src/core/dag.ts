/** Structural validation of a run's job graph: its size, duplicate ids, unknown parents, cycles. */
import { type JobSpec, LIMITS } from './model.js';

export interface DagProblem {
  code: 'DUPLICATE_ID' | 'UNKNOWN_PARENT' | 'SELF_DEPENDENCY' | 'CYCLE' | 'TOO_MANY_JOBS';
  message: string;
}

/**
 * Returns every problem found, each naming the jobs involved. `existing` holds ids already in the
 * run (for extensions), which new jobs may depend on.
 */
export function validateDag(jobs: readonly Pick<JobSpec, 'id' | 'dependsOn'>[], existing: ReadonlySet<string> = new Set()): DagProblem[] {
  const problems: DagProblem[] = [];
  // Jobs added at runtime count with those already there: extending a run many times cannot grow it past the cap.
  const total = existing.size + jobs.length;
  if (total > LIMITS.maxJobsPerRun) return [{ code: 'TOO_MANY_JOBS', message: `the run would hold ${total} jobs; a run holds at most ${LIMITS.maxJobsPerRun}` }];
  const ids = new Set<string>();
  for (const job of jobs) {
    if (ids.has(job.id) || existing.has(job.id)) {
      problems.push({ code: 'DUPLICATE_ID', message: `job id "${job.id}" is used more than once` });
    }
    ids.add(job.id);
  }
  for (const job of jobs) {
    for (const parent of job.dependsOn) {
      if (parent === job.id) problems.push({ code: 'SELF_DEPENDENCY', message: `job "${job.id}" depends on itself` });
      else if (!ids.has(parent) && !existing.has(parent)) {
        problems.push({ code: 'UNKNOWN_PARENT', message: `job "${job.id}" depends on "${parent}", which is not a job of this run` });
      }
    }
  }
  if (problems.length > 0) return problems;
  const cycle = findCycle(jobs);
  if (cycle) problems.push({ code: 'CYCLE', message: `the jobs form a cycle: ${cycle.join(' -> ')}` });
  return problems;
}

/** Kahn's algorithm over the new jobs (existing parents are already complete or scheduled); returns one cycle if any. */
function findCycle(jobs: readonly Pick<JobSpec, 'id' | 'dependsOn'>[]): string[] | null {
  const local = new Map(jobs.map((j) => [j.id, j.dependsOn.filter((p) => p !== j.id)]));
  const indegree = new Map<string, number>();
  const children = new Map<string, string[]>();
  for (const [id, parents] of local) {
    const inRun = parents.filter((p) => local.has(p));
    indegree.set(id, inRun.length);
    for (const p of inRun) {
      const list = children.get(p);
      if (list) list.push(id);
      else children.set(p, [id]);
    }
  }
  const ready = [...indegree].filter(([, d]) => d === 0).map(([id]) => id);
  let visited = 0;
  while (ready.length > 0) {
    const id = ready.pop() as string;
    visited++;
    for (const child of children.get(id) ?? []) {
      const d = (indegree.get(child) ?? 0) - 1;
      indegree.set(child, d);
      if (d === 0) ready.push(child);
    }
  }
  if (visited === local.size) return null;
  // Walk parent links among the unvisited nodes until one repeats: that loop is a cycle.
  const remaining = new Set([...indegree].filter(([, d]) => d > 0).map(([id]) => id));
  let node = remaining.values().next().value as string;
  const seen = new Map<string, number>();
  const path: string[] = [];
  while (!seen.has(node)) {
    seen.set(node, path.length);
    path.push(node);
    node = (local.get(node) ?? []).find((p) => remaining.has(p)) as string;
  }
  const loop = path.slice(seen.get(node));
  return [...loop.reverse(), loop[0] as string];
}
