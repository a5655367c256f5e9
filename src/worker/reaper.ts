/**
 * Orphan protection for a worker that dies without cleaning up (SIGKILL, OOM killer, crash).
 * One detached helper process per worker holds the read end of a pipe; the kernel closes the
 * write end whatever way the worker dies, and the helper then kills every attempt group still
 * tracked. See reaper-main.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Writable } from 'node:stream';

/** The helper beside this module: compiled `.js` under dist, else the `.ts` source run through tsx. */
function defaultHelperPath(): string {
  const js = fileURLToPath(new URL('./reaper-main.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./reaper-main.ts', import.meta.url));
}

function helperCommandArgs(helperPath: string): string[] {
  if (!helperPath.endsWith('.ts')) return [helperPath];
  // Resolved from here, not from the helper's cwd, so it works wherever the worker runs.
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(tsx).href, helperPath];
}

export class Reaper {
  private readonly stdin: Writable | null;
  private open = true;

  private constructor(private readonly child: ChildProcess) {
    this.stdin = child.stdin;
    // If the helper dies first the worker just loses orphan protection; it must not crash.
    child.on('error', () => (this.open = false));
    child.on('exit', () => (this.open = false));
    this.stdin?.on('error', () => (this.open = false));
    // Neither the helper nor its pipe may keep the worker's event loop alive.
    child.unref();
    const socket = this.stdin as (Writable & { unref?: () => void }) | null;
    socket?.unref?.();
  }

  static start(helperPath: string = defaultHelperPath()): Reaper {
    const child = spawn(process.execPath, helperCommandArgs(helperPath), {
      // Its own process group and session, so signals aimed at the worker's group spare it.
      detached: true,
      // Never write to the worker's stdout or stderr.
      stdio: ['pipe', 'ignore', 'ignore'],
      cwd: '/',
      // It needs nothing from the environment, and so is given none of the worker's secrets.
      env: {},
      windowsHide: true,
    });
    return new Reaper(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  track(pgid: number): void {
    this.send(`+${pgid}\n`);
  }

  untrack(pgid: number): void {
    this.send(`-${pgid}\n`);
  }

  /** Clean shutdown: the helper exits without killing anything. */
  close(): void {
    if (!this.open) return;
    this.send('.\n');
    this.open = false;
    this.stdin?.end();
  }

  private send(line: string): void {
    if (this.open && this.stdin?.writable) this.stdin.write(line);
  }
}
