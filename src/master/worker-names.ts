/**
 * Which worker names are taken. A name belongs to the worker the master knows by it: connected,
 * disconnected with attempts (until its timeout), holding attempts restored from the store after
 * a restart (until the reclaim grace), or gone with nothing running less than a worker timeout
 * ago (it may be reconnecting). A HELLO for a taken name must prove it with the name's credential
 * (protocol/derived-tokens.ts); a free name enrols with the worker token.
 */
import { TitanError } from '../core/errors.js';
import { NAME_TAKEN } from '../protocol/methods.js';
import type { Clock } from './clock.js';

export class WorkerNames {
  /** Workers forgotten with nothing running: name → when, oldest first. */
  private readonly gone = new Map<string, number>();
  /** The workers of `restored`, as of its size `restoredSize`. */
  private restoredNames = new Set<string>();
  private restoredSize = -1;

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    /** The workers the master holds, by name. */
    private readonly workers: ReadonlyMap<string, unknown>,
    /** Attempts restored from the store after a restart and not yet reclaimed, with their worker. */
    private readonly restored: ReadonlyMap<string, { workerId: string }>,
  ) {}

  /** The master forgot a worker that left with nothing running: the name stays its own for the window. */
  forgot(name: string): void {
    const now = this.clock.now();
    this.gone.delete(name);
    this.gone.set(name, now);
    for (const [old, at] of this.gone) {
      if (now - at < this.windowMs) break;
      this.gone.delete(old);
    }
  }

  taken(name: string): boolean {
    if (this.workers.has(name) || this.holdsRestored(name)) return true;
    const at = this.gone.get(name);
    return at !== undefined && this.clock.now() - at < this.windowMs;
  }

  private holdsRestored(name: string): boolean {
    // Restored attempts are added once, at start-up, and only removed after: while the size stays, so does the set.
    if (this.restored.size !== this.restoredSize) {
      this.restoredNames = new Set([...this.restored.values()].map((u) => u.workerId));
      this.restoredSize = this.restored.size;
    }
    return this.restoredNames.has(name);
  }

  /** Throws UNAUTHORIZED when `name` is taken and `proven` (the name a credential proves, if any) is not it. */
  claim(name: string, proven: string | null): void {
    if (proven === name || !this.taken(name)) return;
    throw new TitanError('UNAUTHORIZED', `worker name ${name} ${NAME_TAKEN}: only that worker, with the credential the master gave it (kept in its work directory), may use it; start this one with another --port, or it gets the name once the master has forgotten the old worker (--worker-timeout after its last word, or --reclaim-grace after a master restart)`);
  }
}
