/**
 * Why a queued job is not placed, as a short sentence for people (`titan status`, the dashboard,
 * `--wait` progress), or null when some worker can take it now. Pure, and separate from placement:
 * it reads the same worker loads plus each worker's state (to tell draining from gone), and it is
 * computed only when someone looks at a job, never while dispatching. Jobs not yet queued have
 * their reasons in pending-reason.ts.
 */
import type { WorkerState } from './model.js';
import { feasible, type Placement, type WorkerLoad } from './routing.js';

export interface WorkerStatus extends WorkerLoad {
  state: WorkerState;
}

/** A service's fixed port, and the workers where a service already holds it. */
export interface PortInUse {
  port: number;
  takenOn: ReadonlySet<string>;
}

/** Why a queued job waits, and whether only busy slots hold it back (so its place in line says more). */
export interface Waiting {
  text: string;
  slotsBusy: boolean;
}

export function waitingReason(p: Placement, workers: Iterable<WorkerStatus>, port: PortInUse | null = null): string | null {
  return placementWait(p, workers, port)?.text ?? null;
}

export function placementWait(p: Placement, workers: Iterable<WorkerStatus>, port: PortInUse | null = null): Waiting | null {
  const all = [...workers];
  const fits = all.filter((w) => feasible(p, w));
  if (fits.some((w) => port === null || !port.takenOn.has(w.id))) return null;
  if (port !== null && fits.length > 0) return other(`port ${port.port} is taken on every ${p.requirement} worker with a free slot`);
  if (p.affinity === 'required' && p.preferredWorker !== null) return affinityReason(p.requirement, p.preferredWorker, all.find((w) => w.id === p.preferredWorker));
  return poolReason(p.requirement, all);
}

const other = (text: string): Waiting => ({ text, slotsBusy: false });
const busy = (text: string): Waiting => ({ text, slotsBusy: true });

const AHEAD = /; (?:[\d,]+ jobs? ahead of it|it is next in line)$/;

/** A busy-slots reason with how many jobs will be offered a slot first (an estimate). */
export function withAhead(w: Waiting, ahead: number | null): string {
  if (!w.slotsBusy || ahead === null) return w.text;
  if (ahead === 0) return `${w.text}; it is next in line`;
  return `${w.text}; ${ahead.toLocaleString('en-US')} job${ahead === 1 ? '' : 's'} ahead of it`;
}

/** A reason without its place in line: what jobs waiting for the same thing share. */
export const withoutAhead = (reason: string): string => reason.replace(AHEAD, '');

/** Required affinity: only the parent's worker will do. */
function affinityReason(requirement: string, target: string, w: WorkerStatus | undefined): Waiting {
  if (w === undefined || w.state === 'disconnected') return other(`waiting for its affinity worker ${target}, which is not connected`);
  if (w.state === 'draining') return other(`its affinity worker ${target} is draining`);
  if (!w.capabilities.has(requirement)) return other(`its affinity worker ${target} does not offer ${requirement}`);
  return busy(w.slots === 1 ? `the only slot of its affinity worker ${target} is busy` : `all ${w.slots} slots of its affinity worker ${target} are busy`);
}

function poolReason(requirement: string, all: WorkerStatus[]): Waiting {
  const capable = all.filter((w) => w.capabilities.has(requirement));
  const taking = capable.filter((w) => w.state === 'connected');
  if (taking.length > 0) {
    // Normal queueing, said all the same: someone asking about one job wants to know.
    const slots = taking.reduce((n, w) => n + w.slots, 0);
    return busy(slots === 1 ? `the only ${requirement} slot is busy` : `all ${slots} ${requirement} slots are busy`);
  }
  if (capable.length > 0) {
    const draining = capable.filter((w) => w.state === 'draining').length;
    const gone = capable.length - draining;
    if (capable.length === 1) return other(`the only ${requirement} worker is ${draining === 1 ? 'draining' : 'disconnected'}`);
    if (gone === 0) return other(`all ${draining} ${requirement} workers are draining`);
    if (draining === 0) return other(`all ${gone} ${requirement} workers are disconnected`);
    return other(`no ${requirement} worker takes work: ${draining} draining, ${gone} disconnected`);
  }
  const connected = all.filter((w) => w.state !== 'disconnected');
  if (connected.length === 0) return other('no worker is connected');
  return other(`no connected worker offers ${requirement}; ${describe(connected)}`);
}

/** "1 GPU worker is connected", or "3 workers are connected: 2 GPU, 1 GPU,HIGH_MEM". */
function describe(workers: WorkerStatus[]): string {
  const bySet = new Map<string, number>();
  for (const w of workers) {
    const set = [...w.capabilities].sort().join(',') || 'no capability';
    bySet.set(set, (bySet.get(set) ?? 0) + 1);
  }
  const [only] = bySet;
  if (bySet.size === 1 && only) return `${only[1]} ${only[0]} worker${only[1] === 1 ? ' is' : 's are'} connected`;
  const parts = [...bySet].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([set, n]) => `${n} ${set}`);
  return `${workers.length} workers are connected: ${parts.join(', ')}`;
}
