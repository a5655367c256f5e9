/**
 * The rounds of an agent run's stage: the jobs it was submitted with, then each set of jobs added
 * at runtime in one call (same time, same adding job), oldest first. Pure, so it is unit-tested.
 */
import type { JobStatus } from '../../api.ts';

export interface RoundJob {
  spec: { id: string };
  status: JobStatus;
  createdAt: number;
  addedBy?: string;
}

export interface Round {
  /** 0 for the jobs the stage was submitted with. */
  index: number;
  at: number;
  /** The job whose own token added this round; null when submitted, or added from outside the run. */
  addedBy: string | null;
  jobs: { id: string; status: JobStatus }[];
}

export function roundsOf(runCreatedAt: number, jobs: readonly RoundJob[]): Round[] {
  const byCall = new Map<string, Omit<Round, 'index'>>();
  for (const j of jobs) {
    const submitted = j.addedBy === undefined && j.createdAt <= runCreatedAt;
    const key = submitted ? '' : `${j.createdAt}\n${j.addedBy ?? ''}`;
    let round = byCall.get(key);
    if (round === undefined) {
      round = { at: submitted ? runCreatedAt : j.createdAt, addedBy: j.addedBy ?? null, jobs: [] };
      byCall.set(key, round);
    }
    round.jobs.push({ id: j.spec.id, status: j.status });
  }
  return [...byCall.values()].sort((a, b) => a.at - b.at).map((r, index) => ({ index, ...r }));
}
