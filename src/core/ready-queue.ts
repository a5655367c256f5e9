/**
 * Ready jobs partitioned by lane (a capability pool, or one worker for required affinity).
 * Within a lane: higher priority first, FIFO within a priority. A heap per lane keeps push and
 * pop O(log n) for queues of hundreds of thousands of jobs.
 */
import { Heap } from './heap.js';

export interface QueuedItem {
  key: string;
  priority: number;
  seq: number;
}

export const comesFirst = (a: QueuedItem, b: QueuedItem): boolean => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);

export class ReadyQueue {
  private readonly lanes = new Map<string, Heap<QueuedItem>>();
  private seq = 0;
  /** The sequence number of each queued key's live entry; heap entries that disagree are stale. */
  private readonly live = new Map<string, number>();

  /** Queues a key; queuing it again replaces its earlier entry. */
  push(lane: string, key: string, priority: number): void {
    let heap = this.lanes.get(lane);
    if (!heap) {
      heap = new Heap<QueuedItem>(comesFirst);
      this.lanes.set(lane, heap);
    }
    const seq = this.seq++;
    this.live.set(key, seq);
    heap.push({ key, priority, seq });
  }

  remove(key: string): boolean {
    return this.live.delete(key);
  }

  has(key: string): boolean {
    return this.live.has(key);
  }

  /** The best item of a lane without taking it. */
  peek(lane: string): QueuedItem | undefined {
    const heap = this.lanes.get(lane);
    if (!heap) return undefined;
    this.dropStale(heap);
    return heap.peek();
  }

  pop(lane: string): QueuedItem | undefined {
    const heap = this.lanes.get(lane);
    if (!heap) return undefined;
    this.dropStale(heap);
    const item = heap.pop();
    if (item) this.live.delete(item.key);
    return item;
  }

  /** Lanes that currently hold at least one item. */
  activeLanes(): string[] {
    const out: string[] = [];
    for (const [lane, heap] of this.lanes) {
      this.dropStale(heap);
      if (heap.size > 0) out.push(lane);
      else this.lanes.delete(lane);
    }
    return out;
  }

  get size(): number {
    return this.live.size;
  }

  private dropStale(heap: Heap<QueuedItem>): void {
    for (let top = heap.peek(); top && this.live.get(top.key) !== top.seq; top = heap.peek()) heap.pop();
  }
}

export const capabilityLane = (capability: string): string => `cap:${capability}`;
export const workerLane = (workerId: string): string => `worker:${workerId}`;
