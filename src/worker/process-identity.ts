/**
 * Telling a process from another that reused its pid, on Linux: a pid names a process only
 * together with the time it started (field 22 of /proc/<pid>/stat). Where /proc cannot tell, the
 * start time is null and a live pid is taken at its word.
 */
import { readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat from field 3 (state) on. */
// The command name (field 2) is in parentheses and may itself hold spaces and ')'.
export const fieldsOf = (stat: string): string[] => stat.slice(stat.lastIndexOf(')') + 1).trim().split(' ');

/** The fields of /proc/<pid>/stat from field 3 (state) on, or null if the process is not there. */
export function statFields(pid: number): string[] | null {
  try {
    return fieldsOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Clock ticks after boot when the process started (field 22); null where /proc cannot tell. */
export function startTimeIn(fields: string[] | null): number | null {
  const ticks = Number(fields?.[22 - 3]);
  return Number.isSafeInteger(ticks) ? ticks : null;
}

export const startTimeOf = (pid: number): number | null => startTimeIn(statFields(pid));

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process `pid` that started at `startTime` (null: unknown) still runs. */
export const stillRuns = (pid: number, startTime: number | null): boolean => processExists(pid) && (startTime === null || startTimeOf(pid) === startTime);
