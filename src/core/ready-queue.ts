/**
 * Ready jobs partitioned by lane (a capability pool, or one worker for required affinity).
 * Within a lane: higher priority first; within a priority, groups (runs, or the fairness group a
 * run names) take turns, each taking as many jobs per turn as its weight; FIFO within a group.
 * So a small run queued behind a huge one starts at the next free slot, and a lone huge run
 * still gets every slot. Push and pop cost O(1) plus O(log p) for p distinct priorities.
 *
 * A job that may not start yet for a flow-control key is parked on that key, out of its lane (so
 * it holds up nothing behind it), and woken back to the end of its group's line when the key
 * frees up.
 */
import { Heap } from './heap.js';

export interface QueuedItem {
  key: string;
  priority: number;
  seq: number;
  /** The fairness group the item takes turns in. */
  group: string;
  /** How many items the group takes per turn. */
  weight: number;
}

interface Entry extends QueuedItem {
  lane: string;
}

export const comesFirst = (a: QueuedItem, b: QueuedItem): boolean => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);

/** A FIFO with O(1) shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }
}

/** The groups of one priority in one lane, taking turns. */
class Level {
  readonly groups = new Map<string, Fifo<Entry>>();
  /** Groups with items, in turn order; the first one's turn is under way. */
  readonly turns = new Fifo<string>();
  /** Items the group whose turn it is may still take in this turn (0: its turn has not begun). */
  private credit = 0;

  add(entry: Entry): void {
    let fifo = this.groups.get(entry.group);
    if (!fifo) {
      fifo = new Fifo<Entry>();
      this.groups.set(entry.group, fifo);
      this.turns.push(entry.group);
    }
    fifo.push(entry);
  }

  /** The live item whose turn it is, dropping stale entries and emptied groups on the way. */
  head(isLive: (e: Entry) => boolean): Entry | undefined {
    for (let group = this.turns.peek(); group !== undefined; group = this.turns.peek()) {
      const fifo = this.groups.get(group) as Fifo<Entry>;
      for (let e = fifo.peek(); e !== undefined; e = fifo.peek()) {
        if (isLive(e)) return e;
        fifo.shift();
      }
      this.groups.delete(group);
      this.turns.shift();
      this.credit = 0;
    }
    return undefined;
  }

  /** Takes the head (found by `head` just before); the group's turn ends after `weight` items. */
  take(): void {
    const group = this.turns.peek() as string;
    const fifo = this.groups.get(group) as Fifo<Entry>;
    const taken = fifo.shift() as Entry;
    if (this.credit <= 0) this.credit = taken.weight;
    this.credit--;
    if (this.credit > 0 && fifo.size > 0) return;
    this.turns.shift();
    this.credit = 0;
    if (fifo.size > 0) this.turns.push(group);
    else this.groups.delete(group);
  }
}

class Lane {
  readonly levels = new Map<number, Level>();
  /** The priorities that have a level, highest first. */
  readonly priorities = new Heap<number>((a, b) => a > b);

  add(entry: Entry): void {
    let level = this.levels.get(entry.priority);
    if (!level) {
      level = new Level();
      this.levels.set(entry.priority, level);
      this.priorities.push(entry.priority);
    }
    level.add(entry);
  }

  /** The best live item and its level, dropping emptied levels on the way. */
  head(isLive: (e: Entry) => boolean): { entry: Entry; level: Level } | undefined {
    for (let p = this.priorities.peek(); p !== undefined; p = this.priorities.peek()) {
      const level = this.levels.get(p) as Level;
      const entry = level.head(isLive);
      if (entry) return { entry, level };
      this.levels.delete(p);
      this.priorities.pop();
    }
    return undefined;
  }
}

export class ReadyQueue {
  private readonly lanes = new Map<string, Lane>();
  private seq = 0;
  /** Each queued key's live entry; entries elsewhere that are not this one are stale. */
  private readonly live = new Map<string, Entry>();
  /** Items parked on a flow-control key, in the order they were parked. */
  private readonly parked = new Map<string, Fifo<Entry>>();
  private readonly isLive = (e: Entry): boolean => this.live.get(e.key) === e;

  /** Queues a key; queuing it again replaces its earlier entry (parked or not). */
  push(lane: string, key: string, priority: number, group = '', weight = 1): void {
    const entry: Entry = { key, priority, seq: this.seq++, group, weight, lane };
    this.live.set(key, entry);
    this.laneOf(lane).add(entry);
  }

  remove(key: string): boolean {
    return this.live.delete(key);
  }

  has(key: string): boolean {
    return this.live.has(key);
  }

  /** The best item of a lane without taking it. */
  peek(lane: string): QueuedItem | undefined {
    return this.lanes.get(lane)?.head(this.isLive)?.entry;
  }

  pop(lane: string): QueuedItem | undefined {
    const head = this.lanes.get(lane)?.head(this.isLive);
    if (!head) return undefined;
    head.level.take();
    this.live.delete(head.entry.key);
    return head.entry;
  }

  /**
   * Takes a lane's best item out of line and parks it on a flow-control key: it stays queued
   * but is not offered until `wake` is called for that key.
   */
  parkHead(lane: string, flowKey: string): void {
    const head = this.lanes.get(lane)?.head(this.isLive);
    if (!head) return;
    head.level.take();
    let fifo = this.parked.get(flowKey);
    if (!fifo) this.parked.set(flowKey, (fifo = new Fifo<Entry>()));
    fifo.push(head.entry);
  }

  /** Puts back in line up to `n` items parked on a key, in the order they were parked; returns their keys. */
  wake(flowKey: string, n: number): string[] {
    const fifo = this.parked.get(flowKey);
    const woken: string[] = [];
    while (fifo && woken.length < n && fifo.size > 0) {
      const e = fifo.shift() as Entry;
      if (!this.isLive(e)) continue;
      this.laneOf(e.lane).add(e);
      woken.push(e.key);
    }
    if (fifo?.size === 0) this.parked.delete(flowKey);
    return woken;
  }

  /** The oldest item still parked on a flow-control key. */
  firstParked(flowKey: string): string | undefined {
    const fifo = this.parked.get(flowKey);
    for (let e = fifo?.peek(); fifo && e !== undefined; e = fifo.peek()) {
      if (this.isLive(e)) return e.key;
      fifo.shift();
    }
    this.parked.delete(flowKey);
    return undefined;
  }

  /** The keys of items parked on a flow-control key, oldest first. */
  parkedOn(flowKey: string): string[] {
    const fifo = this.parked.get(flowKey);
    return fifo ? [...fifo].filter(this.isLive).map((e) => e.key) : [];
  }

  /** Flow-control keys that have parked items (some may have been removed since). */
  parkedKeys(): string[] {
    return [...this.parked.keys()];
  }

  /** The flow-control key a queued item is parked on, or null when it is in line. */
  parkedKeyOf(key: string): string | null {
    const entry = this.live.get(key);
    if (!entry) return null;
    for (const [flowKey, fifo] of this.parked) for (const e of fifo) if (e === entry) return flowKey;
    return null;
  }

  /**
   * About how many items of its lane will be offered before this one: those of higher
   * priorities, and within its priority as many of each other group as the turns give them.
   * Null when the key is not in line. Costs a walk of the lane: for views, not for dispatch.
   */
  ahead(key: string): number | null {
    const entry = this.live.get(key);
    const lane = entry ? this.lanes.get(entry.lane) : undefined;
    if (!entry || !lane) return null;
    const level = lane.levels.get(entry.priority);
    const own = level?.groups.get(entry.group);
    if (!level || !own) return null;
    let position = -1;
    let i = 0;
    for (const e of own) {
      if (e === entry) {
        position = i;
        break;
      }
      if (this.isLive(e)) i++;
    }
    if (position < 0) return null;
    let count = position;
    const turns = Math.ceil((position + 1) / entry.weight);
    for (const [group, fifo] of level.groups) {
      if (group === entry.group) continue;
      const live = [...fifo].filter(this.isLive);
      count += Math.min(live.length, turns * (live[0]?.weight ?? 1));
    }
    for (const [p, other] of lane.levels) {
      if (p <= entry.priority) continue;
      for (const fifo of other.groups.values()) for (const e of fifo) if (this.isLive(e)) count++;
    }
    return count;
  }

  /** Lanes that currently hold at least one item in line. */
  activeLanes(): string[] {
    const out: string[] = [];
    for (const [name, lane] of this.lanes) {
      if (lane.head(this.isLive)) out.push(name);
      else this.lanes.delete(name);
    }
    return out;
  }

  /** Items queued, parked ones included. */
  get size(): number {
    return this.live.size;
  }

  private laneOf(name: string): Lane {
    let lane = this.lanes.get(name);
    if (!lane) this.lanes.set(name, (lane = new Lane()));
    return lane;
  }
}

export const capabilityLane = (capability: string): string => `cap:${capability}`;
export const workerLane = (workerId: string): string => `worker:${workerId}`;
