/**
 * Keyed one-shot timers on a single underlying timeout: arming a key replaces its previous
 * deadline, so a 10,000-job DAG with delays costs one pending setTimeout, not 10,000.
 */
import { Heap } from '../core/heap.js';
import type { Clock } from './clock.js';

interface Entry {
  key: string;
  at: number;
}

export class Timers {
  /** The live deadline per key; heap entries that disagree are stale. */
  private readonly due = new Map<string, number>();
  private readonly heap = new Heap<Entry>((a, b) => a.at < b.at);
  private armed: { at: number; handle: { cancel(): void } } | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (key: string) => void,
  ) {}

  set(key: string, at: number): void {
    this.due.set(key, at);
    this.heap.push({ key, at });
    if (!this.armed || at < this.armed.at) this.arm(at);
  }

  cancel(key: string): void {
    this.due.delete(key);
  }

  get size(): number {
    return this.due.size;
  }

  private arm(at: number): void {
    this.armed?.handle.cancel();
    this.armed = { at, handle: this.clock.setTimer(() => this.tick(), at - this.clock.now()) };
  }

  private tick(): void {
    this.armed = null;
    const now = this.clock.now();
    const ready: string[] = [];
    for (let top = this.heap.peek(); top && top.at <= now; top = this.heap.peek()) {
      this.heap.pop();
      if (this.due.get(top.key) !== top.at) continue;
      this.due.delete(top.key);
      ready.push(top.key);
    }
    for (let top = this.heap.peek(); top; top = this.heap.peek()) {
      if (this.due.get(top.key) === top.at) {
        this.arm(top.at);
        break;
      }
      this.heap.pop();
    }
    for (const key of ready) this.fire(key);
  }
}
