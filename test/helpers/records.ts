/** Job specs and records for unit tests: every field at its default unless a test says otherwise. */
import type { JobRecord, JobSpec } from '../../src/core/model.js';

export function jobSpec(id: string, extra: Partial<JobSpec> = {}): JobSpec {
  return {
    id,
    kind: 'run',
    script: { name: `${id}.sh`, sha256: 'ab'.repeat(32) },
    args: [],
    dependsOn: [],
    requirement: 'GENERAL',
    priority: 1,
    delayMs: 0,
    retries: 3,
    affinity: 'none',
    env: {},
    ...extra,
  };
}

/** A freshly created job of `runId` (PENDING, no attempt yet). */
export function jobRecord(runId: string, spec: JobSpec, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    runId,
    spec,
    status: 'PENDING',
    attempt: 0,
    notBefore: null,
    workerId: null,
    exitCode: null,
    error: null,
    createdAt: 0,
    queuedAt: null,
    startedAt: null,
    finishedAt: null,
    service: null,
    retryBase: 0,
    lost: 0,
    ...extra,
  };
}
