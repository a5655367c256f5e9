/**
 * Pipeline YAML sent to the master (`pipeline.parse`, the constructor's import and deploy) is
 * parsed on one worker thread, one text at a time: the event loop stays free whatever the text,
 * a parse that runs too long or too big is stopped (the thread is replaced), and a queue with a
 * bound keeps a flood of texts from piling up.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TitanError } from '../core/errors.js';
import type { PipelineYamlSource } from '../core/pipeline-yaml.js';

export interface ParseRequest {
  id: number;
  text: string;
  path: string;
}

/** `ready` once the thread has loaded (its start-up is not counted against a parse), then one reply per request. */
export type ParseReply = { ready: true } | { id: number; source: PipelineYamlSource } | { id: number; error: { code: string; message: string } };

export interface ParserLimits {
  /** A parse taking longer is stopped with BAD_REQUEST. */
  timeoutMs: number;
  /** The thread's heap; a text that needs more is refused. */
  heapMb: number;
  /** Texts waiting behind the one being parsed; more are refused with UNAVAILABLE. */
  queue: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = { timeoutMs: 10_000, heapMb: 512, queue: 16 };

interface Job extends ParseRequest {
  resolve(source: PipelineYamlSource): void;
  reject(err: Error): void;
}

/** The thread's module beside this one: compiled `.js` under dist, else the `.ts` source loaded through tsx. */
function startThread(heapMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: heapMb };
  const js = new URL('./pipeline-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { resourceLimits });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const ts = new URL('./pipeline-thread.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(boot, { eval: true, resourceLimits });
}

export class PipelineParser {
  private thread: Worker | null = null;
  private ready = false;
  private current: Job | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly waiting: Job[] = [];
  private seq = 0;
  private closed = false;

  constructor(private readonly limits: ParserLimits = DEFAULT_PARSER_LIMITS) {}

  read(text: string, path: string): Promise<PipelineYamlSource> {
    if (this.closed) return Promise.reject(new TitanError('UNAVAILABLE', 'the master is stopping'));
    if (this.waiting.length >= this.limits.queue) return Promise.reject(new TitanError('UNAVAILABLE', `${this.limits.queue} pipelines are already waiting to be parsed; try again shortly`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ id: ++this.seq, text, path, resolve, reject });
      this.next();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const stopping = new TitanError('UNAVAILABLE', 'the master is stopping');
    for (const job of this.waiting.splice(0)) job.reject(stopping);
    this.finish(null, stopping);
    await this.stopThread();
  }

  private next(): void {
    if (this.current || this.waiting.length === 0) return;
    if (!this.thread) this.startThread();
    if (!this.ready) return;
    const job = this.waiting.shift() as Job;
    this.current = job;
    this.timer = setTimeout(() => {
      this.finish(null, new TitanError('BAD_REQUEST', `${job.path}: parsing took longer than ${this.limits.timeoutMs / 1000} s; the pipeline is too large or too deeply nested`));
      void this.stopThread().then(() => this.next());
    }, this.limits.timeoutMs);
    this.thread?.postMessage({ id: job.id, text: job.text, path: job.path } satisfies ParseRequest);
  }

  private startThread(): void {
    const thread = startThread(this.limits.heapMb);
    thread.unref();
    thread.on('message', (reply: ParseReply) => {
      if ('ready' in reply) {
        this.ready = true;
        this.next();
        return;
      }
      if (reply.id !== this.current?.id) return;
      if ('source' in reply) this.finish(reply.source, null);
      else this.finish(null, new TitanError(reply.error.code, reply.error.message));
      this.next();
    });
    // Out of memory (or any crash) ends the thread: the text it was on is refused, the next gets a new thread.
    const lost = (why: string): void => {
      if (this.thread !== thread) return;
      this.thread = null;
      this.ready = false;
      const job = this.current;
      if (job) this.finish(null, new TitanError('BAD_REQUEST', `${job.path}: the pipeline could not be parsed within the parser's limits (${why})`));
      // A thread that cannot even start would fail every text: refuse what waits rather than loop.
      else for (const waiting of this.waiting.splice(0)) waiting.reject(new TitanError('UNAVAILABLE', `the pipeline parser could not start: ${why}`));
      this.next();
    };
    thread.on('error', (err) => lost(err.message));
    thread.on('exit', (code) => lost(`exit code ${code}`));
    this.thread = thread;
  }

  private finish(source: PipelineYamlSource | null, err: Error | null): void {
    const job = this.current;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.current = null;
    if (!job) return;
    if (source) job.resolve(source);
    else job.reject(err ?? new Error('no result'));
  }

  private async stopThread(): Promise<void> {
    const thread = this.thread;
    this.thread = null;
    this.ready = false;
    await thread?.terminate();
  }
}
