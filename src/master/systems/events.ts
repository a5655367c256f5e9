/**
 * The master's event bus: named events with typed payloads. Systems announce what happened here
 * instead of calling each other, which is what keeps apply → publish → dispatch → apply from
 * being an import cycle. A handler hears either every event of a name (`on`) or only those of one
 * key (`onKey`: a run id, a job ref, an agent run id); the emitter decides which it addresses, so
 * one commit can tell its watchers in a fixed order.
 */
import type { JobRecord, RunRecord, WorkerInfo } from '../../core/model.js';
import type { JobView } from '../../protocol/methods.js';

/** Every event the master's systems announce, and its payload. */
export interface MasterEvents {
  /** Work may be placeable now (a job queued, a slot freed, a worker able to take work). */
  ready: undefined;
  /** A worker joined, left, or changed state. */
  workers: undefined;
  /** A worker new to the master registered; keyed by its id. */
  registered: WorkerInfo;
  /** Jobs of one run changed in one commit; keyed by run id. */
  jobs: JobView[];
  /** A run changed; keyed by run id. */
  run: RunRecord;
  /** A job changed (log followers); keyed by job ref. */
  job: JobRecord;
  /** A job changed after its watchers heard it: attempts that ended let go of what they held; keyed by job ref. */
  attempt: JobRecord;
  /** A run of an agent run changed; keyed by agent run id. */
  stage: RunRecord;
  /** A commit finished a run (heard only by `on`): the run and its jobs as they ended; keyed by run id. */
  runFinished: { run: RunRecord; jobs: JobRecord[] };
  /** A commit opened a gate (heard only by `on`); keyed by run id. */
  gateOpened: { run: RunRecord; job: JobRecord };
}

export type Handler<T> = (payload: T, key: string) => void;

/**
 * The handlers of one name and key. An emitter may hold it from a change to its commit: handlers
 * that stop meanwhile are not told, and a key dropped meanwhile (its run retired by an earlier
 * commit of the same batch) still reaches the handlers it had.
 */
export class Topic<T> {
  /** Replaced on each change (copy on write), so it is walked without an iterator. */
  handlers: readonly Handler<T>[] = [];

  constructor(readonly key: string) {}

  emit(payload: T): void {
    const list = this.handlers;
    for (let i = 0; i < list.length; i++) (list[i] as Handler<T>)(payload, this.key);
  }
}

/**
 * Subscribing is rare and emitting is on the dispatch path: handler lists are arrays replaced on
 * each change, walked without allocating. A handler that stops during an emit of `emit` still
 * hears that one event; one added hears the next.
 */
export class EventBus<E> {
  private readonly all = new Map<keyof E, Handler<never>[]>();
  private readonly keyed = new Map<keyof E, Map<string, Topic<never>>>();

  /** Hears every event of `name` emitted with `emit`; returns the function that stops it. */
  on<K extends keyof E>(name: K, fn: Handler<E[K]>): () => void {
    this.all.set(name, [...(this.all.get(name) ?? []), fn]);
    return () => {
      const rest = (this.all.get(name) ?? []).filter((h) => h !== fn);
      if (rest.length > 0) this.all.set(name, rest);
      else this.all.delete(name);
    };
  }

  /** Hears the events of `name` emitted to `key`; returns the function that stops it. */
  onKey<K extends keyof E>(name: K, key: string, fn: Handler<E[K]>): () => void {
    let byKey = this.keyed.get(name);
    if (!byKey) this.keyed.set(name, (byKey = new Map()));
    let topic = byKey.get(key) as Topic<E[K]> | undefined;
    if (!topic) byKey.set(key, (topic = new Topic<E[K]>(key)) as Topic<never>);
    const held = topic;
    held.handlers = [...held.handlers, fn];
    return () => {
      held.handlers = held.handlers.filter((h) => h !== fn);
      if (held.handlers.length === 0 && byKey.get(key) === held) byKey.delete(key);
    };
  }

  /** Tells the handlers of every `name` event; `key` is passed along to them. */
  emit<K extends keyof E>(name: K, payload: E[K], key = ''): void {
    const list = this.all.get(name) as Handler<E[K]>[] | undefined;
    if (list) for (let i = 0; i < list.length; i++) (list[i] as Handler<E[K]>)(payload, key);
  }

  /** Tells the handlers of `name` for this key only. */
  emitTo<K extends keyof E>(name: K, key: string, payload: E[K]): void {
    this.topic(name, key)?.emit(payload);
  }

  /** The handlers of `name` for this key, to hold until a commit; undefined when none. */
  topic<K extends keyof E>(name: K, key: string): Topic<E[K]> | undefined {
    return this.keyed.get(name)?.get(key) as Topic<E[K]> | undefined;
  }

  /** Whether anything hears every `name` event. */
  listens(name: keyof E): boolean {
    return this.all.has(name);
  }

  /** Whether anything hears `name` for some key (`key` omitted) or for this key. */
  listensTo(name: keyof E, key?: string): boolean {
    const byKey = this.keyed.get(name);
    if (!byKey) return false;
    return key === undefined ? byKey.size > 0 : byKey.has(key);
  }

  /** Forgets the handlers of `name` for this key (what they watched is gone); a topic already held still reaches them. */
  dropKey(name: keyof E, key: string): void {
    this.keyed.get(name)?.delete(key);
  }
}
