/**
 * One dispatched attempt from arrival to report: its code staged (fetched into the cache, an
 * archive unpacked), its folders laid out for the job's user, its environment made, the process
 * run by the executor, its outputs published, and its result handed to the outbox.
 */
import { dirname, join } from 'node:path';
import { attemptName, type Dispatch } from '../protocol/methods.js';
import type { Peer } from '../protocol/peer.js';
import { type Attempt, type AttemptResult, type Attempts, asReported, attemptIdOf } from './attempts.js';
import { JobEnvironment } from './job-env.js';
import { type JobOwner, JobFiles } from './job-files.js';
import type { Outbox } from './outbox.js';
import type { OutputBatcher } from './output-batcher.js';
import { publishOutputs } from './outputs.js';
import { ServiceRunner } from './service-runner.js';
import { Stager, unpack } from './staging.js';
import type { WorkerConfig } from './worker-config.js';

export interface RunnerParts {
  attempts: Attempts;
  outbox: Pick<Outbox, 'add'>;
  logs: Pick<OutputBatcher, 'push'>;
  /** The session: the current one, the next one, and the id the master gave this worker. */
  link: { readonly peer: Peer | null; readonly workerId: string | null; session(): Promise<Peer | null> };
  /** This worker's host. */
  host: string;
}

type RunnerConfig = Pick<WorkerConfig, 'masters' | 'tls' | 'tlsFiles' | 'jobs' | 'workDir' | 'executor'>;

/** An attempt's folders: its run's, its own (where it starts), and the outputs folder inside its own. */
export function attemptDirs(workDir: string, d: Pick<Dispatch, 'runId' | 'jobId' | 'attempt'>): { runDir: string; attemptDir: string; outputDir: string } {
  const runDir = join(workDir, 'runs', d.runId);
  const attemptDir = join(runDir, `${d.jobId}.${d.attempt}`);
  return { runDir, attemptDir, outputDir: join(attemptDir, 'out') };
}

export class AttemptRunner {
  private readonly files: JobFiles;
  private readonly jobEnv: JobEnvironment;
  private readonly stager: Stager;
  readonly services: ServiceRunner;

  constructor(
    private readonly config: RunnerConfig,
    private readonly owner: JobOwner,
    private readonly parts: RunnerParts,
  ) {
    const jobs = config.jobs ?? { user: null, passEnv: [] };
    this.files = new JobFiles(owner);
    this.jobEnv = new JobEnvironment(config.masters, config.tls ? (config.tlsFiles ?? {}) : null, jobs);
    this.stager = new Stager(join(config.workDir, 'cache'), () => parts.link.session());
    this.services = new ServiceRunner({
      executor: config.executor,
      attempts: parts.attempts,
      link: parts.link,
      host: parts.host,
      output: (attempt, chunk, stream) => parts.logs.push(attempt, chunk, stream),
      finish: (attempt, result) => this.finish(attempt, result),
    });
  }

  async run(d: Dispatch): Promise<void> {
    const arrivedAt = performance.now();
    const source = d.script ?? d.archive;
    const attempt = this.parts.attempts.hold(attemptIdOf(d), source?.sha256 ?? null);
    if (!source) return this.finish(attempt, { outcome: 'FAILED', exitCode: null, error: 'the dispatch names neither a script nor an archive', errorCode: 'BAD_REQUEST' });
    let scriptPath: string;
    let sharedDir: string;
    let payloadPath: string | null = null;
    const { runDir, attemptDir, outputDir } = attemptDirs(this.config.workDir, d);
    try {
      scriptPath = await this.stager.stage(source);
      // The run's payload is content-addressed like its code: cached once, read by each attempt.
      if (d.payload) payloadPath = await this.stager.stage(d.payload);
      sharedDir = this.files.sharedDir(runDir);
      const folders = this.config.executor.folders;
      if (folders) this.files.attemptDir(attemptDir, outputDir);
      // Unpacked beside out/ (never into it), and run from the entry's own folder as Titan does.
      const unpacked = d.archive ? unpack(d.archive, scriptPath, join(attemptDir, 'archive')) : { scriptPath };
      // Last: while the worker writes in the folder, nothing there is the job user's.
      if (folders) this.files.handOver(attemptDir);
      if ('error' in unpacked) return this.finish(attempt, { outcome: 'FAILED', exitCode: null, ...unpacked });
      scriptPath = unpacked.scriptPath;
    } catch (err) {
      this.finish(attempt, { outcome: 'FAILED', exitCode: null, error: `could not stage ${source.name}: ${(err as Error).message}`, errorCode: 'STAGING' });
      return;
    }
    const cwd = d.archive ? dirname(scriptPath) : attemptDir;
    // Ended while its code was being fetched (handed back, cancelled): it never starts.
    if (attempt.ended) return this.finish(attempt, { outcome: 'FAILED', exitCode: null, error: `not started: ${attempt.ended.reason}`, errorCode: null });
    const env = this.jobEnv.for(d, { shared: sharedDir, output: outputDir, payload: payloadPath }, this.parts.link.workerId);
    const req = { key: attemptName(attempt.id), scriptPath, args: d.args, cwd, env, ...(this.owner && { user: this.owner }) };
    if (d.service) {
      await this.services.run(attempt, d.service, req);
      return;
    }
    const { logs, link } = this.parts;
    const running = this.config.executor.start({ ...req, timeoutMs: d.timeoutMs }, (chunk, stream) => logs.push(attempt, chunk, stream));
    attempt.running = running;
    // Reported with the result, so the master can tell staging from running without a message more per attempt.
    const stagedMs = running.pid === null ? undefined : Math.round(performance.now() - arrivedAt);
    const result = asReported(attempt, { ...(await running.done), ...(stagedMs !== undefined && { stagedMs }) });
    // Before the result, so a finished job's outputs are already on the master. A process that
    // never started (pid null) wrote nothing; one handed back unfinished runs again, and the
    // attempt that finishes it publishes (nor does it wait for a master that may be unreachable).
    if (running.pid !== null && result.outcome !== 'LOST') await publishOutputs(attempt.id, outputDir, this.owner, () => link.session(), (line) => logs.push(attempt, line));
    this.finish(attempt, result);
  }

  /** The attempt ended: it is let go, and its result (LOST if handed back unfinished) is kept until the master acknowledges it. */
  finish(attempt: Attempt, result: AttemptResult): void {
    this.parts.attempts.release(attempt);
    this.parts.outbox.add({ ...attempt.id, ...asReported(attempt, result) }, attempt.output);
  }
}
