/** `client.run`: submitting runs, reading and controlling them, and following one to its end. */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { isTerminal, type RunRecord } from '../core/model.js';
import type { PipelineDoc } from '../core/pipeline-yaml.js';
import type { ClientEvents, JobView, Results, RunSummary, RunView, SubmitResult } from '../protocol/methods.js';
import { RESUMED, type Transport } from './connection.js';
import { BadRequestError } from './errors.js';
import { type JobInput, type JobLike, prepareJobs, type RunInput, type ScriptSource } from './job-input.js';
import { snapshotChanges } from './resume.js';

/** What a run watch yields: first the state when the watch began, then each change after it. */
export type RunEvent = { type: 'snapshot'; view: RunView } | { type: 'job'; job: JobView } | { type: 'run'; run: RunRecord };

export class RunClient {
  constructor(private readonly transport: Transport) {}

  /**
   * Uploads the scripts the master lacks, then submits the run; resolves once it is durable. A
   * connection lost before the reply leaves the submission's fate unknown: it is sent again
   * under the same request id, which the master answers with the run the first one created.
   * With `singleton`, an unfinished run holding the key is the answer (`singleton.heldBy`).
   */
  async submit(input: Omit<RunInput, 'jobs'> & { jobs: JobLike[] }): Promise<SubmitResult> {
    return this.transport.resend('submit', { run: { ...input, jobs: await prepareJobs(this.transport, input.jobs) }, requestId: randomUUID() });
  }

  /** Runs one script as a one-job run. */
  async runScript(script: ScriptSource, args: string[] = [], options: Omit<JobInput, 'script' | 'args' | 'id'> & { id?: string } = {}): Promise<{ runId: string; jobId: string }> {
    const name = typeof script === 'string' ? basename(script) : script.name;
    const id = options.id ?? (name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.-]+/, '') || 'job');
    const { runId } = await this.submit({ name, jobs: [{ ...options, id, script, args }] });
    return { runId, jobId: id };
  }

  /**
   * Submits a DAG written in Titan's line format (`id|RUN_PAYLOAD|file|args|base64|req|prio|delay|[parents]`,
   * joined by " ; "); sent again under the same request id after a lost reply, as `submit` is.
   */
  submitTitanDag(payload: string): Promise<{ runId: string; jobs: string[] }> {
    return this.transport.resend('dag.submit', { payload, requestId: randomUUID() });
  }

  /**
   * Has the master parse and validate pipeline YAML (the CLI's parser): the pipeline with each
   * job's `file` as written, relative to the YAML's folder, left for the caller to read. An
   * invalid pipeline is a BadRequestError positioned in `path` (`pipeline.yaml:7:5: …`).
   */
  async parsePipeline(text: string, path?: string): Promise<PipelineDoc> {
    return (await this.transport.call('pipeline.parse', { text, ...(path !== undefined && { path }) })).pipeline;
  }

  /**
   * Adds jobs to a running run; parents may be any job of the run. Inside a job the run defaults
   * to the job's own (`TITAN_RUN_ID`).
   */
  async extend(jobs: JobLike[], runId: string | undefined = process.env.TITAN_RUN_ID): Promise<{ runId: string; jobs: string[] }> {
    if (!runId) throw new BadRequestError('extendRun needs a run id (outside a job, pass one)');
    return this.transport.call('run.extend', { runId, jobs: await prepareJobs(this.transport, jobs) });
  }

  get(runId: string): Promise<RunView> {
    return this.transport.call('run.get', { runId });
  }

  /** The newest runs (one page; see `page` for the pages after it). */
  async list(options: { limit?: number; status?: RunRecord['status']; tag?: string } = {}): Promise<RunSummary[]> {
    return (await this.page(options)).runs;
  }

  /** One page of runs, newest first; pass its `next` as `after` for the following page (null: no more). */
  page(options: { limit?: number; status?: RunRecord['status']; tag?: string; after?: string } = {}): Promise<Results['runs.list']> {
    return this.transport.call('runs.list', options);
  }

  async cancel(runId: string): Promise<number> {
    return (await this.transport.call('run.cancel', { runId })).cancelled;
  }

  /** Deletes a finished run with its logs and artifacts; false when there is no such run (CONFLICT while it runs). */
  async delete(runId: string): Promise<boolean> {
    return (await this.transport.call('run.delete', { runId })).deleted;
  }

  /** Submits a run's jobs again as a new run. */
  rerun(runId: string): Promise<{ runId: string; jobs: string[] }> {
    return this.transport.call('run.rerun', { runId });
  }

  /**
   * The run's state when the watch began, then every change until it finishes. With
   * `jobs: false` only the run's own updates come (the final state is then read once at the end).
   * A watch whose connection drops carries on from the master that leads once it is back, with
   * the changes made in between.
   */
  async *watch(runId: string, options: { jobs?: boolean } = {}): AsyncGenerator<RunEvent, RunView> {
    const withJobs = options.jobs ?? true;
    const sub = await this.transport.subscribe('run.watch', { runId, jobs: withJobs });
    try {
      const { snapshot } = sub.reply;
      yield { type: 'snapshot', view: snapshot };
      const jobs = new Map(snapshot.jobs.map((j) => [j.spec.id, j]));
      let run = snapshot.run;
      while (run.status === 'RUNNING') {
        const [event, data] = await sub.next();
        if (event === RESUMED) {
          const changed = snapshotChanges(jobs, run, (data as Results['run.watch']).snapshot);
          for (const job of withJobs ? changed.jobs : []) {
            jobs.set(job.spec.id, job);
            yield { type: 'job', job };
          }
          if (changed.run) {
            run = changed.run;
            yield { type: 'run', run };
          }
        } else if (event === 'run.jobs') {
          for (const job of (data as ClientEvents['run.jobs']).jobs) {
            jobs.set(job.spec.id, job);
            yield { type: 'job', job };
          }
        } else if (event === 'run.update') {
          run = (data as ClientEvents['run.update']).run;
          yield { type: 'run', run };
        }
      }
      return withJobs ? { run, jobs: [...jobs.values()] } : await this.get(runId);
    } finally {
      sub.close();
    }
  }

  /**
   * Waits for the run to finish and returns its final state. A run with services finishes only
   * when they are stopped; with `untilServicesUp` the wait ends as soon as every other job has
   * ended and every service is up (or has ended), and returns the state at that moment.
   */
  async wait(runId: string, onEvent?: (event: RunEvent) => void, options: { untilServicesUp?: boolean } = {}): Promise<RunView> {
    const early = options.untilServicesUp === true;
    const it = this.watch(runId, { jobs: onEvent !== undefined || early });
    const jobs = new Map<string, JobView>();
    /** Jobs still running or waiting, other than services that are up. */
    const open = new Set<string>();
    let run: RunRecord | null = null;
    try {
      for (;;) {
        const next = await it.next();
        if (next.done) return next.value;
        const e = next.value;
        onEvent?.(e);
        if (!early) continue;
        const track = (j: JobView): void => {
          jobs.set(j.spec.id, j);
          if (isSettled(j)) open.delete(j.spec.id);
          else open.add(j.spec.id);
        };
        if (e.type === 'snapshot') {
          run = e.view.run;
          e.view.jobs.forEach(track);
        } else if (e.type === 'job') track(e.job);
        else run = e.run;
        // With every job ended the run's own end is on its way; wait for it instead.
        if (run && open.size === 0 && [...jobs.values()].some((j) => !isTerminal(j.status))) return { run, jobs: [...jobs.values()] };
      }
    } finally {
      await it.return(undefined as unknown as RunView);
    }
  }
}

/** A job that has ended, or a service that is up. */
const isSettled = (j: JobView): boolean => isTerminal(j.status) || (j.service !== null && j.status === 'RUNNING' && j.service.readyAt !== null);
