/**
 * Placement: which worker takes a job. Two separate steps, each pure: feasibility (capability,
 * free slot, accepting work) then scoring (affinity target first, else least loaded).
 */
import type { Affinity } from './model.js';

export interface WorkerLoad {
  id: string;
  capabilities: ReadonlySet<string>;
  slots: number;
  running: number;
  /** False while draining or disconnected: the worker takes no new work. */
  accepting: boolean;
}

export interface Placement {
  requirement: string;
  affinity: Affinity;
  /** The worker of the job's first parent, when affinity applies. */
  preferredWorker: string | null;
}

export const hasFreeSlot = (w: WorkerLoad): boolean => w.accepting && w.running < w.slots;

export function feasible(p: Placement, w: WorkerLoad): boolean {
  if (!hasFreeSlot(w) || !w.capabilities.has(p.requirement)) return false;
  return p.affinity !== 'required' || p.preferredWorker === null || p.preferredWorker === w.id;
}

/** Lower is better: fraction of slots in use, then absolute running count, then id for a stable order. */
function compareLoad(a: WorkerLoad, b: WorkerLoad): number {
  const ra = a.running / a.slots;
  const rb = b.running / b.slots;
  if (ra !== rb) return ra - rb;
  if (a.running !== b.running) return a.running - b.running;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function pickWorker(p: Placement, workers: Iterable<WorkerLoad>): WorkerLoad | null {
  let best: WorkerLoad | null = null;
  for (const w of workers) {
    if (!feasible(p, w)) continue;
    if (p.affinity !== 'none' && p.preferredWorker === w.id) return w;
    if (best === null || compareLoad(w, best) < 0) best = w;
  }
  return best;
}
