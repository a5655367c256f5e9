/** `client.trigger`: pipelines started by requests to the master's `/hooks/NAME`. */
import type { TriggerLimits, TriggerView } from '../core/trigger.js';
import type { Transport } from './connection.js';
import { prepareJobs, type RunInput } from './job-input.js';

export class TriggerClient {
  constructor(private readonly transport: Transport) {}

  /**
   * Creates the trigger `name`: each delivery to `/hooks/NAME` that proves its sender submits
   * `run`, whose scripts are uploaded now, as for submit. `auth` is the secret deliveries are
   * signed with, or a bearer token made now and returned this once.
   */
  async create(name: string, run: RunInput, auth: { secret: string } | { bearer: true }, limits: Partial<TriggerLimits> = {}): Promise<{ trigger: TriggerView; token?: string }> {
    return this.transport.call('triggers.create', { name, auth, limits, run: { ...run, name: run.name ?? name, jobs: await prepareJobs(this.transport, run.jobs) } });
  }

  async list(): Promise<TriggerView[]> {
    return (await this.transport.call('triggers.list', {})).triggers;
  }

  /** A trigger with its newest deliveries (20 unless said). */
  async get(name: string, deliveries?: number): Promise<TriggerView> {
    return (await this.transport.call('triggers.get', { name, ...(deliveries !== undefined && { deliveries }) })).trigger;
  }

  /** Removes the trigger and its deliveries (the runs it started are kept); returns it as it was. */
  async remove(name: string): Promise<TriggerView> {
    return (await this.transport.call('triggers.remove', { name })).trigger;
  }
}
