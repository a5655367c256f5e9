/** `client.worker`: the workers connected to the master, and taking one out of service. */
import type { WorkerView } from '../protocol/methods.js';
import type { Transport } from './connection.js';

export class WorkerClient {
  constructor(private readonly transport: Transport) {}

  async list(): Promise<WorkerView[]> {
    return (await this.transport.call('workers.list', {})).workers;
  }

  /** The worker finishes what it runs and takes no new work. */
  async drain(id: string): Promise<WorkerView> {
    return (await this.transport.call('worker.drain', { id })).worker;
  }

  /** A drained worker takes work again; ConflictError for one that is shutting down. */
  async undrain(id: string): Promise<WorkerView> {
    return (await this.transport.call('worker.undrain', { id })).worker;
  }

  /**
   * Drains the worker, then its process exits; a permanent worker needs `force`. What still runs
   * after `drainTimeoutMs` (default: the worker's --drain-timeout) is handed back and runs elsewhere.
   */
  async shutdown(id: string, options: { force?: boolean; drainTimeoutMs?: number } = {}): Promise<WorkerView> {
    return (await this.transport.call('worker.shutdown', { id, force: options.force ?? false, ...(options.drainTimeoutMs !== undefined && { drainTimeoutMs: options.drainTimeoutMs }) })).worker;
  }
}
