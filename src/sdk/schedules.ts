/** `client.schedule`: runs the master submits on a cron schedule. */
import type { ScheduleSpecInput, ScheduleView } from '../core/schedule.js';
import type { Transport } from './connection.js';
import { prepareJobs, type RunInput } from './job-input.js';

export class ScheduleClient {
  constructor(private readonly transport: Transport) {}

  /**
   * Creates or replaces the schedule `name`: the master submits `run` at each fire time of
   * `schedule.cron` (in `schedule.timezone`, UTC by default). The scripts are uploaded now, as
   * for submit; the run is named after the schedule unless it has a name.
   */
  async put(name: string, schedule: ScheduleSpecInput, run: RunInput): Promise<{ schedule: ScheduleView; created: boolean }> {
    return this.transport.call('schedule.put', { name, schedule, run: { ...run, name: run.name ?? name, jobs: await prepareJobs(this.transport, run.jobs) } });
  }

  async list(): Promise<ScheduleView[]> {
    return (await this.transport.call('schedules.list', {})).schedules;
  }

  async pause(name: string): Promise<ScheduleView> {
    return (await this.transport.call('schedule.pause', { name })).schedule;
  }

  /** Fires again from the next fire time after now (those passed while paused do not run). */
  async resume(name: string): Promise<ScheduleView> {
    return (await this.transport.call('schedule.resume', { name })).schedule;
  }

  /** Removes the schedule (the runs it submitted are kept) and returns it as it was. */
  async delete(name: string): Promise<ScheduleView> {
    return (await this.transport.call('schedule.delete', { name })).schedule;
  }

  /** Submits the schedule's run now, whatever its overlap policy. */
  runNow(name: string): Promise<{ runId: string; schedule: ScheduleView }> {
    return this.transport.call('schedule.runNow', { name });
  }
}
