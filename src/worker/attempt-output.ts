/**
 * An attempt's output on its way to the master: held until it is sent, up to 4 MiB while the
 * master is unreachable (the oldest is dropped beyond that, and the log says so), and sent as
 * `log` events small enough for the protocol. Each chunk keeps the stream it came from: an event
 * carries one stream (named when stderr), told only to a master that takes it.
 */
import type { OutputStream, StreamText } from '../core/output-streams.js';
import type { AttemptId } from '../protocol/methods.js';
import type { Peer } from '../protocol/peer.js';

/** Characters per log event: well under the event's 1 MiB limit even when every one is 3 UTF-8 bytes. */
const LOG_EVENT_CHARS = 256 * 1024;
/** Output buffered per attempt while the master is unreachable; the oldest is dropped beyond it. */
const MAX_BUFFERED_LOG = 4 * 1024 * 1024;

export class AttemptOutput {
  private pending: StreamText[] = [];
  private pendingBytes = 0;
  private dropped = 0;

  constructor(private readonly id: AttemptId) {}

  /** Bytes held, not yet sent. */
  get bytes(): number {
    return this.pendingBytes;
  }

  /** Holds a chunk; true when so much is held that it should be sent now rather than with the next batch. */
  push(chunk: string, stream: OutputStream, connected: boolean): boolean {
    const last = this.pending[this.pending.length - 1];
    // Joined to the last chunk when from the same stream, so that a chatty job makes few events.
    if (last?.stream === stream) last.text += chunk;
    else this.pending.push({ text: chunk, stream });
    this.pendingBytes += Buffer.byteLength(chunk);
    // A fast writer is sent on at once while connected; only an unreachable master makes output wait (and drop).
    if (connected && this.pendingBytes >= LOG_EVENT_CHARS) return true;
    while (this.pendingBytes > MAX_BUFFERED_LOG && this.pending.length > 1) {
      const dropped = Buffer.byteLength((this.pending.shift() as StreamText).text);
      this.pendingBytes -= dropped;
      this.dropped += dropped;
    }
    return false;
  }

  /** Sends everything held; `streams`: whether the master takes a log event's stream (else all is sent as one text, as before). */
  flush(peer: Peer, streams: boolean): void {
    if (this.pending.length === 0) return;
    const pieces: StreamText[] = streams ? this.pending : [{ text: this.pending.map((p) => p.text).join(''), stream: 'stdout' }];
    if (this.dropped > 0) {
      pieces.unshift({ text: `[titan: ${this.dropped} bytes of output were dropped while the master was unreachable]\n`, stream: 'stdout' });
      this.dropped = 0;
    }
    this.pending = [];
    this.pendingBytes = 0;
    for (const { text, stream } of pieces) this.send(peer, text, stream);
  }

  /** Events are capped at 1 MiB of text; splits large bursts, never inside a surrogate pair. */
  private send(peer: Peer, data: string, stream: OutputStream): void {
    for (let i = 0; i < data.length; ) {
      let end = Math.min(data.length, i + LOG_EVENT_CHARS);
      const last = data.charCodeAt(end - 1);
      if (end < data.length && last >= 0xd800 && last <= 0xdbff) end--;
      peer.notify('log', { ...this.id, data: data.slice(i, end), ...(stream === 'stderr' && { stream }) });
      i = end;
    }
  }
}
