/**
 * Live updates over server-sent events.
 *
 * `GET /api/events`: the cluster feed (`jobs`, `run`, `workers`, `stats`, and a `: ping` comment
 * every 15 s). `GET /api/runs/:runId/jobs/:jobId/logs/stream`: one job's output (`log` events,
 * each with `stream: 'stderr'` when the job wrote it to stderr, then `end`). Each connection buffers a bounded amount: a client that falls further behind is
 * disconnected (EventSource reconnects and the dashboard reloads what it shows), so a slow
 * browser never makes the master hold unbounded memory. Streams end when the session that opened
 * them signs out or expires, and when the server closes.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JobStatus } from '../core/model.js';
import type { OutputStream } from '../core/output-streams.js';
import type { Master } from '../master/master.js';
import { checkParams } from './commands/table.js';
import type { JobView } from '../protocol/methods.js';
import type { SessionStore } from './http-sessions.js';
import { hideEnv } from '../protocol/access.js';
import { ISSUES, principalOf, readsOnly, refOf, sessionIdOf } from './http-common.js';
import type { Gatekeeper } from './gatekeeper.js';

/** Bytes a connection may have queued before it is dropped. */
/** A `log` event: stdout is the default and is not named. */
function logEvent(attempt: number, data: string, stream: OutputStream): { attempt: number; data: string; stream?: 'stderr' } {
  return stream === 'stderr' ? { attempt, data, stream } : { attempt, data };
}

export const EVENTS_BUFFER_LIMIT = 8 * 1024 * 1024;
export const LOG_BUFFER_LIMIT = 8 * 1024 * 1024;
/** A log stream starts with at most this much of the output written before it connected (as sent, JSON-escaped). */
export const LOG_BACKLOG_BYTES = 4 * 1024 * 1024;
/** Jobs per `jobs` event: a large commit arrives as several events of bounded size. */
export const JOBS_PER_EVENT = 500;
/** A commit changing more jobs of one run than this is announced by `resync` instead of sent. */
export const JOBS_INLINE_MAX = 2000;
export const WORKERS_COALESCE_MS = 500;
export const STATS_EVERY_MS = 5_000;
export const PING_EVERY_MS = 15_000;

/** One open event stream on a raw response. */
export class SseStream {
  private closed = false;
  private readonly closers = new Set<() => void>();

  constructor(
    private readonly res: ServerResponse,
    private readonly limit: number,
  ) {
    res.on('close', () => this.finish());
    // The client may have gone before the stream started: then no close event will come.
    if (res.destroyed || res.socket?.destroyed === true) this.finish();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Writes one event; drops the connection if the client has fallen too far behind. */
  send(event: string, data: unknown): void {
    this.sendEncoded(event, JSON.stringify(data));
  }

  /** send(), for data already encoded as JSON (once for many streams). */
  sendEncoded(event: string, json: string): void {
    this.write(`event: ${event}\ndata: ${json}\n\n`);
  }

  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closers.add(fn);
  }

  /** Ends the stream normally (what was written is still delivered). */
  end(): void {
    if (this.closed) return;
    this.res.end();
    this.finish();
  }

  private write(chunk: string): void {
    if (this.closed) return;
    if (this.res.writableLength > this.limit) {
      this.res.destroy();
      this.finish();
      return;
    }
    this.res.write(chunk);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fn of this.closers) fn();
    this.closers.clear();
  }
}

/** Every open stream, so that closing the server ends them instead of waiting for them. */
export class SseStreams {
  private readonly open = new Set<SseStream>();

  constructor(
    private readonly sessions: SessionStore,
    private readonly gate: Gatekeeper,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Takes the response over from fastify and starts an event stream on it. */
  start(req: FastifyRequest, reply: FastifyReply, limit: number): SseStream {
    reply.hijack();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) if (typeof value === 'string') headers[name] = value;
    reply.raw.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies that buffer responses (nginx) pass this one through as it is written.
      'x-accel-buffering': 'no',
    });
    reply.raw.flushHeaders();
    const stream = new SseStream(reply.raw, limit);
    this.open.add(stream);
    stream.onClose(() => this.open.delete(stream));
    const sessionId = sessionIdOf(req);
    if (sessionId !== undefined) {
      const stop = this.sessions.onEnd(sessionId, () => stream.end());
      stream.onClose(stop);
    }
    // A revoked token or removed user stops listening at once, and its session ends.
    stream.onClose(
      this.gate.watch(principalOf(req), () => {
        if (sessionId !== undefined) this.sessions.end(sessionId);
        stream.end();
      }),
    );
    // Reconnect after 3 s rather than the browser's default.
    reply.raw.write('retry: 3000\n\n');
    return stream;
  }

  endAll(): void {
    for (const stream of [...this.open]) stream.end();
  }
}

/**
 * The periodic part of every cluster feed on one pair of timers: the stats are computed and
 * encoded once per tick however many streams are open, and the timers run only while one is.
 */
export class FeedTicker {
  private readonly feeds = new Set<SseStream>();
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly master: Master) {}

  add(stream: SseStream): void {
    this.feeds.add(stream);
    if (this.feeds.size === 1) {
      this.timers = [
        setInterval(() => this.broadcast('stats', JSON.stringify(this.master.stats())), STATS_EVERY_MS),
        setInterval(() => {
          for (const s of this.feeds) s.comment('ping');
        }, PING_EVERY_MS),
      ];
    }
    stream.onClose(() => {
      this.feeds.delete(stream);
      if (this.feeds.size > 0) return;
      for (const t of this.timers) clearInterval(t);
      this.timers = [];
    });
  }

  private broadcast(event: string, json: string): void {
    for (const s of this.feeds) s.sendEncoded(event, json);
  }
}

export function registerEventRoutes(app: FastifyInstance, master: Master, streams: SseStreams): void {
  const ticker = new FeedTicker(master);
  // No HEAD twins: a HEAD request would open a stream that sends nothing.
  app.get('/api/events', { config: { access: 'runs.list' },  exposeHeadRoute: false }, async (req, reply) => {
    const stream = streams.start(req, reply, EVENTS_BUFFER_LIMIT);
    let workersTimer: NodeJS.Timeout | null = null;
    let workersSentAt = 0;
    const sendWorkers = (): void => {
      workersTimer = null;
      workersSentAt = Date.now();
      stream.send('workers', { workers: master.listWorkers() });
    };
    const hidden = readsOnly(req);
    const sendJobs = (runId: string, all: JobView[]): void => {
      const jobs = hidden ? all.map(hideEnv) : all;
      // A huge submission would fill every client's buffer at once: the client fetches the run instead.
      if (jobs.length > JOBS_INLINE_MAX) return stream.send('resync', { runId, changed: jobs.length });
      for (let i = 0; i < jobs.length && stream.isOpen; i += JOBS_PER_EVENT) stream.send('jobs', { runId, jobs: jobs.slice(i, i + JOBS_PER_EVENT) });
    };
    const stopWatching = master.watchCluster({
      jobs: sendJobs,
      run: (run) => stream.send('run', { run }),
      // Coalesced: at most one `workers` event per 500 ms, always after the change settled.
      workers: () => {
        if (workersTimer === null) workersTimer = setTimeout(sendWorkers, Math.max(0, workersSentAt + WORKERS_COALESCE_MS - Date.now()));
      },
    });
    ticker.add(stream);
    stream.onClose(() => {
      stopWatching();
      if (workersTimer !== null) clearTimeout(workersTimer);
    });
    // The state now, so that a client (re)connecting needs no other request to be current.
    sendWorkers();
    stream.send('stats', master.stats());
    return reply;
  });

  app.get('/api/runs/:runId/jobs/:jobId/logs/stream', { config: { access: 'logs.follow' },  exposeHeadRoute: false }, async (req, reply) => {
    const ref = checkParams('logs.follow', { ref: refOf(req.params) }, ISSUES).ref;
    // An unknown job is a plain JSON 404, before the stream starts.
    await master.getJob(ref);
    const stream = streams.start(req, reply, LOG_BUFFER_LIMIT);
    let ended: JobStatus | null = null;
    let backlog: { attempt: number; data: string; stream: OutputStream; size: number; sent: number }[] | null = [];
    let backlogBytes = 0;
    let skipped = 0;
    const flushBacklog = (): void => {
      const chunks = backlog ?? [];
      backlog = null;
      if (skipped > 0) stream.send('truncated', { attempt: chunks[0]?.attempt ?? 1, bytes: skipped });
      for (const { attempt, data, stream: from } of chunks) stream.send('log', logEvent(attempt, data, from));
      if (ended !== null) {
        stream.send('end', { status: ended });
        stream.end();
      }
    };
    let stop: () => void = () => {};
    try {
      stop = await master.followLogs(ref, {
        data(attempt, data, from) {
          if (backlog === null) return stream.send('log', logEvent(attempt, data, from));
          // The output written before the stream opened arrives at once: keep only its tail.
          // Measured as it will be sent: escapes (terminal colours, control bytes) can make it several times larger.
          const chunk = { attempt, data, stream: from, size: Buffer.byteLength(data), sent: Buffer.byteLength(JSON.stringify(data)) };
          backlog.push(chunk);
          backlogBytes += chunk.sent;
          while (backlogBytes > LOG_BACKLOG_BYTES && backlog.length > 1) {
            const dropped = backlog.shift() as typeof chunk;
            backlogBytes -= dropped.sent;
            skipped += dropped.size;
          }
        },
        end(status) {
          ended = status;
          if (backlog !== null) return;
          stream.send('end', { status });
          stream.end();
        },
      });
    } catch (err) {
      stream.send('failed', { code: (err as { code?: string }).code ?? 'INTERNAL', message: (err as Error).message });
      stream.end();
      return reply;
    }
    stream.onClose(() => stop());
    flushBacklog();
    return reply;
  });
}
