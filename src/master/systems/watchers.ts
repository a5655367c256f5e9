/**
 * Live feeds for clients: watchers of a run, of the whole cluster, of an agent run, followers of
 * a job's output, and what must end with an attempt. Each subscribes to the event bus; the
 * effects system emits once a commit is durable, so nothing is heard before it is recorded.
 */
import { type OutputStream, splitStreams } from '../../core/output-streams.js';
import type { JobRecord, JobStatus, RunRecord } from '../../core/model.js';
import { isTerminal, jobRef } from '../../core/model.js';
import type { AgentRunView, AttemptId, JobView, RunView } from '../../protocol/methods.js';
import type { MasterResources } from './resources.js';

export interface RunWatcher {
  /** The jobs changed by one commit; omit it to hear only about the run itself. */
  jobs?(jobs: JobView[]): void;
  run(run: RunRecord): void;
}

/** Everything that changes anywhere in the cluster (the dashboard's live feed). */
export interface ClusterWatcher {
  /** Jobs of one run changed in one commit. */
  jobs(runId: string, jobs: JobView[]): void;
  run(run: RunRecord): void;
  /** A worker joined, left, or changed state. */
  workers(): void;
}

export interface LogFollower {
  data(attempt: number, data: string, stream: OutputStream): void;
  end(status: JobStatus): void;
}

/** The snapshots a feed starts with (the views system). */
export interface Snapshots {
  getRun(runId: string): Promise<RunView>;
  getAgentRun(agentRunId: string): Promise<AgentRunView>;
  attemptRunning(a: AttemptId): boolean;
}

export class Watchers {
  constructor(
    private readonly r: MasterResources,
    private readonly snapshots: Snapshots,
  ) {}

  /** Live changes of one run; the snapshot and the stream have no gap between them. */
  async watchRun(runId: string, watcher: RunWatcher): Promise<{ snapshot: RunView; stop: () => void }> {
    const snapshot = await this.snapshots.getRun(runId);
    if (!this.r.runs.has(runId)) return { snapshot, stop: () => {} };
    const { bus } = this.r;
    const stopRun = bus.onKey('run', runId, (run) => watcher.run({ ...run }));
    const stopJobs = watcher.jobs ? bus.onKey('jobs', runId, (views) => watcher.jobs?.(views)) : null;
    return {
      snapshot,
      stop: () => {
        stopRun();
        stopJobs?.();
      },
    };
  }

  /** Every change in the cluster from now on, until the returned function is called. */
  watchCluster(watcher: ClusterWatcher): () => void {
    const { bus } = this.r;
    const stops = [bus.on('jobs', (views, runId) => watcher.jobs(runId, views)), bus.on('run', (run) => watcher.run({ ...run })), bus.on('workers', () => watcher.workers())];
    return () => {
      for (const stop of stops) stop();
    };
  }

  /** The agent run's stages now, then every run that joins it or changes status. */
  async watchAgentRun(agentRunId: string, onStage: (run: RunRecord) => void): Promise<{ snapshot: AgentRunView; stop: () => void }> {
    const snapshot = await this.snapshots.getAgentRun(agentRunId);
    return { snapshot, stop: this.r.bus.onKey('stage', agentRunId, onStage) };
  }

  /** Calls `fn` once the attempt is no longer running; returns the function that stops that. */
  onAttemptEnd(a: AttemptId, fn: () => void): () => void {
    if (!this.snapshots.attemptRunning(a)) {
      fn();
      return () => {};
    }
    const stop = this.r.bus.onKey('attempt', jobRef(a.runId, a.jobId), (job) => {
      if (job.status === 'RUNNING' && job.attempt === a.attempt) return;
      stop();
      fn();
    });
    return stop;
  }

  /**
   * Streams a job's output: what the current attempt has written so far, then every new chunk
   * of this and later attempts, then the end when the job is terminal.
   */
  async followLogs(ref: string, follower: LogFollower): Promise<() => void> {
    const { logs } = this.r;
    const job = await this.r.runs.resolve(ref);
    const current = Math.max(1, job.attempt);
    for (let offset = 0; ; ) {
      const chunk = logs.read(job.runId, job.spec.id, current, offset, 1 << 20);
      if (chunk.data.length === 0) break;
      for (const piece of splitStreams(chunk.data, chunk.stderr)) follower.data(current, piece.text, piece.stream);
      offset = chunk.nextOffset;
    }
    if (isTerminal(job.status)) {
      follower.end(job.status);
      return () => {};
    }
    const stopLogs = logs.listen(job.runId, job.spec.id, (attempt, data, stream) => follower.data(attempt, data, stream));
    const stopJob = this.r.bus.onKey('job', jobRef(job.runId, job.spec.id), (j: JobRecord) => {
      if (!isTerminal(j.status)) return;
      stop();
      follower.end(j.status);
    });
    const stop = (): void => {
      stopLogs();
      stopJob();
    };
    return stop;
  }
}
