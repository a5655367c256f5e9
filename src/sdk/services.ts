/** `client.service`: long-running service jobs. */
import type { JobView, ServiceView } from '../protocol/methods.js';
import type { Transport } from './connection.js';

export class ServiceClient {
  constructor(private readonly transport: Transport) {}

  async list(): Promise<ServiceView[]> {
    return (await this.transport.call('services.list', {})).services;
  }

  /** Stops a service for good: it is not restarted. */
  async stop(ref: string): Promise<JobView> {
    return (await this.transport.call('service.stop', { ref })).job;
  }
}
