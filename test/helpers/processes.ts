/** Process checks shared by unit and integration tests. */
import { readdirSync, readFileSync } from 'node:fs';

/** Dead, or a zombie nobody has reaped yet (in a container, pid 1 may never reap orphans). */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export const pidAlive = (pid: number): boolean => !isGone(pid);

/** Polls a synchronous condition every 50 ms; resolves with its last value. */
export async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** A process's command line, arguments joined by spaces; empty when it is gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** The worker's orphan reaper: the child of `workerPid` running reaper-main. */
export function reaperOf(workerPid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === workerPid && cmdline(Number(name)).includes('reaper-main')) found.push(Number(name));
    } catch {
      // the process went away while we looked
    }
  }
  return found;
}
