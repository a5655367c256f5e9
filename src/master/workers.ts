/** The master's view of each worker: identity, capacity, the attempts it runs, and its link. */
import type { JobStatus, WorkerInfo } from '../core/model.js';
import type { WorkerLoad } from '../core/routing.js';
import type { AttemptId, Dispatch, SpawnWorker, WorkerView } from '../protocol/methods.js';

/** How the master reaches a connected worker; implemented by the transport. */
export interface WorkerLink {
  dispatch(items: Dispatch[]): void;
  kill(attempt: AttemptId): void;
  /** Ask the worker to take no more work (it says so again after any reconnect). */
  drain(): void;
  /** Ask a drained worker to take work again. */
  undrain(): void;
  /** Ask the worker to drain and then exit; `drainTimeoutMs` replaces its own drain timeout. */
  shutdown(drainTimeoutMs?: number): void;
  /** Ask a permanent worker to start an ephemeral worker on its host (the autoscaler). */
  spawnWorker(request: SpawnWorker): void;
  close(reason: string): void;
}

export interface FinishedHere {
  runId: string;
  jobId: string;
  status: JobStatus;
  startedAt: number;
  finishedAt: number;
}

const HISTORY = 10;

export class WorkerEntry implements WorkerLoad {
  link: WorkerLink | null = null;
  /** The worker on `link` has said what it holds (worker.reclaim): until then it gets no work. */
  reclaimed = false;
  draining = false;
  /** Draining because it will exit (signalled, or asked to shut down): it cannot be undrained. */
  exiting = false;
  connectedAt: number;
  lastSeen: number;
  capabilities: ReadonlySet<string>;
  /** Job refs (`runId/jobId`) of the attempts running here. */
  readonly attempts = new Set<string>();
  /** Those of them dispatched and not yet acknowledged: a connection lost before that loses them. */
  readonly unaccepted = new Set<string>();
  /** The latest finished attempts, newest last (Titan's stats show a worker's recent history). */
  readonly history: FinishedHere[] = [];

  constructor(
    readonly id: string,
    public info: WorkerInfo,
    now: number,
  ) {
    this.connectedAt = now;
    this.lastSeen = now;
    this.capabilities = new Set(info.capabilities);
  }

  remember(entry: FinishedHere): void {
    this.history.push(entry);
    if (this.history.length > HISTORY) this.history.shift();
  }

  get slots(): number {
    return this.info.slots;
  }

  get running(): number {
    return this.attempts.size;
  }

  get accepting(): boolean {
    return this.link !== null && this.reclaimed && !this.draining;
  }

  get state(): WorkerView['state'] {
    if (this.link === null) return 'disconnected';
    return this.draining ? 'draining' : 'connected';
  }

  view(services: WorkerView['services']): WorkerView {
    return {
      ...this.info,
      id: this.id,
      state: this.state,
      exiting: this.exiting,
      running: this.running,
      connectedAt: this.connectedAt,
      lastSeen: this.lastSeen,
      attempts: [...this.attempts],
      services,
    };
  }
}
