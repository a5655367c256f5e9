/**
 * TitanClient: the TypeScript SDK. One persistent v2 connection, opened on first use. Host, port
 * and token come from the constructor or, at call time, from TITAN_HOST, TITAN_PORT and
 * TITAN_TOKEN, so the same code works on a laptop and inside a job.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ArtifactInfo, KvEntry, KvKeyInfo } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import type { AgentRunSummary, JobSpecInput, JobStatus, RunRecord, RunSpecInput } from '../core/model.js';
import { isTerminal } from '../core/model.js';
import type { PipelineDoc, PipelineJob } from '../core/pipeline-yaml.js';
import type { ScheduleSpecInput, ScheduleView } from '../core/schedule.js';
import { type ArtifactSource, downloadArtifact, uploadArtifact } from '../protocol/artifact-transfer.js';
import type { KvWaitResult } from '../protocol/data-methods.js';
import type { AgentRunView, ClientEvents, GateDecisionResult, JobView, LogChunk, Method, ParamsOf, Results, RunSummary, RunView, ServiceView, Stats, WorkerView, FileAreaName, FileInfo } from '../protocol/methods.js';
import { BLOB_CHUNK_BYTES } from '../protocol/methods.js';
import { Peer } from '../protocol/peer.js';
import { type ConnectFailure, dial, explainConnectFailure, type TlsClientOptions, type TlsSetting, tlsFilesFromEnv, tlsFromFiles } from '../protocol/tls-dial.js';
import { type ArchiveSource, ArchiveLoader } from './archive-source.js';
import { fetchToFile, provenanceFromEnv } from './artifacts.js';
import { BadRequestError, typedError, UnavailableError } from './errors.js';

export { TitanError };
export type { ArchiveSource, PipelineDoc, PipelineJob, TlsClientOptions, TlsSetting };

export interface ClientOptions {
  host?: string;
  port?: number;
  token?: string;
  /** Milliseconds to wait for the TCP connection. */
  connectTimeoutMs?: number;
  /**
   * TLS to the master: `true` trusts the system CAs; `{ ca, cert, key }` (PEM contents) trusts
   * `ca` and presents a client certificate for mutual TLS; `false` forces plain TCP. When absent,
   * TITAN_TLS=1, TITAN_CA, TITAN_CERT and TITAN_KEY (file paths) decide at connect time.
   */
  tls?: TlsSetting;
}

/** A script to run: a path on local disk, or a name with its content. */
export type ScriptSource = string | { name: string; content: string | Buffer };

export interface JobInput extends Omit<JobSpecInput, 'script' | 'archive'> {
  /** What a run or service job executes: a script, or else an `archive` entry; approval gates (`kind: 'approval'`) have none. */
  script?: ScriptSource;
  /** A zip (content or path) and the entry to run from it; uploaded once by content, however many jobs share it. */
  archive?: ArchiveSource;
}

export interface RunInput extends Omit<RunSpecInput, 'jobs'> {
  jobs: JobInput[];
}

/** A job, or a builder of one (`job(...)`, `service(...)`, `approval(...)` from the SDK's builders). */
export type JobLike = JobInput | { toJob(): JobInput };

/** What a run watch yields: first the state when the watch began, then each change after it. */
export type RunEvent = { type: 'snapshot'; view: RunView } | { type: 'job'; job: JobView } | { type: 'run'; run: RunRecord };

export function defaultAddress(options: ClientOptions = {}): { host: string; port: number; token: string | undefined } {
  const envPort = process.env.TITAN_PORT;
  const port = options.port ?? (envPort ? Number(envPort) : 9090);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BadRequestError(options.port === undefined ? `TITAN_PORT must be a port number from 1 to 65535, got "${envPort}"` : `port must be a number from 1 to 65535, got ${port}`);
  }
  return { host: options.host ?? process.env.TITAN_HOST ?? '127.0.0.1', port, token: options.token ?? process.env.TITAN_TOKEN };
}

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

/** Waits before re-sending a submission whose connection broke: 250 ms doubling, the last one 4 s (about 8 s in all). */
const SUBMIT_RETRY_MS = { first: 250, last: 4_000 };

export class TitanClient {
  private peer: Promise<Peer> | null = null;
  private readonly listeners = new Map<number, (event: string, data: unknown) => void>();

  constructor(private readonly options: ClientOptions = {}) {}

  // ---- submission -----------------------------------------------------------------------------

  /**
   * Uploads the scripts the master lacks, then submits the run; resolves once it is durable. A
   * connection lost before the reply leaves the submission's fate unknown: it is sent again
   * under the same request id, which the master answers with the run the first one created.
   */
  async submit(input: Omit<RunInput, 'jobs'> & { jobs: JobLike[] }): Promise<{ runId: string; jobs: string[] }> {
    const params = { run: { ...input, jobs: await this.prepare(input.jobs) }, requestId: randomUUID() };
    let sent = false;
    for (let wait = SUBMIT_RETRY_MS.first; ; wait *= 2) {
      let peer: Peer | null = null;
      try {
        peer = await this.connection();
        return await peer.request<Results['submit']>('submit', params);
      } catch (err) {
        // Only a broken connection leaves the fate unknown (a reply, even UNAVAILABLE, is an
        // answer); once it has, a master that cannot be reached yet may be restarting.
        const unknown = peer === null ? sent : peer.closed;
        if (!unknown || wait > SUBMIT_RETRY_MS.last) throw typedError(err);
        sent = true;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  // ---- schedules ----------------------------------------------------------------------------

  /**
   * Creates or replaces the schedule `name`: the master submits `run` at each fire time of
   * `schedule.cron` (in `schedule.timezone`, UTC by default). The scripts are uploaded now, as
   * for submit; the run is named after the schedule unless it has a name.
   */
  async putSchedule(name: string, schedule: ScheduleSpecInput, run: RunInput): Promise<{ schedule: ScheduleView; created: boolean }> {
    return this.call('schedule.put', { name, schedule, run: { ...run, name: run.name ?? name, jobs: await this.prepare(run.jobs) } });
  }

  async schedules(): Promise<ScheduleView[]> {
    return (await this.call('schedules.list', {})).schedules;
  }

  async pauseSchedule(name: string): Promise<ScheduleView> {
    return (await this.call('schedule.pause', { name })).schedule;
  }

  /** Fires again from the next fire time after now (those passed while paused do not run). */
  async resumeSchedule(name: string): Promise<ScheduleView> {
    return (await this.call('schedule.resume', { name })).schedule;
  }

  /** Removes the schedule (the runs it submitted are kept) and returns it as it was. */
  async deleteSchedule(name: string): Promise<ScheduleView> {
    return (await this.call('schedule.delete', { name })).schedule;
  }

  /** Submits the schedule's run now, whatever its overlap policy. */
  runScheduleNow(name: string): Promise<{ runId: string; schedule: ScheduleView }> {
    return this.call('schedule.runNow', { name });
  }

  /**
   * Adds jobs to a running run; parents may be any job of the run. Inside a job the run defaults
   * to the job's own (`TITAN_RUN_ID`).
   */
  async extendRun(jobs: JobLike[], runId: string | undefined = process.env.TITAN_RUN_ID): Promise<{ runId: string; jobs: string[] }> {
    if (!runId) throw new BadRequestError('extendRun needs a run id (outside a job, pass one)');
    return this.call('run.extend', { runId, jobs: await this.prepare(jobs) });
  }

  /** Hashes each job's script or archive and uploads those the master lacks. */
  private async prepare(input: JobLike[]): Promise<JobSpecInput[]> {
    const blobs = new Map<string, Buffer>();
    const jobs: JobSpecInput[] = [];
    const archives = new ArchiveLoader();
    for (const item of input) {
      const { archive, ...job } = 'toJob' in item ? item.toJob() : item;
      if (archive !== undefined) {
        if (job.script !== undefined) throw new BadRequestError(`job "${job.id}": give a script or an archive entry, not both`);
        const { name, content, sha256 } = await archives.load(archive);
        if (content) blobs.set(sha256, content);
        jobs.push({ ...job, script: undefined, archive: { name, sha256, entry: archive.entry } });
        continue;
      }
      if (job.script === undefined) {
        jobs.push({ ...job, script: undefined });
        continue;
      }
      const { name, content } = await loadScript(job.script);
      const sha256 = createHash('sha256').update(content).digest('hex');
      blobs.set(sha256, content);
      jobs.push({ ...job, script: { name, sha256 } });
    }
    await this.upload(blobs);
    return jobs;
  }

  // ---- agent runs ---------------------------------------------------------------------------

  async agentRuns(limit = 20): Promise<AgentRunSummary[]> {
    return (await this.call('agentRuns.list', { limit })).agentRuns;
  }

  agentRun(agentRunId: string): Promise<AgentRunView> {
    return this.call('agentRun.get', { agentRunId });
  }

  /** The agent run's stages, then each run that joins it or changes status, until closed. */
  async *followAgentRun(agentRunId: string): AsyncGenerator<{ type: 'snapshot'; view: AgentRunView } | { type: 'stage'; run: RunRecord }> {
    const sub = await this.subscribe('agentRun.watch', { agentRunId });
    try {
      yield { type: 'snapshot', view: sub.reply.snapshot };
      for (;;) {
        const [event, data] = await sub.next();
        if (event === 'agentRun.stage') yield { type: 'stage', run: (data as ClientEvents['agentRun.stage']).run };
      }
    } finally {
      sub.close();
    }
  }

  // ---- approval gates -----------------------------------------------------------------------

  /** Gates waiting for a decision, and the latest `history` decisions. */
  gates(history = 0): Promise<Results['gates.list']> {
    return this.call('gates.list', { history });
  }

  /**
   * Approves a gate: a native one (`runId/gateId` or a gate id), or a Titan-style one by its gate
   * id. The master records the decision under the name of this client's token.
   */
  approve(ref: string, options: { comment?: string } = {}): Promise<GateDecisionResult> {
    return this.call('gate.decide', { ref, approved: true, comment: options.comment ?? null });
  }

  reject(ref: string, options: { comment?: string } = {}): Promise<GateDecisionResult> {
    return this.call('gate.decide', { ref, approved: false, comment: options.comment ?? null });
  }

  /** Runs one script as a one-job run. */
  async runScript(script: ScriptSource, args: string[] = [], options: Omit<JobInput, 'script' | 'args' | 'id'> & { id?: string } = {}): Promise<{ runId: string; jobId: string }> {
    const name = typeof script === 'string' ? basename(script) : script.name;
    const id = options.id ?? (name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.-]+/, '') || 'job');
    const { runId } = await this.submit({ name, jobs: [{ ...options, id, script, args }] });
    return { runId, jobId: id };
  }

  /**
   * Stores a file on the master under `name`: in `uploads` (assets, project archives: Titan's
   * `upload_file`) or in `scripts`, the script library (Titan's `deploy_script`).
   */
  async putFile(area: FileAreaName, source: ScriptSource, name?: string): Promise<{ name: string; size: number }> {
    const file = await loadScript(source);
    const sha256 = createHash('sha256').update(file.content).digest('hex');
    await this.upload(new Map([[sha256, file.content]]));
    return this.call('files.put', { area, name: name ?? file.name, sha256 });
  }

  async listFiles(area: FileAreaName): Promise<FileInfo[]> {
    return (await this.call('files.list', { area })).files;
  }

  /** A file of `uploads` or `scripts`, whole. */
  async getFile(area: FileAreaName, name: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let offset = 0; ; ) {
      const chunk = await this.call('files.get', { area, name, offset });
      const data = Buffer.from(chunk.data, 'base64');
      parts.push(data);
      offset += data.length;
      if (offset >= chunk.size || data.length === 0) return Buffer.concat(parts);
    }
  }

  private async upload(blobs: Map<string, Buffer>): Promise<void> {
    if (blobs.size === 0) return;
    const { missing } = await this.call('blob.missing', { hashes: [...blobs.keys()] });
    for (const sha256 of missing) {
      const content = blobs.get(sha256) as Buffer;
      let offset = 0;
      do {
        const part = content.subarray(offset, offset + BLOB_CHUNK_BYTES);
        const final = offset + part.length >= content.length;
        await this.call('blob.put', { sha256, offset, data: part.toString('base64'), final });
        offset += part.length;
      } while (offset < content.length);
    }
  }

  // ---- queries and control --------------------------------------------------------------------

  getRun(runId: string): Promise<RunView> {
    return this.call('run.get', { runId });
  }

  /** The newest runs (one page; see runsPage for the pages after it). */
  async listRuns(options: { limit?: number; status?: RunRecord['status']; tag?: string } = {}): Promise<RunSummary[]> {
    return (await this.runsPage(options)).runs;
  }

  /** One page of runs, newest first; pass its `next` as `after` for the following page (null: no more). */
  runsPage(options: { limit?: number; status?: RunRecord['status']; tag?: string; after?: string } = {}): Promise<Results['runs.list']> {
    return this.call('runs.list', options);
  }

  getJob(ref: string): Promise<Results['job.get']> {
    return this.call('job.get', { ref });
  }

  async status(ref: string): Promise<JobStatus> {
    return (await this.getJob(ref)).job.status;
  }

  async cancel(ref: string): Promise<JobView> {
    return (await this.call('job.cancel', { ref })).job;
  }

  /** Runs a DEAD or CANCELLED job again in its run, with a fresh retry budget; what it skipped waits for it again. */
  async retryJob(ref: string): Promise<JobView> {
    return (await this.call('job.retry', { ref })).job;
  }

  /** Submits a run's jobs again as a new run. */
  rerun(runId: string): Promise<{ runId: string; jobs: string[] }> {
    return this.call('run.rerun', { runId });
  }

  /** Submits a DAG written in Titan's line format (`id|RUN_PAYLOAD|file|args|base64|req|prio|delay|[parents]`, joined by " ; "). */
  submitTitanDag(payload: string): Promise<{ runId: string; jobs: string[] }> {
    return this.call('dag.submit', { payload });
  }

  /**
   * Has the master parse and validate pipeline YAML (the CLI's parser): the pipeline with each
   * job's `file` as written, relative to the YAML's folder, left for the caller to read. An
   * invalid pipeline is a BadRequestError positioned in `path` (`pipeline.yaml:7:5: …`).
   */
  async parsePipeline(text: string, path?: string): Promise<PipelineDoc> {
    return (await this.call('pipeline.parse', { text, ...(path !== undefined && { path }) })).pipeline;
  }

  async cancelRun(runId: string): Promise<number> {
    return (await this.call('run.cancel', { runId })).cancelled;
  }

  /** Deletes a finished run with its logs and artifacts; false when there is no such run (CONFLICT while it runs). */
  async deleteRun(runId: string): Promise<boolean> {
    return (await this.call('run.delete', { runId })).deleted;
  }

  async workers(): Promise<WorkerView[]> {
    return (await this.call('workers.list', {})).workers;
  }

  async services(): Promise<ServiceView[]> {
    return (await this.call('services.list', {})).services;
  }

  /** Stops a service for good: it is not restarted. */
  async stopService(ref: string): Promise<JobView> {
    return (await this.call('service.stop', { ref })).job;
  }

  /** The worker finishes what it runs and takes no new work. */
  async drainWorker(id: string): Promise<WorkerView> {
    return (await this.call('worker.drain', { id })).worker;
  }

  /** A drained worker takes work again; ConflictError for one that is shutting down. */
  async undrainWorker(id: string): Promise<WorkerView> {
    return (await this.call('worker.undrain', { id })).worker;
  }

  /**
   * Drains the worker, then its process exits; a permanent worker needs `force`. What still runs
   * after `drainTimeoutMs` (default: the worker's --drain-timeout) is handed back and runs elsewhere.
   */
  async shutdownWorker(id: string, options: { force?: boolean; drainTimeoutMs?: number } = {}): Promise<WorkerView> {
    return (await this.call('worker.shutdown', { id, force: options.force ?? false, ...(options.drainTimeoutMs !== undefined && { drainTimeoutMs: options.drainTimeoutMs }) })).worker;
  }

  stats(): Promise<Stats> {
    return this.call('stats', {});
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
      const chunk: LogChunk = await this.call('logs.get', attempt === undefined ? { ref, offset } : { ref, attempt, offset });
      text += chunk.data;
      if (chunk.nextOffset === offset) return { attempt: chunk.attempt, data: text, ...gapsOf(chunk) };
      offset = chunk.nextOffset;
      attempt = chunk.attempt;
    }
  }

  /** What the master could not keep of an attempt's output (the latest by default), without its data. */
  async logGaps(ref: string, attempt?: number): Promise<Omit<LogOutput, 'data'>> {
    const chunk = await this.call('logs.get', attempt === undefined ? { ref, limit: 1 } : { ref, attempt, limit: 1 });
    return { attempt: chunk.attempt, ...gapsOf(chunk) };
  }

  /** Output as it is produced, across retries, until the job reaches a terminal status. */
  async *followLogs(ref: string): AsyncGenerator<{ attempt: number; data: string }, JobStatus> {
    const sub = await this.subscribe('logs.follow', { ref });
    try {
      for (;;) {
        const [event, data] = await sub.next();
        if (event === 'log.end') return (data as ClientEvents['log.end']).status;
        if (event === 'log') yield { attempt: (data as ClientEvents['log']).attempt, data: (data as ClientEvents['log']).data };
      }
    } finally {
      sub.close();
    }
  }

  /**
   * The run's state when the watch began, then every change until it finishes. With
   * `jobs: false` only the run's own updates come (the final state is then read once at the end).
   */
  async *watchRun(runId: string, options: { jobs?: boolean } = {}): AsyncGenerator<RunEvent, RunView> {
    const withJobs = options.jobs ?? true;
    const sub = await this.subscribe('run.watch', { runId, jobs: withJobs });
    try {
      const { snapshot } = sub.reply;
      yield { type: 'snapshot', view: snapshot };
      const jobs = new Map(snapshot.jobs.map((j) => [j.spec.id, j]));
      let run = snapshot.run;
      while (run.status === 'RUNNING') {
        const [event, data] = await sub.next();
        if (event === 'run.jobs') {
          for (const job of (data as ClientEvents['run.jobs']).jobs) {
            jobs.set(job.spec.id, job);
            yield { type: 'job', job };
          }
        } else if (event === 'run.update') {
          run = (data as ClientEvents['run.update']).run;
          yield { type: 'run', run };
        }
      }
      return withJobs ? { run, jobs: [...jobs.values()] } : await this.getRun(runId);
    } finally {
      sub.close();
    }
  }

  /**
   * Opens a subscription. Its events are keyed by the id of the request that opened it, so the
   * listener is in place before anything can arrive; they are queued until read.
   */
  private async subscribe<M extends 'logs.follow' | 'run.watch' | 'agentRun.watch'>(method: M, params: ParamsOf<M>): Promise<{ reply: Results[M]; next: () => Promise<[string, unknown]>; close: () => void }> {
    const peer = await this.connection();
    const queue: [string, unknown][] = [];
    let failure: Error | null = null;
    let wake: (() => void) | null = null;
    const { id, reply } = peer.begin<Results[M]>(method, params);
    this.listeners.set(id, (event, data) => {
      queue.push([event, data]);
      wake?.();
    });
    peer.onClose((err) => {
      failure = err;
      wake?.();
    });
    const close = (): void => {
      this.listeners.delete(id);
      if (!peer.closed) void peer.request('unsubscribe', { subscription: id }).catch(() => {});
    };
    let result: Results[M];
    try {
      result = await reply;
    } catch (err) {
      this.listeners.delete(id);
      throw typedError(err);
    }
    const next = async (): Promise<[string, unknown]> => {
      for (;;) {
        const item = queue.shift();
        if (item) return item;
        if (failure) throw typedError(failure);
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    };
    return { reply: result, next, close };
  }

  /**
   * Waits for the run to finish and returns its final state. A run with services finishes only
   * when they are stopped; with `untilServicesUp` the wait ends as soon as every other job has
   * ended and every service is up (or has ended), and returns the state at that moment.
   */
  async waitForRun(runId: string, onEvent?: (event: RunEvent) => void, options: { untilServicesUp?: boolean } = {}): Promise<RunView> {
    const early = options.untilServicesUp === true;
    const it = this.watchRun(runId, { jobs: onEvent !== undefined || early });
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

  /** Waits for one job to reach a terminal status. */
  async waitForJob(ref: string): Promise<JobView> {
    const { job } = await this.getJob(ref);
    if (isTerminal(job.status)) return job;
    // Returns as soon as this job ends, not when its whole run does.
    for await (const e of this.watchRun(job.runId)) {
      const seen = e.type === 'job' ? e.job : e.type === 'snapshot' ? e.view.jobs.find((j) => j.spec.id === job.spec.id) : undefined;
      if (seen && seen.spec.id === job.spec.id && isTerminal(seen.status)) return seen;
    }
    return (await this.getJob(job.ref)).job;
  }

  close(): void {
    const peer = this.peer;
    this.peer = null;
    void peer?.then((p) => p.close(), () => {});
  }

  // ---- the data bus: durable keys, sets and waiting for a change (docs/protocol.md) -------------

  /** A string key's value, or null when it is absent. */
  async get(key: string): Promise<string | null> {
    return (await this.call('kv.get', { key })).value;
  }

  /** The value with its version (0 when absent), to wait for the change after it. */
  getVersioned(key: string): Promise<KvEntry> {
    return this.call('kv.get', { key });
  }

  /** Sets a string value, optionally expiring after `ttlMs`; resolves with its new version once durable. */
  async set(key: string, value: string, options: { ttlMs?: number } = {}): Promise<number> {
    return (await this.call('kv.set', { key, value, ...options })).version;
  }

  /** True when the key existed. */
  async del(key: string): Promise<boolean> {
    return (await this.call('kv.del', { key })).deleted === 1;
  }

  /** Adds `by` to an integer value (absent counts as 0) and returns the result. */
  async incr(key: string, by = 1): Promise<number> {
    return (await this.call('kv.incr', { key, by })).value;
  }

  /** Sets `value` (null deletes) only if the key holds `expected` (null: is absent); true when it did. */
  async cas(key: string, expected: string | null, value: string | null, options: { ttlMs?: number } = {}): Promise<boolean> {
    return (await this.call('kv.cas', { key, expected, value, ...options })).swapped;
  }

  /** Returns how many of the members were not in the set yet. */
  async sadd(key: string, ...members: string[]): Promise<number> {
    return (await this.call('kv.sadd', { key, members })).added;
  }

  /** Returns how many of the members were in the set. */
  async srem(key: string, ...members: string[]): Promise<number> {
    return (await this.call('kv.srem', { key, members })).removed;
  }

  async smembers(key: string): Promise<string[]> {
    return (await this.call('kv.smembers', { key })).members;
  }

  async keys(prefix = '', options: { limit?: number } = {}): Promise<KvKeyInfo[]> {
    return (await this.call('kv.keys', { prefix, ...options })).keys;
  }

  /**
   * Resolves at the key's next change, or at once if its version is no longer `sinceVersion`;
   * `changed: false` when `timeoutMs` (default 60 s) passed first. The master wakes the waiter.
   */
  waitForKey(key: string, options: { sinceVersion?: number; timeoutMs?: number } = {}): Promise<KvWaitResult> {
    return this.call('kv.wait', { key, timeoutMs: options.timeoutMs ?? 60_000, ...(options.sinceVersion !== undefined && { sinceVersion: options.sinceVersion }) });
  }

  /** Titan's name for set. */
  storePut(key: string, value: string): Promise<number> {
    return this.set(key, value);
  }

  /** Titan's name for get. */
  storeGet(key: string): Promise<string | null> {
    return this.get(key);
  }

  // ---- artifacts: files kept on the master ----------------------------------------------------------

  /** Uploads a local file (by path) or content under `key`; inside a job it is recorded as the attempt's. */
  publishArtifact(key: string, source: ArtifactSource): Promise<ArtifactInfo> {
    return uploadArtifact((m, p) => this.call(m, p), key, source, provenanceFromEnv());
  }

  /** The whole content, checked against its sha256. */
  async getArtifact(key: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    await this.readArtifact(key, (chunk) => void parts.push(chunk));
    return Buffer.concat(parts);
  }

  /** Streams the content to `destPath`, which appears only once the sha256 matched. */
  fetchArtifact(key: string, destPath: string): Promise<ArtifactInfo> {
    return fetchToFile((m, p) => this.call(m, p), key, destPath);
  }

  /** Streams the content chunk by chunk, in order; rejects at the end if the sha256 does not match. */
  readArtifact(key: string, onChunk: (chunk: Buffer) => Promise<void> | void): Promise<ArtifactInfo> {
    return downloadArtifact((m, p) => this.call(m, p), key, onChunk);
  }

  async listArtifacts(options: { prefix?: string; runId?: string; limit?: number } = {}): Promise<ArtifactInfo[]> {
    return (await this.call('artifact.list', options)).artifacts;
  }

  /** True when the key existed. */
  async deleteArtifact(key: string): Promise<boolean> {
    return (await this.call('artifact.delete', { key })).deleted;
  }

  // ---- transport --------------------------------------------------------------------------------

  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]> {
    return this.connection()
      .then((peer) => peer.request<Results[M]>(method, params))
      .catch((err: unknown) => {
        throw typedError(err);
      });
  }

  private connection(): Promise<Peer> {
    if (!this.peer) {
      this.peer = this.open();
      this.peer.catch(() => (this.peer = null));
    }
    return this.peer;
  }

  private open(): Promise<Peer> {
    const { host, port, token } = defaultAddress(this.options);
    const tls = this.options.tls ?? tlsFromEnvironment();
    const address = `${host}:${port}`;
    const explain = (err: Error, connected: boolean): ConnectFailure | null => explainConnectFailure(err, address, { tls: tls !== false, connected });
    return new Promise<Peer>((resolve, reject) => {
      const { socket, ready } = dial(host, port, tls);
      const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
      let connected = false;
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new UnavailableError(explain(err, connected)?.message ?? `cannot reach the master at ${address}: ${err.message}`, err));
      });
      socket.once(ready, () => {
        clearTimeout(timer);
        connected = true;
        const peer = new Peer(socket, { server: false });
        peer.onEvent = (event, data) => {
          const sub = (data as { subscription?: number } | undefined)?.subscription;
          if (sub !== undefined) this.listeners.get(sub)?.(event, data);
        };
        peer.onClose(() => {
          if (this.peer && this.current === peer) this.peer = null;
        });
        peer.hello({ token, role: 'client', versions: [2] }).then(
          () => {
            this.current = peer;
            resolve(peer);
          },
          (err: Error) => {
            const words = explain(err, true);
            reject(words ? new UnavailableError(words.message, err) : typedError(err));
          },
        );
      });
    });
  }

  private current: Peer | null = null;
}

/** TLS as TITAN_TLS/TITAN_CA/TITAN_CERT/TITAN_KEY say (false when unset); a bad file is a BadRequestError naming it. */
function tlsFromEnvironment(): TlsSetting {
  const { enabled, files } = tlsFilesFromEnv();
  try {
    return tlsFromFiles(files, enabled) ?? false;
  } catch (err) {
    throw new BadRequestError(`TITAN_TLS/TITAN_CA/TITAN_CERT/TITAN_KEY: ${(err as Error).message}`);
  }
}

/** A job that has ended, or a service that is up. */
const isSettled = (j: JobView): boolean => isTerminal(j.status) || (j.service !== null && j.status === 'RUNNING' && j.service.readyAt !== null);

async function loadScript(source: ScriptSource): Promise<{ name: string; content: Buffer }> {
  if (typeof source !== 'string') return { name: source.name, content: Buffer.from(source.content) };
  try {
    return { name: basename(source), content: await readFile(source) };
  } catch (err) {
    throw new BadRequestError(`cannot read script ${source}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}
