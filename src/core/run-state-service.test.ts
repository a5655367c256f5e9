import { describe, expect, it } from 'vitest';
import { jobSpec } from '../../test/helpers/records.js';
import type { JobRecord, JobSpec, ServiceSpec } from './model.js';
import { finishAttempt, startAttempt, timerDue } from './attempt-transitions.js';
import type { Effect, RunState } from './run-state.js';
import { createRun, restoreRun } from './run-transitions.js';
import { SERVICE_STABLE_MS, serviceReported, stopService } from './service-transitions.js';

const service = (id: string, svc: Partial<ServiceSpec> = {}, extra: Partial<JobSpec> = {}): JobSpec =>
  jobSpec(id, { kind: 'service', service: { readiness: 'tcp', readyTimeoutMs: 60_000, restart: 'always', crashLoopLimit: 3, ...svc }, ...extra });

function job(state: RunState, id: string): JobRecord {
  const j = state.jobs.get(id);
  if (!j) throw new Error(`no job ${id}`);
  return j;
}

const kinds = (effects: readonly Effect[], type: Effect['type']): string[] =>
  effects.filter((e) => e.type === type).map((e) => ('job' in e ? e.job.spec.id : ''));

const CRASH = { outcome: 'FAILED', exitCode: 1, error: 'exit code 1' } as const;

/** Starts the service's next attempt at `at` and reports it started and ready. */
function up(state: RunState, id: string, at: number): Effect[] {
  startAttempt(state, id, 'w1', at);
  const n = job(state, id).attempt;
  serviceReported(state, id, n, { phase: 'started', pid: 100 + n, port: 20_000 }, at);
  return serviceReported(state, id, n, { phase: 'ready', pid: 100 + n, port: 20_000 }, at);
}

/** Lets a restart timer fire and requeues the service. */
function requeue(state: RunState, id: string): void {
  const at = job(state, id).notBefore;
  if (at === null) throw new Error(`${id} has no restart pending`);
  timerDue(state, id, at, 0.5);
  expect(job(state, id).status).toBe('QUEUED');
}

describe('services in the run state machine', () => {
  it('records port and pid, and releases dependents at the first readiness only', () => {
    const { state } = createRun('r1', { name: 'svc', jobs: [service('api'), jobSpec('client', { dependsOn: ['api'] })] }, 0);
    startAttempt(state, 'api', 'w1', 10);
    const started = serviceReported(state, 'api', 1, { phase: 'started', pid: 42, port: 20_001 }, 11);
    expect(kinds(started, 'enqueue')).toEqual([]);
    expect(job(state, 'api').service).toMatchObject({ pid: 42, port: 20_001, readyAt: null, released: false });
    const ready = serviceReported(state, 'api', 1, { phase: 'ready', pid: 42, port: 20_001 }, 12);
    expect(kinds(ready, 'enqueue')).toEqual(['client']);
    expect(job(state, 'api')).toMatchObject({ status: 'RUNNING', service: { readyAt: 12, released: true } });
    expect(serviceReported(state, 'api', 1, { phase: 'ready', pid: 42, port: 20_001 }, 13).filter((e) => e.type === 'enqueue')).toEqual([]);
  });

  it('ignores reports from a stale attempt', () => {
    const { state } = createRun('r1', { name: 'svc', jobs: [service('api')] }, 0);
    startAttempt(state, 'api', 'w1', 10);
    expect(serviceReported(state, 'api', 2, { phase: 'ready', pid: 1, port: 1 }, 11)).toEqual([]);
  });

  it('restarts a crash after an exponential backoff, counting restarts, without touching running dependents', () => {
    const { state } = createRun('r1', { name: 'svc', jobs: [service('api', { crashLoopLimit: 10 }), jobSpec('client', { dependsOn: ['api'] })] }, 0);
    up(state, 'api', 0);
    startAttempt(state, 'client', 'w2', 1);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const now = 1000 * (i + 1) * 100;
      const effects = finishAttempt(state, 'api', job(state, 'api').attempt, CRASH, now, 0.5);
      expect(job(state, 'api').status).toBe('FAILED');
      expect(effects.some((e) => e.type === 'job' && e.job.spec.id === 'client')).toBe(false);
      waits.push((job(state, 'api').notBefore ?? 0) - now);
      requeue(state, 'api');
      startAttempt(state, 'api', 'w1', now + 5000);
    }
    expect(waits).toEqual([1000, 2000, 4000]);
    expect(job(state, 'api').service).toMatchObject({ restarts: 3, crashes: 3 });
    expect(job(state, 'client').status).toBe('RUNNING');
  });

  it('gives up at the crash-loop limit: DEAD with the reason, dependents never started are skipped', () => {
    const { state } = createRun('r1', { name: 'svc', jobs: [service('api', { crashLoopLimit: 3 }), jobSpec('client', { dependsOn: ['api'] })] }, 0);
    let now = 0;
    for (let i = 0; i < 2; i++) {
      startAttempt(state, 'api', 'w1', now);
      finishAttempt(state, 'api', job(state, 'api').attempt, CRASH, (now += 10), 0.5);
      requeue(state, 'api');
    }
    startAttempt(state, 'api', 'w1', now);
    finishAttempt(state, 'api', job(state, 'api').attempt, CRASH, (now += 10), 0.5);
    expect(job(state, 'api').status).toBe('DEAD');
    expect(job(state, 'api').error).toMatch(/crash loop: 3 crashes in a row/);
    expect(job(state, 'client').status).toBe('SKIPPED');
    expect(state.run.status).toBe('FAILED');
  });

  it('forgets earlier crashes once the service stayed up', () => {
    const { state } = createRun('r1', { name: 'svc', jobs: [service('api', { crashLoopLimit: 2 })] }, 0);
    up(state, 'api', 0);
    finishAttempt(state, 'api', 1, CRASH, 10, 0.5);
    requeue(state, 'api');
    up(state, 'api', 2000);
    finishAttempt(state, 'api', 2, CRASH, 2000 + SERVICE_STABLE_MS, 0.5);
    expect(job(state, 'api')).toMatchObject({ status: 'FAILED', service: { crashes: 1, restarts: 2 } });
  });

  it('applies the restart policy to a clean exit', () => {
    const ok = { outcome: 'COMPLETED', exitCode: 0, error: null } as const;
    const always = createRun('r1', { name: 'a', jobs: [service('api', { restart: 'always' })] }, 0).state;
    up(always, 'api', 0);
    finishAttempt(always, 'api', 1, ok, 10, 0.5);
    expect(job(always, 'api')).toMatchObject({ status: 'PENDING', service: { restarts: 1, crashes: 1 } });
    requeue(always, 'api');
    up(always, 'api', 20);
    finishAttempt(always, 'api', 2, ok, 20 + SERVICE_STABLE_MS, 0.5);
    expect(job(always, 'api')).toMatchObject({ status: 'PENDING', service: { restarts: 2, crashes: 0 } });

    const onFailure = createRun('r2', { name: 'b', jobs: [service('api', { restart: 'on-failure' })] }, 0).state;
    up(onFailure, 'api', 0);
    finishAttempt(onFailure, 'api', 1, ok, 10, 0.5);
    expect(job(onFailure, 'api').status).toBe('COMPLETED');
    expect(onFailure.run.status).toBe('COMPLETED');
  });

  it('gives up a service that keeps exiting cleanly at once under "always"', () => {
    const ok = { outcome: 'COMPLETED', exitCode: 0, error: null } as const;
    const { state } = createRun('r1', { name: 'a', jobs: [service('api', { restart: 'always', crashLoopLimit: 2 })] }, 0);
    up(state, 'api', 0);
    finishAttempt(state, 'api', 1, ok, 10, 0.5);
    requeue(state, 'api');
    up(state, 'api', 2000);
    finishAttempt(state, 'api', 2, ok, 2010, 0.5);
    expect(job(state, 'api')).toMatchObject({ status: 'DEAD', error: expect.stringContaining('(last: exit code 0)') });
  });

  it('never restarts under "never", and a fail-fast failure ends it at once', () => {
    const never = createRun('r1', { name: 'a', jobs: [service('api', { restart: 'never' })] }, 0).state;
    up(never, 'api', 0);
    finishAttempt(never, 'api', 1, CRASH, 10, 0.5);
    expect(job(never, 'api').status).toBe('DEAD');

    const busy = createRun('r2', { name: 'b', jobs: [service('api', { port: 8000 })] }, 0).state;
    startAttempt(busy, 'api', 'w1', 0);
    finishAttempt(busy, 'api', 1, { outcome: 'FAILED', exitCode: null, error: 'port 8000 is in use', errorCode: 'PORT_IN_USE' }, 10, 0.5);
    expect(job(busy, 'api')).toMatchObject({ status: 'DEAD', error: 'port 8000 is in use' });
  });

  it('restarts at once, without counting a crash, when its worker is lost', () => {
    const { state } = createRun('r1', { name: 'svc', jobs: [service('api')] }, 0);
    up(state, 'api', 0);
    finishAttempt(state, 'api', 1, { outcome: 'LOST', exitCode: null, error: 'worker gone' }, 50, 0.5);
    expect(job(state, 'api')).toMatchObject({ status: 'FAILED', notBefore: 50, service: { crashes: 0, restarts: 1, pid: null } });
  });

  it('stop ends a ready service COMPLETED with a kill, and never restarts it', () => {
    const { state } = createRun('r1', { name: 'svc', jobs: [service('api'), jobSpec('client', { dependsOn: ['api'] })] }, 0);
    up(state, 'api', 0);
    startAttempt(state, 'client', 'w2', 1);
    finishAttempt(state, 'client', 1, { outcome: 'COMPLETED', exitCode: 0, error: null }, 2, 0.5);
    const effects = stopService(state, 'api', 5) ?? [];
    expect(effects.filter((e) => e.type === 'kill')).toHaveLength(1);
    expect(job(state, 'api').status).toBe('COMPLETED');
    expect(state.run.status).toBe('COMPLETED');
    expect(stopService(state, 'api', 6)).toBeNull();
    expect(finishAttempt(state, 'api', 1, CRASH, 7, 0.5)).toEqual([]);
  });

  it('stop before readiness cancels the service and skips its dependents', () => {
    const { state } = createRun('r1', { name: 'svc', jobs: [service('api'), jobSpec('client', { dependsOn: ['api'] })] }, 0);
    startAttempt(state, 'api', 'w1', 0);
    stopService(state, 'api', 5);
    expect(job(state, 'api').status).toBe('CANCELLED');
    expect(job(state, 'client').status).toBe('SKIPPED');
  });

  it('refuses to stop a job that is not a service', () => {
    const { state } = createRun('r1', { name: 'svc', jobs: [jobSpec('a')] }, 0);
    expect(stopService(state, 'a', 0)).toBeNull();
  });

  it('after a master restart, a released service still holds nothing back', () => {
    const { state } = createRun('r1', { name: 'svc', jobs: [service('api'), jobSpec('a'), jobSpec('client', { dependsOn: ['api', 'a'] })] }, 0);
    up(state, 'api', 0);
    const records = [...state.jobs.values()].map((j) => structuredClone(j));
    const restored = restoreRun(structuredClone(state.run), records, 10).state;
    expect(restored.waitingOn.get('client')).toBe(1);
    startAttempt(restored, 'a', 'w1', 11);
    const effects = finishAttempt(restored, 'a', 1, { outcome: 'COMPLETED', exitCode: 0, error: null }, 12, 0.5);
    expect(kinds(effects, 'enqueue')).toEqual(['client']);
  });
});
