/**
 * TitanClient: the TypeScript SDK. Its sub-clients group the master's methods by concept
 * (`client.run.submit(...)`, `client.store.get(...)`), all over one persistent v2 connection,
 * opened on first use. Host, port and token come from the constructor or, at call time, from
 * TITAN_HOST, TITAN_PORT and TITAN_TOKEN, so the same code works on a laptop and inside a job.
 *
 * The flat methods (`client.submit`, `client.getRun`, ...) are kept for compatibility: each one
 * delegates to its sub-client with the same signature.
 */
import type { ArtifactInfo, KvEntry, KvKeyInfo } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import type { AgentRunSummary, JobStatus, RunRecord } from '../core/model.js';
import type { PipelineDoc, PipelineJob } from '../core/pipeline-yaml.js';
import type { ScheduleSpecInput, ScheduleView } from '../core/schedule.js';
import type { ArtifactSource } from '../protocol/artifact-transfer.js';
import type { KvWaitResult } from '../protocol/data-bus-methods.js';
import type { AgentRunView, FileAreaName, FileInfo, GateDecisionResult, JobView, Method, ParamsOf, Results, RunSummary, RunView, ServiceView, Stats, SubmitResult, WorkerView } from '../protocol/methods.js';
import type { TlsClientOptions, TlsSetting } from '../protocol/tls-dial.js';
import { AgentRunClient } from './agent-runs.js';
import type { ArchiveSource } from './archive-source.js';
import { ArtifactClient } from './artifacts.js';
import { type ClientOptions, Connection, type Transport } from './connection.js';
import { FileClient } from './files.js';
import { GateClient } from './gates.js';
import type { JobInput, JobLike, RunInput, ScriptSource } from './job-input.js';
import { JobClient, type LogOutput } from './jobs.js';
import { LimitClient } from './limits.js';
import { NotificationClient } from './notifications.js';
import { type RunEvent, RunClient } from './runs.js';
import { ScheduleClient } from './schedules.js';
import { TriggerClient } from './triggers.js';
import { ServiceClient } from './services.js';
import { StoreClient } from './store.js';
import { WorkerClient } from './workers.js';

export { TitanError };
export { defaultAddress } from './connection.js';
export type { ArchiveSource, ClientOptions, JobInput, JobLike, LogOutput, PipelineDoc, PipelineJob, RunEvent, RunInput, ScriptSource, TlsClientOptions, TlsSetting };

export class TitanClient {
  private readonly connection: Connection;
  /** Submitting runs, reading and controlling them, waiting for their end. */
  readonly run: RunClient;
  /** One job: state, control, output. */
  readonly job: JobClient;
  /** Approval gates. */
  readonly gate: GateClient;
  /** The connected workers. */
  readonly worker: WorkerClient;
  /** Service jobs. */
  readonly service: ServiceClient;
  /** Cron schedules. */
  readonly schedule: ScheduleClient;
  /** Pipelines started by requests to /hooks/NAME. */
  readonly trigger: TriggerClient;
  /** Agent runs. */
  readonly agent: AgentRunClient;
  /** The data bus's keys (Titan's name "store"): strings, sets, waiting for a change. */
  readonly store: StoreClient;
  /** Artifacts, kept on the master by key. */
  readonly artifact: ArtifactClient;
  /** The master's `uploads` and `scripts` file areas. */
  readonly file: FileClient;
  /** The cluster's flow limits on keys, and what each key holds and keeps waiting. */
  readonly limits: LimitClient;
  /** The cluster's notification URLs, the signing key's secret, and the recorded deliveries. */
  readonly notifications: NotificationClient;

  constructor(options: ClientOptions = {}) {
    this.connection = new Connection(options);
    // Requests go through `call`, so what wraps or observes it sees every sub-client's requests.
    const transport: Transport = {
      call: (method, params) => this.call(method, params),
      resend: (method, params) => this.connection.resend(method, params),
      subscribe: (method, params) => this.connection.subscribe(method, params),
    };
    this.run = new RunClient(transport);
    this.job = new JobClient(transport, this.run);
    this.gate = new GateClient(transport);
    this.worker = new WorkerClient(transport);
    this.service = new ServiceClient(transport);
    this.schedule = new ScheduleClient(transport);
    this.trigger = new TriggerClient(transport);
    this.agent = new AgentRunClient(transport);
    this.store = new StoreClient(transport);
    this.artifact = new ArtifactClient(transport);
    this.file = new FileClient(transport);
    this.limits = new LimitClient(transport);
    this.notifications = new NotificationClient(transport);
  }

  /** Sends one request (any method of docs/protocol.md) and resolves with its result. */
  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]> {
    return this.connection.call(method, params);
  }

  /** The master's counters: workers, queue, runs. */
  stats(): Promise<Stats> {
    return this.call('stats', {});
  }

  close(): void {
    this.connection.close();
  }

  // ---- kept for compatibility: the flat names, each delegating to its sub-client ----------------

  /** `run.submit`. */
  submit(input: Omit<RunInput, 'jobs'> & { jobs: JobLike[] }): Promise<SubmitResult> {
    return this.run.submit(input);
  }

  /** `run.runScript`. */
  runScript(script: ScriptSource, args: string[] = [], options: Omit<JobInput, 'script' | 'args' | 'id'> & { id?: string } = {}): Promise<{ runId: string; jobId: string }> {
    return this.run.runScript(script, args, options);
  }

  /** `run.submitTitanDag`. */
  submitTitanDag(payload: string): Promise<{ runId: string; jobs: string[] }> {
    return this.run.submitTitanDag(payload);
  }

  /** `run.parsePipeline`. */
  parsePipeline(text: string, path?: string): Promise<PipelineDoc> {
    return this.run.parsePipeline(text, path);
  }

  /** `run.extend`. */
  extendRun(jobs: JobLike[], runId: string | undefined = process.env.TITAN_RUN_ID): Promise<{ runId: string; jobs: string[] }> {
    return this.run.extend(jobs, runId);
  }

  /** `run.get`. */
  getRun(runId: string): Promise<RunView> {
    return this.run.get(runId);
  }

  /** `run.list`. */
  listRuns(options: { limit?: number; status?: RunRecord['status']; tag?: string } = {}): Promise<RunSummary[]> {
    return this.run.list(options);
  }

  /** `run.page`. */
  runsPage(options: { limit?: number; status?: RunRecord['status']; tag?: string; after?: string } = {}): Promise<Results['runs.list']> {
    return this.run.page(options);
  }

  /** `run.cancel`. */
  cancelRun(runId: string): Promise<number> {
    return this.run.cancel(runId);
  }

  /** `run.delete`. */
  deleteRun(runId: string): Promise<boolean> {
    return this.run.delete(runId);
  }

  /** `run.rerun`. */
  rerun(runId: string): Promise<{ runId: string; jobs: string[] }> {
    return this.run.rerun(runId);
  }

  /** `run.watch`. */
  watchRun(runId: string, options: { jobs?: boolean } = {}): AsyncGenerator<RunEvent, RunView> {
    return this.run.watch(runId, options);
  }

  /** `run.wait`. */
  waitForRun(runId: string, onEvent?: (event: RunEvent) => void, options: { untilServicesUp?: boolean } = {}): Promise<RunView> {
    return this.run.wait(runId, onEvent, options);
  }

  /** `job.get`. */
  getJob(ref: string): Promise<Results['job.get']> {
    return this.job.get(ref);
  }

  /** `job.status`. */
  status(ref: string): Promise<JobStatus> {
    return this.job.status(ref);
  }

  /** `job.cancel`. */
  cancel(ref: string): Promise<JobView> {
    return this.job.cancel(ref);
  }

  /** `job.retry`. */
  retryJob(ref: string): Promise<JobView> {
    return this.job.retry(ref);
  }

  /** `job.logs`. */
  logs(ref: string, attempt?: number): Promise<string> {
    return this.job.logs(ref, attempt);
  }

  /** `job.readLogs`. */
  readLogs(ref: string, attempt?: number): Promise<LogOutput> {
    return this.job.readLogs(ref, attempt);
  }

  /** `job.logGaps`. */
  logGaps(ref: string, attempt?: number): Promise<Omit<LogOutput, 'data'>> {
    return this.job.logGaps(ref, attempt);
  }

  /** `job.follow`. */
  followLogs(ref: string): AsyncGenerator<{ attempt: number; data: string }, JobStatus> {
    return this.job.follow(ref);
  }

  /** `job.wait`. */
  waitForJob(ref: string): Promise<JobView> {
    return this.job.wait(ref);
  }

  /** `gate.list`. */
  gates(history = 0): Promise<Results['gates.list']> {
    return this.gate.list(history);
  }

  /** `gate.approve`. */
  approve(ref: string, options: { comment?: string } = {}): Promise<GateDecisionResult> {
    return this.gate.approve(ref, options);
  }

  /** `gate.reject`. */
  reject(ref: string, options: { comment?: string } = {}): Promise<GateDecisionResult> {
    return this.gate.reject(ref, options);
  }

  /** `worker.list`. */
  workers(): Promise<WorkerView[]> {
    return this.worker.list();
  }

  /** `worker.drain`. */
  drainWorker(id: string): Promise<WorkerView> {
    return this.worker.drain(id);
  }

  /** `worker.undrain`. */
  undrainWorker(id: string): Promise<WorkerView> {
    return this.worker.undrain(id);
  }

  /** `worker.shutdown`. */
  shutdownWorker(id: string, options: { force?: boolean; drainTimeoutMs?: number } = {}): Promise<WorkerView> {
    return this.worker.shutdown(id, options);
  }

  /** `service.list`. */
  services(): Promise<ServiceView[]> {
    return this.service.list();
  }

  /** `service.stop`. */
  stopService(ref: string): Promise<JobView> {
    return this.service.stop(ref);
  }

  /** `schedule.put`. */
  putSchedule(name: string, schedule: ScheduleSpecInput, run: RunInput): Promise<{ schedule: ScheduleView; created: boolean }> {
    return this.schedule.put(name, schedule, run);
  }

  /** `schedule.list`. */
  schedules(): Promise<ScheduleView[]> {
    return this.schedule.list();
  }

  /** `schedule.pause`. */
  pauseSchedule(name: string): Promise<ScheduleView> {
    return this.schedule.pause(name);
  }

  /** `schedule.resume`. */
  resumeSchedule(name: string): Promise<ScheduleView> {
    return this.schedule.resume(name);
  }

  /** `schedule.delete`. */
  deleteSchedule(name: string): Promise<ScheduleView> {
    return this.schedule.delete(name);
  }

  /** `schedule.runNow`. */
  runScheduleNow(name: string): Promise<{ runId: string; schedule: ScheduleView }> {
    return this.schedule.runNow(name);
  }

  /** `agent.list`. */
  agentRuns(limit = 20): Promise<AgentRunSummary[]> {
    return this.agent.list(limit);
  }

  /** `agent.get`. */
  agentRun(agentRunId: string): Promise<AgentRunView> {
    return this.agent.get(agentRunId);
  }

  /** `agent.follow`. */
  followAgentRun(agentRunId: string): AsyncGenerator<{ type: 'snapshot'; view: AgentRunView } | { type: 'stage'; run: RunRecord }> {
    return this.agent.follow(agentRunId);
  }

  /** `store.get`. */
  get(key: string): Promise<string | null> {
    return this.store.get(key);
  }

  /** `store.getVersioned`. */
  getVersioned(key: string): Promise<KvEntry> {
    return this.store.getVersioned(key);
  }

  /** `store.set`. */
  set(key: string, value: string, options: { ttlMs?: number } = {}): Promise<number> {
    return this.store.set(key, value, options);
  }

  /** `store.del`. */
  del(key: string): Promise<boolean> {
    return this.store.del(key);
  }

  /** `store.incr`. */
  incr(key: string, by = 1): Promise<number> {
    return this.store.incr(key, by);
  }

  /** `store.cas`. */
  cas(key: string, expected: string | null, value: string | null, options: { ttlMs?: number } = {}): Promise<boolean> {
    return this.store.cas(key, expected, value, options);
  }

  /** `store.sadd`. */
  sadd(key: string, ...members: string[]): Promise<number> {
    return this.store.sadd(key, ...members);
  }

  /** `store.srem`. */
  srem(key: string, ...members: string[]): Promise<number> {
    return this.store.srem(key, ...members);
  }

  /** `store.smembers`. */
  smembers(key: string): Promise<string[]> {
    return this.store.smembers(key);
  }

  /** `store.keys`. */
  keys(prefix = '', options: { limit?: number } = {}): Promise<KvKeyInfo[]> {
    return this.store.keys(prefix, options);
  }

  /** `store.wait`. */
  waitForKey(key: string, options: { sinceVersion?: number; timeoutMs?: number } = {}): Promise<KvWaitResult> {
    return this.store.wait(key, options);
  }

  /** Titan's name for `store.set`. */
  storePut(key: string, value: string): Promise<number> {
    return this.store.set(key, value);
  }

  /** Titan's name for `store.get`. */
  storeGet(key: string): Promise<string | null> {
    return this.store.get(key);
  }

  /** `artifact.publish`. */
  publishArtifact(key: string, source: ArtifactSource): Promise<ArtifactInfo> {
    return this.artifact.publish(key, source);
  }

  /** `artifact.get`. */
  getArtifact(key: string): Promise<Buffer> {
    return this.artifact.get(key);
  }

  /** `artifact.fetch`. */
  fetchArtifact(key: string, destPath: string): Promise<ArtifactInfo> {
    return this.artifact.fetch(key, destPath);
  }

  /** `artifact.read`. */
  readArtifact(key: string, onChunk: (chunk: Buffer) => Promise<void> | void): Promise<ArtifactInfo> {
    return this.artifact.read(key, onChunk);
  }

  /** `artifact.list`. */
  listArtifacts(options: { prefix?: string; runId?: string; limit?: number } = {}): Promise<ArtifactInfo[]> {
    return this.artifact.list(options);
  }

  /** `artifact.delete`. */
  deleteArtifact(key: string): Promise<boolean> {
    return this.artifact.delete(key);
  }

  /** `file.put`. */
  putFile(area: FileAreaName, source: ScriptSource, name?: string): Promise<{ name: string; size: number }> {
    return this.file.put(area, source, name);
  }

  /** `file.list`. */
  listFiles(area: FileAreaName): Promise<FileInfo[]> {
    return this.file.list(area);
  }

  /** `file.get`. */
  getFile(area: FileAreaName, name: string): Promise<Buffer> {
    return this.file.get(area, name);
  }
}
