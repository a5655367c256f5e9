/**
 * Dispatch: places queued jobs on workers. A `ready` event schedules one pass at the end of the
 * turn, so a burst of events makes one pass; placement is core/routing's, the start of each
 * attempt is the core's decision applied through the effects system, and the dispatches leave
 * once the commit that records them is durable. The secrets a job declares join its environment
 * here, and nowhere else: an attempt whose secret is gone fails at once, saying which.
 */
import type { JobRecord } from '../../core/model.js';
import { parseJobRef } from '../../core/model.js';
import { comesFirst, type QueuedItem } from '../../core/ready-queue.js';
import { pickWorker } from '../../core/routing.js';
import { finishAttempt, startAttempt } from '../../core/attempt-transitions.js';
import { affinityTarget, type RunState } from '../../core/run-state.js';
import type { Dispatch } from '../../protocol/methods.js';
import type { WorkerEntry } from '../workers.js';
import type { FlowControl } from './flow.js';
import type { EffectSink, MasterResources } from './resources.js';
import type { Secrets } from './secrets.js';

/** `TITAN_SERVICE_` and the job id in upper case, other characters than letters and digits as `_`. */
export const serviceEnvName = (jobId: string): string => `TITAN_SERVICE_${jobId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

export class Dispatcher {
  private kicked = false;
  private closed = false;

  constructor(
    private readonly r: MasterResources,
    private readonly effects: EffectSink,
    private readonly flow: FlowControl,
    private readonly secrets: Secrets,
  ) {
    r.bus.on('ready', () => this.kick());
  }

  /** No pass is scheduled any more (the master is closing). */
  close(): void {
    this.closed = true;
  }

  /** Schedules a dispatch pass at the end of the current turn, so a burst of events makes one pass. */
  kick(): void {
    if (this.kicked || this.closed) return;
    this.kicked = true;
    queueMicrotask(() => {
      this.kicked = false;
      this.dispatchReady();
    });
  }

  /**
   * Places queued jobs while any lane has a job some worker can take. Each step takes the best
   * head among lanes that can be served, so a saturated pool never blocks another pool's jobs.
   */
  dispatchReady(): void {
    const { queue, workers, runs } = this.r;
    const now = this.r.clock.now();
    this.flow.wakeWaiters(now);
    const lanes = queue.activeLanes();
    if (lanes.length === 0 || workers.size === 0) return;
    const outbox = new Map<WorkerEntry, Dispatch[]>();
    for (;;) {
      let best: { lane: string; item: QueuedItem; worker: WorkerEntry; state: RunState; job: JobRecord } | null = null;
      for (const lane of lanes) {
        const item = queue.peek(lane);
        if (!item || (best && !comesFirst(item, best.item))) continue;
        const { runId, jobId } = parseJobRef(item.key);
        const state = runs.get(runId ?? '');
        const job = state?.jobs.get(jobId);
        if (!state || !job || job.status !== 'QUEUED') {
          queue.remove(item.key);
          this.r.queuedSince.delete(item.key);
          continue;
        }
        const placement = { requirement: job.spec.requirement, affinity: job.spec.affinity, preferredWorker: affinityTarget(state, job) };
        const port = job.spec.service?.port;
        const candidates = port === undefined ? workers.values() : [...workers.values()].filter((w) => !runs.servicesOn(w).some((s) => s.port === port));
        const worker = pickWorker(placement, candidates) as WorkerEntry | null;
        if (worker) best = { lane, item, worker, state, job };
      }
      if (!best) break;
      const { lane, worker, state, job } = best;
      // Held back by a flow-control key: parked on it, out of line, and the next head is tried.
      if (!this.flow.admit(lane, job, now)) continue;
      queue.pop(lane);
      this.r.queuedSince.delete(best.item.key);
      this.effects.apply(state, startAttempt(state, job.spec.id, worker.id, now));
      const secrets = this.secretsOf(job, worker.id);
      if ('error' in secrets) {
        this.effects.apply(state, finishAttempt(state, job.spec.id, job.attempt, { outcome: 'FAILED', exitCode: null, error: secrets.error, errorCode: 'SECRET_MISSING' }, now, this.r.random(), this.r.settings.maxLost));
        this.r.log(`${best.item.key} (attempt ${job.attempt}) was not dispatched: ${secrets.error}`);
        continue;
      }
      worker.attempts.add(best.item.key);
      worker.unaccepted.add(best.item.key);
      const items = outbox.get(worker) ?? [];
      if (items.length === 0) outbox.set(worker, items);
      items.push(this.dispatchOf(state, job, secrets.env));
    }
    // The link of now: should this one close before the commit, a later connection of the same
    // worker must not receive attempts that were already re-queued.
    for (const [worker, items] of outbox) {
      const link = worker.link;
      this.r.committer.afterCommit(() => link?.dispatch(items));
    }
    // Worker load changed: the dashboard hears it (its feed coalesces bursts).
    if (outbox.size > 0 && this.r.bus.listens('workers')) this.r.committer.afterCommit(() => this.r.bus.emit('workers', undefined));
  }

  /** The values of the job's secrets for this attempt, whose output is then masked by them. */
  private secretsOf(job: JobRecord, workerId: string): { env: Record<string, string> | null } | { error: string } {
    const names = job.spec.secrets ?? [];
    if (names.length === 0) return { env: null };
    const got = this.secrets.handOut(names, { runId: job.runId, jobId: job.spec.id, attempt: job.attempt }, workerId);
    if ('env' in got) this.r.logs.mask(job.runId, job.spec.id, job.attempt, Object.values(got.env));
    return got;
  }

  private dispatchOf(state: RunState, job: JobRecord, secrets: Record<string, string> | null): Dispatch {
    const env = secrets === null ? this.envOf(state, job) : { ...this.envOf(state, job), ...secrets };
    // Only run and service jobs are ever queued (gates wait in WAITING_APPROVAL): each has a script or an archive.
    const d: Dispatch = { runId: job.runId, jobId: job.spec.id, attempt: job.attempt, args: job.spec.args, env, timeoutMs: job.spec.timeoutMs ?? null, token: this.r.settings.jobToken({ runId: job.runId, jobId: job.spec.id, attempt: job.attempt }) };
    if (job.spec.script) d.script = job.spec.script;
    if (job.spec.archive) d.archive = job.spec.archive;
    if (job.spec.payload) d.payload = job.spec.payload;
    const svc = job.spec.service;
    if (job.spec.kind === 'service') {
      d.service = { port: svc?.port ?? null, portRange: [...this.r.settings.servicePorts], readiness: svc?.readiness ?? 'tcp', readyTimeoutMs: svc?.readyTimeoutMs ?? 60_000 };
    }
    return d;
  }

  /**
   * The job's environment, plus where each service it depends on listens, so a dependent can
   * reach a service whose port was assigned: TITAN_SERVICE_<ID> = host:port.
   */
  private envOf(state: RunState, job: JobRecord): Record<string, string> {
    let env = job.spec.env;
    for (const parentId of job.spec.dependsOn) {
      const parent = state.jobs.get(parentId);
      const host = parent?.workerId ? this.r.workers.get(parent.workerId)?.info.host : undefined;
      const name = serviceEnvName(parentId);
      // A value the job sets itself wins.
      if (!parent?.service?.port || !host || name in job.spec.env) continue;
      if (env === job.spec.env) env = { ...env };
      env[name] = `${host}:${parent.service.port}`;
    }
    return env;
  }
}
