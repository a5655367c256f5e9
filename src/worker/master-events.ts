/**
 * What the master sends a worker unasked: dispatches, cancellations, drains, a shutdown, a
 * request for an ephemeral worker. Each is checked against its schema; a malformed one is
 * ignored (and logged), never taken for something else.
 */
import type { z } from 'zod';
import { type AttemptId, type Dispatch, type SpawnWorker, WorkerEvents } from '../protocol/methods.js';
import type { Peer } from '../protocol/peer.js';
import { attemptIdOf } from './attempts.js';

/** What the worker does on each event. */
export interface MasterEventHandlers {
  /** One attempt of a dispatch; the master has already been told it arrived. */
  run(d: Dispatch): void;
  /** The master cancelled this attempt. */
  cancel(id: AttemptId): void;
  /** Take no new work. */
  drain(): void;
  /** Take work again. */
  undrain(peer: Pick<Peer, 'notify'>): void;
  /** Drain and exit; `drainTimeoutMs` absent: the worker's own. */
  shutdown(drainTimeoutMs: number | undefined): void;
  /** Start an ephemeral worker; absent: this worker cannot. */
  spawnWorker: ((request: SpawnWorker) => void) | undefined;
  log(line: string): void;
}

/** The event's data if it has the event's shape; otherwise null, and `what` is logged as ignored. */
function valid<T>(schema: z.ZodType<T>, data: unknown, what: string, on: Pick<MasterEventHandlers, 'log'>): T | null {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  on.log(`ignored a malformed ${what}: ${parsed.error.issues[0]?.message}`);
  return null;
}

export function handleMasterEvent(peer: Pick<Peer, 'notify'>, event: string, data: unknown, on: MasterEventHandlers): void {
  if (event === 'dispatch') {
    const dispatch = valid(WorkerEvents.dispatch, data, 'dispatch', on);
    if (!dispatch) return;
    // Said at once, so the master knows these arrived (it runs unacknowledged ones elsewhere).
    peer.notify('accepted', { attempts: dispatch.attempts.map(attemptIdOf) });
    // Each item was validated by the dispatch schema above.
    for (const d of dispatch.attempts) on.run(d);
  } else if (event === 'drain') {
    on.drain();
  } else if (event === 'undrain') {
    on.undrain(peer);
  } else if (event === 'shutdown') {
    const shutdown = valid(WorkerEvents.shutdown, data ?? {}, 'shutdown request', on);
    if (shutdown) on.shutdown(shutdown.drainTimeoutMs);
  } else if (event === 'spawnWorker') {
    const request = valid(WorkerEvents.spawnWorker, data, 'spawnWorker request', on);
    if (!request) return;
    if (!on.spawnWorker) return on.log('the master asked for an ephemeral worker, but this worker cannot start one');
    on.spawnWorker(request);
  } else if (event === 'kill') {
    const parsed = WorkerEvents.kill.safeParse(data);
    if (parsed.success) on.cancel(parsed.data);
  }
}
