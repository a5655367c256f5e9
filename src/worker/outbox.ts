/**
 * What a worker owes the master about ended attempts: each result until the master has
 * acknowledged it (it acknowledges once committed), and output not yet sent, which goes before
 * the results. Both outlive a dropped connection and go out on the next session.
 */
import { TitanError } from '../core/errors.js';
import { type AttemptId, attemptName, type FinishedAttempt } from '../protocol/methods.js';
import type { Peer } from '../protocol/peer.js';
import type { AttemptOutput } from './attempt-output.js';
import { attemptIdOf } from './attempts.js';

/** Output of ended attempts kept for an unreachable master, in all; the oldest goes beyond it. */
const MAX_UNSENT_OUTPUT = 64 * 1024 * 1024;
/** Results per report. */
const BATCH = 10_000;

export class Outbox {
  private readonly unacked = new Map<string, FinishedAttempt>();
  private readonly unsentOutput: AttemptOutput[] = [];
  private unsentBytes = 0;
  private scheduled = false;

  /** `session`: the current session, if any; `logStreams`: whether its master takes a log event's stream. */
  constructor(
    private readonly session: () => Peer | null,
    private readonly log: (line: string) => void,
    private readonly logStreams: () => boolean = () => false,
  ) {}

  /** An attempt ended: its result is kept until acknowledged, what it wrote and was not sent until sent. */
  add(result: FinishedAttempt, output: AttemptOutput): void {
    const peer = this.session();
    if (peer) output.flush(peer, this.logStreams());
    if (output.bytes > 0) {
      this.unsentOutput.push(output);
      this.unsentBytes += output.bytes;
      while (this.unsentBytes > MAX_UNSENT_OUTPUT && this.unsentOutput.length > 1) this.unsentBytes -= (this.unsentOutput.shift() as AttemptOutput).bytes;
    }
    this.unacked.set(attemptName(result), result);
    this.schedule();
  }

  /** The attempts whose results the master has not acknowledged. */
  ids(): AttemptId[] {
    return [...this.unacked.values()].map(attemptIdOf);
  }

  /** Sends the held output of ended attempts; their results follow on the same connection. */
  flushOutput(peer: Peer): void {
    for (const output of this.unsentOutput.splice(0)) output.flush(peer, this.logStreams());
    this.unsentBytes = 0;
  }

  /** Reports soon, once for everything that ends in this turn of the event loop. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.sendNow();
    });
  }

  /** Sends every unacknowledged result; they are forgotten only once the master has committed them. */
  async sendNow(): Promise<void> {
    const peer = this.session();
    if (!peer || this.unacked.size === 0) return;
    this.flushOutput(peer);
    const batch = [...this.unacked.entries()].slice(0, BATCH);
    try {
      await peer.request('attempts.finished', { results: batch.map(([, r]) => r) });
    } catch (err) {
      // A broken connection, however it broke (closed, reset, failed by the master), leaves the
      // outcome unknown: keep the results for the next session. Only a reply from the master is a
      // refusal, and re-sending a refused batch would repeat forever.
      if (peer.closed) return;
      // A master that no longer leads committed nothing: keep them for the leader, and go find it.
      if (err instanceof TitanError && err.code === 'NOT_LEADER') return peer.abort(err);
      this.log(`the master refused ${batch.length} results: ${(err as Error).message}`);
    }
    for (const [key, r] of batch) if (this.unacked.get(key) === r) this.unacked.delete(key);
    if (this.unacked.size > 0) this.schedule();
  }
}
