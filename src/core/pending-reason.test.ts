import { describe, expect, it } from 'vitest';
import { jobRecord, jobSpec } from '../../test/helpers/records.js';
import type { JobRecord, JobSpec } from './model.js';
import { pendingReason } from './pending-reason.js';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const AT = Date.UTC(2026, 11, 7, 12, 0, 3);
const gateSpec = (id: string, extra: Partial<JobSpec> = {}): JobSpec => ({ ...jobSpec(id, { kind: 'approval', ...extra }), script: undefined });
const job = (id: string, o: Partial<JobRecord> = {}, spec: Partial<JobSpec> = {}): JobRecord => jobRecord('r1', jobSpec(id, spec), o);
const family = (...jobs: JobRecord[]) => (id: string): JobRecord | undefined => jobs.find((j) => j.spec.id === id);
const none = (): undefined => undefined;

describe('pendingReason', () => {
  it('says until when a delayed job waits', () => {
    expect(pendingReason(job('later', { notBefore: AT }), none, NOW)).toBe('delayed until 12:00:03 UTC');
    expect(pendingReason(job('later', { notBefore: Date.UTC(2026, 11, 9, 8, 0, 0) }), none, NOW)).toBe('delayed until 2026-12-09 08:00:00 UTC');
  });

  it('says when a debounce window holds a job, and counts a delay of its own from the window', () => {
    const flow = { debounce: { key: 'deploy-main', waitMs: 3_000, until: AT } };
    expect(pendingReason(job('build', { notBefore: AT }), none, NOW, flow)).toBe('held by the debounce window of key deploy-main until 12:00:03 UTC (a newer submission of the key replaces this run)');
    expect(pendingReason(job('later', { notBefore: AT + 60_000 }, { delayMs: 60_000 }), none, NOW, flow)).toBe('delayed until 12:01:03 UTC, counted from the end of the debounce window of key deploy-main');
  });

  it('says when a failed job retries and which attempt that will be, counting from its retry budget', () => {
    expect(pendingReason(job('flaky', { status: 'FAILED', attempt: 1, notBefore: AT }), none, NOW)).toBe('retrying after backoff at 12:00:03 UTC, attempt 2 of 4');
    expect(pendingReason(job('flaky', { status: 'FAILED', attempt: 3, notBefore: AT }, { retries: 5 }), none, NOW)).toBe('retrying after backoff at 12:00:03 UTC, attempt 4 of 6');
    // Retried by a person after 4 attempts, one of them lost since: the budget counts from there.
    expect(pendingReason(job('flaky', { status: 'FAILED', attempt: 7, retryBase: 4, lost: 1, notBefore: AT }), none, NOW)).toBe('retrying after backoff at 12:00:03 UTC, attempt 3 of 4');
  });

  it('says when a service restarts', () => {
    const service = { pid: null, port: null, readyAt: null, released: true, restarts: 2, crashes: 1 };
    expect(pendingReason(job('web', { status: 'FAILED', attempt: 2, notBefore: AT, service }, { kind: 'service' }), none, NOW)).toBe('restarting at 12:00:03 UTC (restart 2)');
    expect(pendingReason(job('web', { status: 'PENDING', attempt: 2, notBefore: AT, service }, { kind: 'service' }), none, NOW)).toBe('restarting at 12:00:03 UTC (restart 2)');
  });

  it('names the parent gate a job waits for, and whether the gate awaits a decision', () => {
    const gate = jobRecord('r1', gateSpec('approve-deploy'), { status: 'WAITING_APPROVAL', startedAt: NOW });
    const deploy = job('deploy', {}, { dependsOn: ['approve-deploy'] });
    expect(pendingReason(deploy, family(gate), NOW)).toBe('waits for its parent gate approve-deploy (awaiting a decision)');
    expect(pendingReason(deploy, family({ ...gate, status: 'PENDING', startedAt: null }), NOW)).toBe('waits for its parent gate approve-deploy (PENDING)');
  });

  it('names the first few parents it waits for and counts the rest', () => {
    const parents = [
      job('build', { status: 'RUNNING' }),
      job('test', { status: 'QUEUED' }),
      job('lint', { status: 'COMPLETED' }),
      job('fetch', { status: 'FAILED', notBefore: AT }),
      job('db', { status: 'RUNNING', service: { pid: 1, port: 5432, readyAt: null, released: false, restarts: 0, crashes: 0 } }, { kind: 'service' }),
      job('seed', { notBefore: AT }),
    ];
    const child = (...ids: string[]): JobRecord => job('ship', {}, { dependsOn: ids });
    expect(pendingReason(child('build', 'test', 'lint'), family(...parents), NOW)).toBe('waits for 2 parents: build (RUNNING), test (QUEUED)');
    expect(pendingReason(child('build', 'test', 'fetch', 'db', 'seed'), family(...parents), NOW)).toBe('waits for 5 parents: build (RUNNING), test (QUEUED), fetch (retrying) and 2 more');
    expect(pendingReason(child('db'), family(...parents), NOW)).toBe('waits for its parent db (starting)');
    expect(pendingReason(child('seed', 'seed'), family(...parents), NOW)).toBe('waits for its parent seed (delayed)');
    const gate = jobRecord('r1', gateSpec('approve'), { status: 'WAITING_APPROVAL', startedAt: NOW });
    expect(pendingReason(child('build', 'approve'), family(gate, ...parents), NOW)).toBe('waits for 2 parents: build (RUNNING), approve (gate, awaiting a decision)');
    // A service that is up releases its children; a parent already done holds nothing back.
    expect(pendingReason(child('lint'), family(...parents), NOW)).toBeNull();
  });

  it('says an open gate awaits a decision, and until when', () => {
    const gate = jobRecord('r1', gateSpec('approve', { timeoutMs: 3_000 }), { status: 'WAITING_APPROVAL', startedAt: NOW });
    expect(pendingReason(gate, none, NOW)).toBe('awaiting a decision; times out at 12:00:03 UTC');
    expect(pendingReason(jobRecord('r1', gateSpec('approve'), { status: 'WAITING_APPROVAL', startedAt: NOW }), none, NOW)).toBe('awaiting a decision');
  });

  it('is null for queued, running and finished jobs', () => {
    for (const status of ['QUEUED', 'RUNNING', 'COMPLETED', 'DEAD', 'CANCELLED', 'SKIPPED'] as const) expect(pendingReason(job('x', { status }), none, NOW)).toBeNull();
  });
});
