/**
 * The effect applier: carries out the core's decisions on a run (Nomad's plan apply). Records are
 * staged with the committer; queueing, timers and kills take effect at once; and once the commit
 * is durable the run's watchers hear what changed (through the event bus) and a finished run
 * retires. Work that became placeable is announced as `ready`, never dispatched from here.
 */
import type { AttemptRecord, JobRecord, RunRecord } from '../../core/model.js';
import { jobRef, parseJobRef } from '../../core/model.js';
import { capabilityLane, workerLane } from '../../core/ready-queue.js';
import { timerDue } from '../../core/attempt-transitions.js';
import { affinityTarget, type Effect, type RunState } from '../../core/run-state.js';
import type { AttemptId } from '../../protocol/methods.js';
import type { FlowControl } from './flow.js';
import type { EffectSink, MasterResources } from './resources.js';

export class EffectApplier implements EffectSink {
  constructor(
    private readonly r: MasterResources,
    private readonly flow: FlowControl,
  ) {}

  apply(state: RunState, effects: readonly Effect[]): void {
    const { committer, totals } = this.r;
    const changed = new Set<JobRecord>();
    let runChanged = false;
    for (const e of effects) {
      switch (e.type) {
        case 'job':
          committer.job(e.job);
          changed.add(e.job);
          this.flow.jobChanged(e.job);
          break;
        case 'run':
          committer.run(e.run);
          runChanged = true;
          this.publishStage(e.run);
          break;
        case 'enqueue': {
          const key = jobRef(e.job.runId, e.job.spec.id);
          const lane = this.laneOf(state, e.job);
          const fairness = state.run.flow?.fairness;
          const group = fairness?.key ?? state.run.runId;
          this.r.queue.push(lane, key, e.job.spec.priority, group, this.flow.limiter.weightOf(group) ?? fairness?.weight ?? 1);
          if (this.r.settings.autoscale && lane === capabilityLane(e.job.spec.requirement)) this.r.queuedSince.set(key, { pool: e.job.spec.requirement, at: this.r.clock.now() });
          this.r.bus.emit('ready', undefined);
          break;
        }
        case 'dequeue':
          this.r.queue.remove(jobRef(e.job.runId, e.job.spec.id));
          this.r.queuedSince.delete(jobRef(e.job.runId, e.job.spec.id));
          break;
        case 'timer':
          this.r.timers.set(jobRef(e.job.runId, e.job.spec.id), e.at);
          break;
        case 'kill':
          this.releaseForKill(e.workerId, e.job, e.attempt);
          break;
        case 'decision':
          committer.decision(e.decision);
          break;
        case 'attempt':
          // An attempt is stored when it ends; while it runs, the job's own row (attempt number,
          // worker, start time) already says everything, so starting one costs no extra write.
          if (e.attempt.finishedAt !== null) committer.attempt(e.attempt);
          this.countAttempt(e.attempt);
          break;
      }
    }
    for (const job of changed) {
      if (job.status === 'COMPLETED') totals.completed++;
      else if (job.status === 'DEAD') totals.dead++;
    }
    this.publish(state, changed, runChanged);
  }

  /** A job's timer is due (a delay or backoff ran out, a gate or an attempt timed out). */
  onTimer(key: string): void {
    const { runId, jobId } = parseJobRef(key);
    const state = runId ? this.r.runs.get(runId) : undefined;
    if (state) this.apply(state, timerDue(state, jobId, this.r.clock.now(), this.r.random()));
  }

  private countAttempt(a: AttemptRecord): void {
    if (a.finishedAt !== null) return;
    this.r.totals.attempts++;
    if (a.attempt > 1) this.r.totals.retried++;
  }

  private releaseForKill(workerId: string, job: JobRecord, attempt: number): void {
    const key = jobRef(job.runId, job.spec.id);
    const worker = this.r.workers.get(workerId);
    worker?.attempts.delete(key);
    worker?.unaccepted.delete(key);
    this.r.unclaimed.delete(key);
    this.r.logs.close(job.runId, job.spec.id, attempt);
    const target: AttemptId = { runId: job.runId, jobId: job.spec.id, attempt };
    this.r.committer.afterCommit(() => worker?.link?.kill(target));
    this.r.bus.emit('ready', undefined);
  }

  /**
   * After the commit, tell watchers what changed and retire a finished run from memory. The run's
   * watchers are taken now: an earlier commit of the same batch may retire the run first.
   */
  private publish(state: RunState, changed: Set<JobRecord>, runChanged: boolean): void {
    const { bus, runs } = this.r;
    const runId = state.run.runId;
    const watchers = bus.topic('run', runId);
    const jobWatchers = bus.topic('jobs', runId);
    const cluster = bus.listens('run');
    const finished = state.run.status !== 'RUNNING';
    const gates = bus.listens('gateOpened') ? [...changed].filter((j) => j.status === 'WAITING_APPROVAL') : [];
    if (!watchers && !cluster && !finished && gates.length === 0 && !bus.listensTo('job') && !bus.listensTo('attempt')) return;
    this.r.committer.afterCommit(() => {
      const views = cluster || (jobWatchers && jobWatchers.handlers.length > 0) ? [...changed].map(this.r.jobViews.batch()) : null;
      if (views && views.length > 0) {
        jobWatchers?.emit(views);
        bus.emit('jobs', views, runId);
      }
      if (runChanged) bus.emit('run', state.run, runId);
      if (bus.listensTo('job')) for (const job of changed) bus.emitTo('job', jobRef(runId, job.spec.id), job);
      if (bus.listensTo('attempt')) for (const job of changed) bus.emitTo('attempt', jobRef(runId, job.spec.id), job);
      if (runChanged) watchers?.emit(state.run);
      if (runChanged && finished && bus.listens('runFinished')) bus.emit('runFinished', { run: { ...state.run }, jobs: [...state.jobs.values()] }, runId);
      for (const job of gates) bus.emit('gateOpened', { run: { ...state.run }, job }, runId);
      if (state.run.status !== 'RUNNING' && runs.get(runId) === state) runs.retire(state);
    });
  }

  private publishStage(run: RunRecord): void {
    if (run.agentRunId === null || !this.r.bus.listensTo('stage', run.agentRunId)) return;
    const agentRunId = run.agentRunId;
    const copy = { ...run };
    this.r.committer.afterCommit(() => this.r.bus.emitTo('stage', agentRunId, copy));
  }

  private laneOf(state: RunState, job: JobRecord): string {
    if (job.spec.affinity === 'required') {
      const target = affinityTarget(state, job);
      if (target) return workerLane(target);
    }
    return capabilityLane(job.spec.requirement);
  }
}
