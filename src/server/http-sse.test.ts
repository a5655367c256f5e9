import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SseStream } from './http-sse.js';

/** A response whose client reads nothing: everything written stays queued. */
class StuckResponse extends EventEmitter {
  written: string[] = [];
  writableLength = 0;
  destroyed = false;
  ended = false;

  write(chunk: string): boolean {
    this.written.push(chunk);
    this.writableLength += Buffer.byteLength(chunk);
    return false;
  }

  end(): void {
    this.ended = true;
    this.emit('close');
  }

  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

const open = (limit: number): { res: StuckResponse; stream: SseStream } => {
  const res = new StuckResponse();
  return { res, stream: new SseStream(res as unknown as ServerResponse, limit) };
};

describe('SseStream', () => {
  it('writes events and comments in the event-stream format', () => {
    const { res, stream } = open(1024);
    stream.send('jobs', { runId: 'r1', jobs: [{ note: 'two\nlines' }] });
    stream.comment('ping');
    expect(res.written).toEqual(['event: jobs\ndata: {"runId":"r1","jobs":[{"note":"two\\nlines"}]}\n\n', ': ping\n\n']);
  });

  it('drops a client that falls more than its limit behind, and tells its owner once', () => {
    const { res, stream } = open(100);
    let closed = 0;
    stream.onClose(() => closed++);
    stream.send('a', 'x'.repeat(80));
    stream.send('b', 'y'.repeat(80));
    expect(res.destroyed).toBe(false);
    stream.send('c', 'z');
    expect(res.destroyed).toBe(true);
    expect(res.written.length).toBe(2);
    expect(stream.isOpen).toBe(false);
    stream.send('d', 'after');
    expect(res.written.length).toBe(2);
    expect(closed).toBe(1);
    // A listener added after the close runs at once.
    stream.onClose(() => closed++);
    expect(closed).toBe(2);
  });

  it('ends normally, and notices when the client goes away', () => {
    const a = open(1024);
    let closed = false;
    a.stream.onClose(() => (closed = true));
    a.stream.end();
    expect(a.res.ended).toBe(true);
    expect(closed).toBe(true);
    const b = open(1024);
    b.res.emit('close');
    expect(b.stream.isOpen).toBe(false);
  });
});
