/**
 * Small helpers for integration tests: temporary folders, job scripts, waiting for runs and jobs,
 * and a raw TCP connection that speaks (or deliberately mangles) Titan's frames.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { JobStatus, RunStatus } from '../../src/core/model.js';
import { encodeFrame, type Frame, FrameDecoder } from '../../src/protocol/frame.js';
import type { JobView, RunView } from '../../src/protocol/methods.js';
import { OP } from '../../src/protocol/v2.js';
import { type TitanClient, TitanError } from '../../src/sdk/client.js';
import { eventually } from './cluster.js';

// ---- temporary folders ------------------------------------------------------------------------

export class TempDir {
  readonly path: string;

  constructor(prefix = 'titan-scripts-') {
    this.path = mkdtempSync(join(tmpdir(), prefix));
    // Jobs write here, and a worker started as root runs them as an unprivileged user.
    chmodSync(this.path, 0o777);
  }

  file(name: string): string {
    return join(this.path, name);
  }

  write(name: string, content: string): string {
    const path = this.file(name);
    mkdirSync(dirname(path), { recursive: true });
    // Its folders open to write as the scratch folder itself is.
    for (let dir = dirname(path); dir.startsWith(`${this.path}/`); dir = dirname(dir)) chmodSync(dir, 0o777);
    writeFileSync(path, content);
    return path;
  }

  read(name: string): string {
    return readFileSync(this.file(name), 'utf8');
  }

  exists(name: string): boolean {
    return existsSync(this.file(name));
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

// ---- job scripts ------------------------------------------------------------------------------

export interface ScriptContent {
  name: string;
  content: string;
}

export const py = (content: string, name = 'job.py'): ScriptContent => ({ name, content });
export const sh = (content: string, name = 'job.sh'): ScriptContent => ({ name, content });
export const js = (content: string, name = 'job.js'): ScriptContent => ({ name, content });

/**
 * Appends `<id> <event> <epoch seconds>` to the file `argv[1]` (id `argv[2]`): a "start" line,
 * then after `argv[3]` seconds (default 0) an "end" line. Lines are appended with O_APPEND, so
 * concurrent jobs do not overwrite each other.
 */
export const EVENTS_PY = py(
  `import os, sys, time
path, ident = sys.argv[1], sys.argv[2]
pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
def note(event):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"{ident} {event} {time.time():.6f}\\n".encode())
    os.close(fd)
note("start")
if pause > 0:
    time.sleep(pause)
note("end")
`,
  'events.py',
);

/** Writes its pid to `argv[1]`, then waits until the file `argv[2]` exists (or 300 s pass). */
export const GATED_PY = py(
  `import os, sys, time
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
print("waiting", flush=True)
deadline = time.time() + 300
while not os.path.exists(sys.argv[2]) and time.time() < deadline:
    time.sleep(0.05)
print("released", flush=True)
`,
  'gated.py',
);

export interface EventLine {
  id: string;
  event: string;
  t: number;
}

export function readEvents(path: string): EventLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [id, event, t] = l.split(' ');
      return { id: id ?? '', event: event ?? '', t: Number(t) };
    });
}

/** Reads a pid written by a job (waits until the file holds one). */
export async function readPid(path: string, what = `a pid in ${path}`): Promise<number> {
  return eventually(() => {
    if (!existsSync(path)) return null;
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }, 20_000, what);
}

export function readPids(path: string): number[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

// ---- runs and jobs ----------------------------------------------------------------------------

/** Polls until the run leaves RUNNING and returns its final state. */
export function waitRun(client: TitanClient, runId: string, timeoutMs = 30_000): Promise<RunView> {
  return eventually(
    async () => {
      const view = await client.getRun(runId);
      return view.run.status !== 'RUNNING' ? view : null;
    },
    timeoutMs,
    `run ${runId} to finish`,
  );
}

export async function waitRunStatus(client: TitanClient, runId: string, status: RunStatus, timeoutMs = 30_000): Promise<RunView> {
  const view = await waitRun(client, runId, timeoutMs);
  if (view.run.status !== status) throw new Error(`run ${runId} ended ${view.run.status}, expected ${status}: ${describeRun(view)}`);
  return view;
}

/** Polls until the job has one of the given statuses. */
export function waitJob(client: TitanClient, ref: string, statuses: JobStatus | JobStatus[], timeoutMs = 30_000): Promise<JobView> {
  const wanted = Array.isArray(statuses) ? statuses : [statuses];
  return eventually(
    async () => {
      const { job } = await client.getJob(ref);
      return wanted.includes(job.status) ? job : null;
    },
    timeoutMs,
    `job ${ref} to be ${wanted.join(' or ')}`,
  );
}

export function jobOf(view: RunView, id: string): JobView {
  const job = view.jobs.find((j) => j.spec.id === id);
  if (!job) throw new Error(`run ${view.run.runId} has no job ${id}`);
  return job;
}

export function describeRun(view: RunView): string {
  return view.jobs.map((j) => `${j.spec.id}=${j.status}${j.error ? ` (${j.error})` : ''}`).join(', ');
}

/** A loopback port nothing listens on now (bound by the OS, then released): free for a server, closed for a client. */
export { freePort } from '../../bench/ports.js';

// ---- raw protocol -------------------------------------------------------------------------------

export interface RawResponse {
  id: number | null;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

/** A TCP connection to the master that sends exactly the bytes a test gives it. */
export class RawConnection {
  private readonly decoder = new FrameDecoder();
  private readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  private decodeError: Error | null = null;
  private isClosed = false;
  /** When the connection was opened and (once it is) closed, in epoch ms. */
  readonly openedAt = Date.now();
  closedAt: number | null = null;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.frames.push(...this.decoder.push(chunk));
      } catch (err) {
        this.decodeError = err as Error;
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.closedAt = Date.now();
        this.wake();
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  sendV2(opcode: number, message: unknown): void {
    this.send(encodeFrame(2, opcode, JSON.stringify(message)));
  }

  /** HELLO as a client; resolves with the reply. */
  async hello(token: string, id = 1): Promise<RawResponse> {
    this.sendV2(OP.HELLO, { id, token, role: 'client', versions: [2] });
    return this.nextResponse();
  }

  async request(id: number, method: string, params: unknown = {}): Promise<RawResponse> {
    this.sendV2(OP.REQUEST, { id, method, params });
    return this.nextResponse();
  }

  /** The next whole frame; rejects if the connection closes (or stays silent) first. */
  async nextFrame(timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.decodeError) throw this.decodeError;
      if (this.isClosed) throw new Error('connection closed before a frame arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next frame, which must be a v2 RESPONSE, parsed. */
  async nextResponse(timeoutMs = 10_000): Promise<RawResponse> {
    const frame = await this.nextFrame(timeoutMs);
    if (frame.version !== 2 || frame.opcode !== OP.RESPONSE) throw new Error(`expected a v2 RESPONSE, got version ${frame.version} opcode 0x${frame.opcode.toString(16)}`);
    return JSON.parse(frame.payload.toString('utf8')) as RawResponse;
  }

  /** Resolves true once the server has closed the connection, false after `timeoutMs`. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([this.closed.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
    clearTimeout(timer);
    return result;
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** The TitanError a promise fails with; fails the test if it resolves or fails otherwise. */
export async function refusal(promise: Promise<unknown>): Promise<TitanError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
  if (!('err' in outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value)}`);
  if (!(outcome.err instanceof TitanError)) throw new Error(`expected a TitanError, got ${String(outcome.err)}`);
  return outcome.err;
}
