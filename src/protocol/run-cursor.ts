/** Paging through run listings: a cursor names the last run of the previous page. */
import { z } from 'zod';

/** Where a listing of runs goes on: the creation time and id of the last run of the previous page. */
export const RunCursorSchema = z.string().max(200).regex(/^\d+:[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'a cursor is the `next` value of a previous page');

export const runCursor = (run: { createdAt: number; runId: string }): string => `${run.createdAt}:${run.runId}`;

/** The position a cursor names; the cursor was checked by RunCursorSchema. */
export function parseRunCursor(cursor: string): { createdAt: number; runId: string } {
  const colon = cursor.indexOf(':');
  return { createdAt: Number(cursor.slice(0, colon)), runId: cursor.slice(colon + 1) };
}
