/**
 * Fault-injection helpers: jobs that leave evidence in files (an append file of finished job ids,
 * a pid file of started processes), SIGKILL by pid, a TCP proxy whose connections can be cut,
 * and raw sockets that throw garbage at a port.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { JobView, RunView } from '../../src/protocol/methods.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { type Cluster, launch, type Proc, waitForOutput } from './cluster.js';

/**
 * `append.sh <id> <seconds> <append-file>`: sleeps, then appends its id with one O_APPEND write
 * at the very end, so a line in the file means "this job's work was done once".
 */
export const APPEND_SCRIPT = {
  name: 'append.sh',
  content: 'set -e\nsleep "$2"\necho "$1" >> "$3"\n',
};

/**
 * `long.sh <id> <seconds> <append-file> <pid-file>`: records "<id> <attempt> <worker> <bash pid>
 * <sleep pid>" when it starts, sleeps in a child process, then appends its id at the end.
 */
export const LONG_SCRIPT = {
  name: 'long.sh',
  content: 'set -e\nsleep "$2" &\nchild=$!\necho "$1 $TITAN_ATTEMPT $TITAN_WORKER_ID $$ $child" >> "$4"\nwait "$child"\necho "$1" >> "$3"\n',
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Non-empty lines of a file; none when it does not exist yet. */
export function readLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** How many times each line occurs. */
export function tally(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts;
}

/** Ids that do not occur exactly once among `lines` (missing ones with 0), for a readable failure. */
export function notExactlyOnce(ids: readonly string[], lines: readonly string[]): Record<string, number> {
  const counts = tally(lines);
  const wrong: Record<string, number> = {};
  for (const id of ids) if (counts.get(id) !== 1) wrong[id] = counts.get(id) ?? 0;
  for (const [line, n] of counts) if (!ids.includes(line)) wrong[line] = n;
  return wrong;
}

export interface PidRecord {
  id: string;
  attempt: number;
  workerId: string;
  pids: number[];
}

export function readPidFile(file: string): PidRecord[] {
  return readLines(file).map((line) => {
    const [id = '', attempt = '0', workerId = '', ...pids] = line.split(' ');
    return { id, attempt: Number(attempt), workerId, pids: pids.map(Number) };
  });
}

/** SIGKILLs a process by its pid and waits until it has exited. */
export async function killNine(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  if (pid === undefined) throw new Error('the process has no pid');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(pid, 'SIGKILL');
  await exited;
}

/** Polls the run until it leaves RUNNING; returns the final view. */
export async function waitRunDone(client: TitanClient, runId: string, timeoutMs: number): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  let last: RunView | null = null;
  for (;;) {
    try {
      last = await client.getRun(runId);
      if (last.run.status !== 'RUNNING') return last;
    } catch {
      // the master may be restarting; keep polling
    }
    if (Date.now() > deadline) {
      const counts = tally((last?.jobs ?? []).map((j) => j.status));
      throw new Error(`run ${runId} did not finish within ${timeoutMs} ms; last job statuses: ${JSON.stringify(Object.fromEntries(counts))}`);
    }
    await sleep(200);
  }
}

export function jobsById(view: RunView): Map<string, JobView> {
  return new Map(view.jobs.map((j) => [j.spec.id, j]));
}

/** The cluster.workers index of a worker started by Cluster.startWorker (named 127.0.0.1:<8100 + index>). */
export function workerIndex(workerId: string): number {
  const port = Number(workerId.slice(workerId.lastIndexOf(':') + 1));
  return port - 8100;
}

/**
 * Starts a worker like Cluster.startWorker but dialling `masterPort` (e.g. a proxy), and waits for
 * `waitFor` in its output (default: it joined). It is added to cluster.workers, so cluster.stop()
 * kills it.
 */
export async function startWorkerVia(cluster: Cluster, masterPort: number, slots = 4, options: { port?: number; waitFor?: RegExp; args?: string[] } = {}): Promise<Proc> {
  const index = cluster.workers.length;
  const args = [
    'worker',
    '--master',
    `127.0.0.1:${masterPort}`,
    '--token',
    cluster.token,
    '--slots',
    String(slots),
    '--port',
    String(options.port ?? 8100 + index),
    '--name',
    '127.0.0.1',
    '--work-dir',
    join(cluster.dir, `worker-${index}`),
    ...(options.args ?? []),
  ];
  const proc = launch(args);
  cluster.workers.push(proc);
  await waitForOutput(proc, options.waitFor ?? /joined master/, 20_000);
  return proc;
}

interface Link {
  client: Socket;
  upstream: Socket;
  /** The worker side is gone but the master side is left open and silent (half-open). */
  stranded: boolean;
}

/**
 * A loopback TCP proxy to `target`: a network between a worker and a master that both stay up.
 * cut() destroys every proxied connection (both sides see it close); strand() closes only the
 * worker's side and leaves the master's side open and silent, like a connection whose peer
 * vanished without a FIN; while `refusing`, new connections are closed straight away;
 * `resetOnReport` resets the connection exactly when a results report passes; `loseReplyTo` lets a
 * request through and resets the connection in place of its reply.
 */
export class CuttableProxy {
  port = 0;
  refusing = false;
  /** When set, the next worker→master chunk carrying a results report resets the connection. */
  resetOnReport = false;
  /** When set, the next client chunk containing it is delivered, and the connection is reset instead of carrying the reply. */
  loseReplyTo: string | null = null;
  resets = 0;
  /** Connections accepted and forwarded so far. */
  connections = 0;
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private readonly strandedSockets = new Set<Socket>();

  constructor(private readonly target: () => number) {
    this.server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      this.connections++;
      const upstream = connect({ host: '127.0.0.1', port: this.target() });
      const link: Link = { client, upstream, stranded: false };
      this.links.add(link);
      const drop = (): void => {
        this.links.delete(link);
        client.destroy();
        if (!link.stranded) upstream.destroy();
      };
      client.on('error', drop);
      upstream.on('error', drop);
      client.on('close', drop);
      upstream.on('close', drop);
      client.on('data', (chunk: Buffer) => {
        // Cut the connection with a TCP reset just as the worker reports results: the report is
        // lost in flight and the worker sees ECONNRESET, not an orderly close.
        if (this.resetOnReport && chunk.includes('attempts.finished')) {
          this.resetOnReport = false;
          this.resets++;
          this.links.delete(link);
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
        if (this.loseReplyTo !== null && chunk.includes(this.loseReplyTo)) {
          this.loseReplyTo = null;
          upstream.unpipe(client);
          upstream.once('data', () => {
            this.resets++;
            this.links.delete(link);
            client.resetAndDestroy();
            upstream.destroy();
          });
          upstream.resume();
        }
        if (!link.stranded) upstream.write(chunk);
      });
      upstream.pipe(client);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        const address = this.server.address();
        if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
        this.port = address.port;
        resolve();
      }),
    );
  }

  /** Destroys every live connection; returns how many there were. */
  cut(): number {
    const n = this.links.size;
    for (const { client, upstream } of [...this.links]) {
      client.destroy();
      upstream.destroy();
    }
    this.links.clear();
    return n;
  }

  /** Closes the worker side of every live connection, leaving the master side open and mute. */
  strand(): number {
    return this.silence((link) => link.client.destroy());
  }

  /**
   * Stops forwarding in both directions on every live connection without closing anything: a
   * partition in which packets vanish and neither side's TCP notices. New connections still work.
   */
  blackhole(): number {
    return this.silence((link) => this.strandedSockets.add(link.client));
  }

  /**
   * One-way loss on every live connection: what the master sends is read and discarded, while
   * what the worker sends still arrives (its heartbeats keep the master convinced it is there).
   */
  muteToWorker(): number {
    for (const link of this.links) {
      link.upstream.unpipe(link.client);
      link.upstream.on('data', () => undefined);
      link.upstream.resume();
    }
    return this.links.size;
  }

  /** Stops forwarding on every live connection (what the master sends is read and discarded). */
  private silence(then: (link: Link) => void): number {
    const n = this.links.size;
    for (const link of [...this.links]) {
      this.links.delete(link);
      link.stranded = true;
      link.upstream.unpipe(link.client);
      link.upstream.on('data', () => undefined);
      this.strandedSockets.add(link.upstream);
      then(link);
    }
    return n;
  }

  close(): Promise<void> {
    this.cut();
    for (const s of this.strandedSockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A v2-style frame header with any fields (no payload). */
export function frameHeader(version: number, opcode: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = version;
  h[1] = opcode;
  h.writeUInt32BE(length >>> 0, 4);
  return h;
}

export function frame(version: number, opcode: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([frameHeader(version, opcode, body.length), body]);
}

/** Hostile inputs for a Titan port: each is written on its own raw connection. */
export function garbagePayloads(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 20; i++) out.push(randomBytes(1 + Math.floor(Math.random() * 4096)));
  // Random bytes behind a valid v2 version byte, so they reach the v2 decoder.
  for (let i = 0; i < 20; i++) out.push(Buffer.concat([Buffer.from([2]), randomBytes(1 + Math.floor(Math.random() * 4096))]));
  out.push(
    frameHeader(2, 0x20, 0xffffffff), // oversized HELLO header
    frameHeader(2, 0x21, 64 * 1024 * 1024), // oversized request header
    frameHeader(1, 0x10, 0xffffffff), // v1 with an absurd length
    frameHeader(9, 0x20, 10), // unknown version
    frame(2, 0x20, '{not json'), // HELLO that is not JSON
    frame(2, 0x20, JSON.stringify({ id: 1, role: 'worker', versions: [2], token: 'wrong' })), // wrong token
    frame(2, 0x20, JSON.stringify({ id: 1, role: 'admin', versions: [2] })), // malformed HELLO
    frame(2, 0x21, JSON.stringify({ id: 1, method: 'stats', params: {} })), // a request before HELLO
    frame(2, 0x23, JSON.stringify({ event: 'heartbeat', data: { running: 0 } })), // an event before HELLO
    frame(2, 0x22, JSON.stringify({ id: 1, ok: true, result: null })), // a response before HELLO
    frame(2, 0x77, 'x'), // unknown opcode
    Buffer.concat([frameHeader(2, 0x20, 1024), Buffer.alloc(100, 0x41)]), // truncated frame, then the socket ends
  );
  return out;
}

/**
 * Opens a raw connection, writes `data` (optionally byte by byte), waits for the server to close
 * it or for `holdMs`, then destroys it. Resolves with whatever the server sent back.
 */
export function throwAt(port: number, data: Buffer, options: { holdMs?: number; trickle?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(received));
    };
    const timer = setTimeout(finish, options.holdMs ?? 1000);
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('connect', () => {
      if (!options.trickle) {
        socket.write(data, () => undefined);
        return;
      }
      let i = 0;
      const step = (): void => {
        if (done || i >= data.length) return;
        socket.write(data.subarray(i, i + 1), () => undefined);
        i++;
        setTimeout(step, 5);
      };
      step();
    });
  });
}
