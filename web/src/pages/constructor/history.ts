/** Undo/redo of the constructor: a history of model snapshots. Pure, unit-tested. */
import type { Model } from './model.ts';

export interface History {
  past: Model[];
  present: Model;
  future: Model[];
}

export const HISTORY_LIMIT = 100;

export function historyOf(model: Model): History {
  return { past: [], present: model, future: [] };
}

/** Records `next` as a new step (no step when nothing changed). */
export function commit(h: History, next: Model): History {
  if (next === h.present) return h;
  return { past: [...h.past, h.present].slice(-HISTORY_LIMIT), present: next, future: [] };
}

/** One step from `before` to the present, for a change made in place (a drag). */
export function commitSince(h: History, before: Model): History {
  if (h.present === before) return h;
  return { past: [...h.past, before].slice(-HISTORY_LIMIT), present: h.present, future: [] };
}

/** Replaces the present without a step (e.g. while a drag is on its way). */
export function replacePresent(h: History, next: Model): History {
  return { ...h, present: next };
}

export function undo(h: History): History {
  const prev = h.past[h.past.length - 1];
  if (!prev) return h;
  return { past: h.past.slice(0, -1), present: prev, future: [h.present, ...h.future] };
}

export function redo(h: History): History {
  const next = h.future[0];
  if (!next) return h;
  return { past: [...h.past, h.present], present: next, future: h.future.slice(1) };
}

