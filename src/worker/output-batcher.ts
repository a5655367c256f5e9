/**
 * Running attempts' output on its way to the master: sent in batches every ~100 ms, or at once
 * when an attempt has written a lot, and held while the master is unreachable (see
 * attempt-output.ts).
 */
import type { OutputStream } from '../core/output-streams.js';
import type { Peer } from '../protocol/peer.js';
import type { Attempt, Attempts } from './attempts.js';

const LOG_FLUSH_MS = 100;

export class OutputBatcher {
  private timer: NodeJS.Timeout | null = null;

  /** `link.peer`: the current session, if any; `link.logStreams`: whether its master takes a log event's stream. */
  constructor(
    private readonly attempts: Attempts,
    private readonly link: { readonly peer: Peer | null; readonly logStreams?: boolean },
  ) {}

  push(attempt: Attempt, chunk: string, stream: OutputStream = 'stdout'): void {
    if (attempt.output.push(chunk, stream, this.link.peer !== null)) return this.flushAttempt(attempt);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flushAll();
      }, LOG_FLUSH_MS);
    }
  }

  /** Sends what every attempt held has written and not sent. */
  flushAll(): void {
    for (const a of this.attempts.values()) this.flushAttempt(a);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private flushAttempt(a: Attempt): void {
    const peer = this.link.peer;
    if (peer) a.output.flush(peer, this.link.logStreams ?? false);
  }
}
