import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import type { Master } from '../master/master.js';
import { FeedTicker, PING_EVERY_MS, SseStream, STATS_EVERY_MS } from './http-sse.js';

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

describe('FeedTicker', () => {
  it('computes the stats once per tick for every open feed, pings them, and stops when the last one closes', () => {
    vi.useFakeTimers();
    try {
      let computed = 0;
      const master = { stats: () => ({ tick: ++computed }) } as unknown as Master;
      const ticker = new FeedTicker(master);
      const feeds = [open(1 << 20), open(1 << 20), open(1 << 20)];
      for (const f of feeds) ticker.add(f.stream);
      vi.advanceTimersByTime(STATS_EVERY_MS);
      expect(computed).toBe(1);
      for (const f of feeds) expect(f.res.written).toEqual(['event: stats\ndata: {"tick":1}\n\n']);
      vi.advanceTimersByTime(PING_EVERY_MS - STATS_EVERY_MS);
      expect(computed).toBe(PING_EVERY_MS / STATS_EVERY_MS);
      for (const f of feeds) expect(f.res.written.at(-1)).toBe(': ping\n\n');
      for (const f of feeds) f.stream.end();
      vi.advanceTimersByTime(STATS_EVERY_MS * 10);
      expect(computed).toBe(PING_EVERY_MS / STATS_EVERY_MS);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
