/** Process checks shared by unit and integration tests. */
import { readFileSync } from 'node:fs';

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
