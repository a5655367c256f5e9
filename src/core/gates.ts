/**
 * Titan's gate injection: a job with an approval message gets a gate right after it, and the
 * jobs that depended on it depend on the gate instead, so they run only once someone approves.
 */
export interface GatedJob {
  id: string;
  dependsOn?: string[];
}

export const gateIdFor = (jobId: string): string => `hitl-gate-${jobId}`;

/**
 * Returns the jobs with a gate inserted after each job for which `gateOf` returns one. The gate
 * takes the place of its job in every other job's parents.
 */
export function injectGates<J extends GatedJob, G extends GatedJob>(jobs: readonly J[], gateOf: (job: J) => G | null): (J | (G & { dependsOn: string[] }))[] {
  const gates = new Map<string, G>();
  for (const job of jobs) {
    const gate = gateOf(job);
    if (gate) gates.set(job.id, gate);
  }
  if (gates.size === 0) return [...jobs];
  const out: (J | (G & { dependsOn: string[] }))[] = [];
  for (const job of jobs) {
    const rewired = (job.dependsOn ?? []).map((p) => gates.get(p)?.id ?? p);
    out.push({ ...job, dependsOn: rewired });
    const gate = gates.get(job.id);
    if (gate) out.push({ ...gate, dependsOn: [job.id] });
  }
  return out;
}
