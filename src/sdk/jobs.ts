/** `client.job`: one job of a run: its state, control, output and the wait for its end. */
import type { JobStatus } from '../core/model.js';
import { isTerminal } from '../core/model.js';
import type { ClientEvents, JobView, LogChunk, Results } from '../protocol/methods.js';
import { RESUMED, type Transport } from './connection.js';
import { LogReplay } from './resume.js';
import type { RunClient } from './runs.js';

/** One attempt's output as `readLogs` returns it. */
export interface LogOutput {
  attempt: number;
  data: string;
  /** Output the master could not store (a full disk), and why. */
  lost?: { bytes: number; reason: string };
  /** Why the run's stored output is gone. */
  removed?: string;
}

const gapsOf = (chunk: LogChunk): Pick<LogOutput, 'lost' | 'removed'> => ({ ...(chunk.lost && { lost: chunk.lost }), ...(chunk.removed !== undefined && { removed: chunk.removed }) });

export class JobClient {
  /** `runs` watches the job's run while waiting for the job. */
  constructor(
    private readonly transport: Transport,
    private readonly runs: RunClient,
  ) {}

  get(ref: string): Promise<Results['job.get']> {
    return this.transport.call('job.get', { ref });
  }

  async status(ref: string): Promise<JobStatus> {
    return (await this.get(ref)).job.status;
  }

  async cancel(ref: string): Promise<JobView> {
    return (await this.transport.call('job.cancel', { ref })).job;
  }

  /** Runs a DEAD or CANCELLED job again in its run, with a fresh retry budget; what it skipped waits for it again. */
  async retry(ref: string): Promise<JobView> {
    return (await this.transport.call('job.retry', { ref })).job;
  }

  /** The whole output of one attempt (the latest by default). */
  async logs(ref: string, attempt?: number): Promise<string> {
    return (await this.readLogs(ref, attempt)).data;
  }

  /**
   * The whole output of one attempt (the latest by default), with what the master could not keep
   * of it: `lost` (output it could not store, e.g. on a full disk) and `removed` (why the run's
   * output is gone).
   */
  async readLogs(ref: string, attempt?: number): Promise<LogOutput> {
    let offset = 0;
    let text = '';
    for (;;) {
      const chunk: LogChunk = await this.transport.call('logs.get', attempt === undefined ? { ref, offset } : { ref, attempt, offset });
      text += chunk.data;
      if (chunk.nextOffset === offset) return { attempt: chunk.attempt, data: text, ...gapsOf(chunk) };
      offset = chunk.nextOffset;
      attempt = chunk.attempt;
    }
  }

  /** What the master could not keep of an attempt's output (the latest by default), without its data. */
  async logGaps(ref: string, attempt?: number): Promise<Omit<LogOutput, 'data'>> {
    const chunk = await this.transport.call('logs.get', attempt === undefined ? { ref, limit: 1 } : { ref, attempt, limit: 1 });
    return { attempt: chunk.attempt, ...gapsOf(chunk) };
  }

  /**
   * Output as it is produced, across retries, until the job reaches a terminal status. A follow
   * whose connection drops carries on from the master that leads once it is back, without
   * repeating what it already gave.
   */
  async *follow(ref: string): AsyncGenerator<{ attempt: number; data: string }, JobStatus> {
    const sub = await this.transport.subscribe('logs.follow', { ref });
    const replay = new LogReplay();
    try {
      for (;;) {
        const [event, data] = await sub.next();
        if (event === RESUMED) replay.resumed();
        if (event === 'log.end') return (data as ClientEvents['log.end']).status;
        if (event !== 'log') continue;
        const { attempt } = data as ClientEvents['log'];
        const fresh = replay.fresh(attempt, (data as ClientEvents['log']).data);
        if (fresh !== '') yield { attempt, data: fresh };
      }
    } finally {
      sub.close();
    }
  }

  /** Waits for one job to reach a terminal status. */
  async wait(ref: string): Promise<JobView> {
    const { job } = await this.get(ref);
    if (isTerminal(job.status)) return job;
    // Returns as soon as this job ends, not when its whole run does.
    for await (const e of this.runs.watch(job.runId)) {
      const seen = e.type === 'job' ? e.job : e.type === 'snapshot' ? e.view.jobs.find((j) => j.spec.id === job.spec.id) : undefined;
      if (seen && seen.spec.id === job.spec.id && isTerminal(seen.status)) return seen;
    }
    return (await this.get(job.ref)).job;
  }
}
