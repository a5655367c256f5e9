/**
 * Runs one job attempt as a child process. Each attempt is its own process group so a timeout,
 * a kill or the attempt's own exit can take down everything the script started. While it runs,
 * the group is tracked by the orphan reaper and recorded in a pid file, so neither the worker's
 * death nor that of both the worker and its reaper leaves it running unsupervised.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, extname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { FailureCode } from '../core/failure-codes.js';
import type { OutputStream } from '../core/output-streams.js';
import type { FailFastCode } from '../core/retry.js';
import { PidFiles } from './pid-files.js';
import type { Reaper } from './reaper.js';

export interface ExecutionRequest {
  /** "runId/jobId#attempt", for logs and the reaper. */
  key: string;
  /** Absolute path of the script file on local disk (already staged). */
  scriptPath: string;
  /** Passed as a list, never split or re-quoted. */
  args: string[];
  /** Where the process starts: the attempt's folder (or an unpacked archive's), made by the worker beforehand. */
  cwd: string;
  /** Full environment for the child. */
  env: Record<string, string>;
  timeoutMs: number | null;
  /** Run as this user and group (the worker must be root); absent: as the worker itself. */
  user?: { uid: number; gid: number };
}

export type ExecutionErrorCode = Extract<FailureCode, FailFastCode | 'TIMEOUT' | 'EXIT' | 'SIGNAL' | 'SPAWN_FAILED'>;

export interface ExecutionResult {
  outcome: 'COMPLETED' | 'FAILED' | 'TIMED_OUT';
  /** Null when killed by a signal or never started. */
  exitCode: number | null;
  error: string | null;
  errorCode: ExecutionErrorCode | null;
}

export interface RunningAttempt {
  readonly pid: number | null;
  kill(reason: string): void;
  /** Resolves after the process exited and its output was delivered; never rejects. */
  readonly done: Promise<ExecutionResult>;
}

/** Hears a process's output: each chunk from one stream. */
export type OutputSink = (chunk: string, stream: OutputStream) => void;

export interface Executor {
  /** Whether an attempt runs in folders of its own: a process does; an executor that runs nothing needs none made. */
  readonly folders: boolean;
  /** `onOutput` hears the process's output, chunk by chunk, each from one stream. */
  start(req: ExecutionRequest, onOutput: OutputSink): RunningAttempt;
  /**
   * Stops the process groups a previous life of this worker left running; one line per group
   * saying what happened. Called once at start, before any attempt.
   */
  sweepLeftovers?(): Promise<string[]>;
}

const DEFAULT_KILL_GRACE_MS = 2000;
/** How long output may still trickle in after the group was killed at exit; see onExit. */
const DRAIN_MS = 2000;

let pythonCommand: string | undefined;

/** python3 if it is on PATH, else python; looked up once because PATH rarely changes under a worker. */
function python(): string {
  if (pythonCommand !== undefined) return pythonCommand;
  pythonCommand = onPath('python3') || !onPath('python') ? 'python3' : 'python';
  return pythonCommand;
}

function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), fsConstants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * The command and leading arguments that run `scriptPath`; the job's own arguments follow them.
 * A script without a known extension is executed directly (its #! line or binary format decides).
 */
export function interpreterFor(scriptPath: string): { command: string; args: string[] } {
  switch (extname(scriptPath).toLowerCase()) {
    case '.py':
      return { command: python(), args: ['-u', scriptPath] };
    case '.js':
    case '.mjs':
    case '.cjs':
      return { command: process.execPath, args: [scriptPath] };
    case '.sh':
      return { command: 'bash', args: [scriptPath] };
    default:
      return { command: scriptPath, args: [] };
  }
}

const failed = (errorCode: ExecutionErrorCode, error: string): ExecutionResult => ({ outcome: 'FAILED', exitCode: null, error, errorCode });

function finishedAttempt(result: ExecutionResult): RunningAttempt {
  return { pid: null, kill: () => undefined, done: Promise.resolve(result) };
}

const errnoOf = (err: unknown): string | undefined =>
  err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;

/** Signals a whole process group; false when the group no longer exists. */
function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export class ProcessExecutor implements Executor {
  readonly folders = true;
  private readonly killGraceMs: number;
  private readonly reaper: Reaper | undefined;
  private readonly pidFiles: PidFiles | undefined;

  /** `pidDir`: where each running attempt's process group is recorded (the worker's own folder). */
  constructor(options: { killGraceMs?: number; reaper?: Reaper; pidDir?: string } = {}) {
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.reaper = options.reaper;
    this.pidFiles = options.pidDir === undefined ? undefined : new PidFiles(options.pidDir);
  }

  sweepLeftovers(): Promise<string[]> {
    return this.pidFiles?.sweepLeftovers() ?? Promise.resolve([]);
  }

  start(req: ExecutionRequest, onOutput: OutputSink): RunningAttempt {
    const interp = interpreterFor(req.scriptPath);
    const direct = interp.command === req.scriptPath;

    // The one sync fs call of a start: for a directly executed file it also tells "missing" from
    // "not executable" before a spawn is wasted.
    try {
      accessSync(req.scriptPath, direct ? fsConstants.X_OK : fsConstants.F_OK);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') {
        return finishedAttempt(failed('SCRIPT_NOT_FOUND', `script not found: ${req.scriptPath}`));
      }
      if (direct && errnoOf(err) === 'EACCES') {
        return finishedAttempt(failed('NOT_EXECUTABLE', `script is not executable and has no known extension: ${req.scriptPath}`));
      }
      return finishedAttempt(failed('SPAWN_FAILED', `cannot access script ${req.scriptPath}: ${String(err)}`));
    }

    let child: ChildProcess;
    try {
      child = spawn(interp.command, [...interp.args, ...req.args], {
        cwd: req.cwd,
        env: req.env,
        ...(req.user && { uid: req.user.uid, gid: req.user.gid }),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (err) {
      // Synchronous spawn failures are argument problems (e.g. a NUL byte in an argument).
      return finishedAttempt(failed('SPAWN_FAILED', `cannot start ${req.key}: ${err instanceof Error ? err.message : String(err)}`));
    }
    return new Attempt(child, req, direct, interp.command, onOutput, this.killGraceMs, this.reaper, this.pidFiles);
  }
}

class Attempt implements RunningAttempt {
  readonly pid: number | null;
  readonly done: Promise<ExecutionResult>;

  private resolve!: (r: ExecutionResult) => void;
  private exited = false;
  private settled = false;
  private exitCode: number | null = null;
  private signal: NodeJS.Signals | null = null;
  private spawnError: ExecutionResult | null = null;
  private timedOut = false;
  private killReason: string | null = null;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly decoders: StringDecoder[] = [];

  constructor(
    private readonly child: ChildProcess,
    private readonly req: ExecutionRequest,
    direct: boolean,
    command: string,
    private readonly onOutput: OutputSink,
    private readonly killGraceMs: number,
    private readonly reaper: Reaper | undefined,
    private readonly pidFiles: PidFiles | undefined,
  ) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
    this.pid = child.pid ?? null;

    child.on('error', (err) => {
      if (this.pid !== null || child.pid !== undefined) return; // errors after a successful spawn (e.g. a failed kill) do not end the attempt
      const code = errnoOf(err);
      if (code === 'ENOENT') {
        // For a direct script that exists, ENOENT comes from a missing #! interpreter.
        this.spawnError = failed('INTERPRETER_NOT_FOUND', direct ? `interpreter named in the #! line of ${command} not found` : `interpreter not found: ${command}`);
      } else if (code === 'EACCES') {
        this.spawnError = failed('NOT_EXECUTABLE', `not executable: ${command}`);
      } else {
        this.spawnError = failed('SPAWN_FAILED', `cannot start ${command}: ${err.message}`);
      }
      // The streams of a failed spawn carry nothing, so do not wait for them.
      this.settle();
    });

    if (this.pid === null) return; // the 'error' event follows on the next tick
    this.reaper?.track(this.pid);
    // The attempt runs all the same; only a restart after the worker and its reaper both died would miss it.
    this.pidFiles?.record(req.key, this.pid).catch((err: unknown) => this.emit(`[titan: could not record the attempt's pid file: ${err instanceof Error ? err.message : String(err)}]\n`));

    if (child.stdout) this.pipe(child.stdout, 'stdout');
    if (child.stderr) this.pipe(child.stderr, 'stderr');
    child.on('exit', (code, signal) => this.onExit(code, signal));
    // 'close' means the process exited and both streams ended, so all output has been delivered.
    child.on('close', () => this.settle());

    if (req.timeoutMs !== null) {
      this.timeoutTimer = setTimeout(() => {
        this.timedOut = true;
        this.terminate();
      }, req.timeoutMs);
    }
  }

  kill(reason: string): void {
    if (this.exited || this.settled || this.pid === null || this.timedOut || this.killReason !== null) return;
    this.killReason = reason;
    this.terminate();
  }

  private pipe(stream: Readable, from: OutputStream): void {
    // One decoder per stream: a multi-byte character split across chunks is joined again.
    const decoder = new StringDecoder('utf8');
    this.decoders.push(decoder);
    stream.on('data', (chunk: Buffer) => this.emit(decoder.write(chunk), from));
    stream.on('end', () => this.emit(decoder.end(), from));
    stream.on('error', () => undefined); // a broken pipe ends the stream; the exit status tells what happened
  }

  /** Titan's own notes on the attempt go with its stdout. */
  private emit(text: string, from: OutputStream = 'stdout'): void {
    if (text === '' || this.settled) return;
    try {
      this.onOutput(text, from);
    } catch {
      // A failing log sink must not take the worker down or lose the attempt's result.
    }
  }

  /** SIGTERM to the group now, SIGKILL after the grace period if the direct child is still alive. */
  private terminate(): void {
    const pgid = this.pid;
    if (pgid === null || this.exited) return;
    clearTimeout(this.timeoutTimer);
    killGroup(pgid, 'SIGTERM');
    this.graceTimer = setTimeout(() => killGroup(pgid, 'SIGKILL'), this.killGraceMs);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    this.exitCode = code;
    this.signal = signal;
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.graceTimer);
    // Whatever the script left behind in its group would run unsupervised: kill it now.
    // This also closes any copy of the output pipes a background child still holds.
    if (this.pid !== null) killGroup(this.pid, 'SIGKILL');
    // A descendant that left the group (setsid) may keep the pipes open forever; do not wait for it.
    this.drainTimer = setTimeout(() => {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
      this.settle();
    }, DRAIN_MS);
    this.drainTimer.unref();
  }

  private settle(): void {
    if (this.settled) return;
    for (const decoder of this.decoders) this.emit(decoder.end());
    this.settled = true;
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.graceTimer);
    clearTimeout(this.drainTimer);
    if (this.pid !== null) {
      this.reaper?.untrack(this.pid);
      // A file left behind names a group that is gone: the next start's sweep says so and removes it.
      this.pidFiles?.forget(this.req.key).catch(() => undefined);
    }
    this.resolve(this.result());
  }

  private result(): ExecutionResult {
    if (this.spawnError) return this.spawnError;
    const exitCode = this.exitCode;
    if (this.timedOut) {
      return { outcome: 'TIMED_OUT', exitCode, error: `timed out after ${this.req.timeoutMs} ms`, errorCode: 'TIMEOUT' };
    }
    if (this.killReason !== null) {
      return { outcome: 'FAILED', exitCode, error: `killed: ${this.killReason}`, errorCode: 'SIGNAL' };
    }
    if (this.signal !== null) return { outcome: 'FAILED', exitCode: null, error: `killed by ${this.signal}`, errorCode: 'SIGNAL' };
    if (exitCode === 0) return { outcome: 'COMPLETED', exitCode: 0, error: null, errorCode: null };
    return { outcome: 'FAILED', exitCode, error: `exit code ${exitCode}`, errorCode: 'EXIT' };
  }
}

/** Completes every attempt at once, so benchmarks can measure orchestration alone. */
export class NoopExecutor implements Executor {
  readonly folders = false;

  start(_req: ExecutionRequest, _onOutput: OutputSink): RunningAttempt {
    return finishedAttempt({ outcome: 'COMPLETED', exitCode: 0, error: null, errorCode: null });
  }
}
