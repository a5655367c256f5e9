/**
 * The master's event bus: named events with typed payloads. Systems announce what happened here
 * instead of calling each other, which is what keeps apply → publish → dispatch → apply from
 * being an import cycle. A handler hears either every event of a name (`on`) or only those of one
 * key (`onKey`: a run id, a job key, an agent run id); the emitter decides which it addresses, so
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
  /** A job changed (log followers); keyed by job key. */
  job: JobRecord;
  /** A job changed after its watchers heard it: attempts that ended let go of what they held; keyed by job key. */
  attempt: JobRecord;
  /** A run of an agent run changed; keyed by agent run id. */
  stage: RunRecord;
}

export type Handler<T> = (payload: T, key: string) => void;

/**
 * Handlers are kept in arrays replaced on each change (copy on write): subscribing is rare,
 * emitting is on the dispatch path, and an array is walked without allocating an iterator. A
 * handler that stops during an emit still hears that one event; one added hears the next.
 */
export class EventBus<E> {
  private readonly all = new Map<keyof E, Handler<never>[]>();
  private readonly keyed = new Map<keyof E, Map<string, Handler<never>[]>>();

  /** Hears every event of `name` emitted with `emit`; returns the function that stops it. */
  on<K extends keyof E>(name: K, fn: Handler<E[K]>): () => void {
    this.all.set(name, [...(this.all.get(name) ?? []), fn]);
    return () => {
      const rest = (this.all.get(name) ?? []).filter((h) => h !== fn);
      if (rest.length > 0) this.all.set(name, rest);
      else this.all.delete(name);
    };
  }

  /** Hears the events of `name` emitted to `key` with `emitTo`; returns the function that stops it. */
  onKey<K extends keyof E>(name: K, key: string, fn: Handler<E[K]>): () => void {
    let byKey = this.keyed.get(name);
    if (!byKey) this.keyed.set(name, (byKey = new Map()));
    byKey.set(key, [...(byKey.get(key) ?? []), fn]);
    return () => {
      const current = byKey.get(key);
      if (!current?.includes(fn)) return;
      const rest = current.filter((h) => h !== fn);
      if (rest.length > 0) byKey.set(key, rest);
      else byKey.delete(key);
    };
  }

  /** Tells the handlers of every `name` event; `key` is passed along to them. */
  emit<K extends keyof E>(name: K, payload: E[K], key = ''): void {
    const list = this.all.get(name) as Handler<E[K]>[] | undefined;
    if (list) for (let i = 0; i < list.length; i++) (list[i] as Handler<E[K]>)(payload, key);
  }

  /** Tells the handlers of `name` for this key only. */
  emitTo<K extends keyof E>(name: K, key: string, payload: E[K]): void {
    const list = this.keyed.get(name)?.get(key) as Handler<E[K]>[] | undefined;
    if (list) for (let i = 0; i < list.length; i++) (list[i] as Handler<E[K]>)(payload, key);
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

  /** Forgets every handler of `name` for this key (what they watched is gone). */
  dropKey(name: keyof E, key: string): void {
    this.keyed.get(name)?.delete(key);
  }
}
