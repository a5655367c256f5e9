/**
 * The transport every sub-client of the TypeScript SDK shares: one persistent v2 connection to the
 * master that leads, opened on first use and reopened by the next request after it drops. The
 * masters come from the options or, at connect time, from TITAN_MASTERS (several masters sharing
 * a store) or TITAN_HOST and TITAN_PORT; the token from the options or TITAN_TOKEN. A master that
 * answers NOT_LEADER (a standby, or a leader that lost its lease) did nothing with the request:
 * it is sent again to the leader.
 */
import { DEFAULT_MASTER_PORT, formatMaster, LeaderSearch, leaderHint, type MasterEndpoint, MasterListError, parseMasters } from '../protocol/masters.js';
import type { Method, ParamsOf, Results } from '../protocol/methods.js';
import type { Peer } from '../protocol/peer.js';
import { type TlsSetting, tlsFilesFromEnv, tlsFromFiles } from '../protocol/tls-dial.js';
import { BadRequestError, typedError } from './errors.js';
import { CLIENT_ROUNDS, dialLeader } from './leader-dial.js';

export interface ClientOptions {
  /**
   * Several masters sharing a store (`['a:9090', 'b:9090']`, or one comma-separated string): the
   * client finds the one that leads and follows it through a failover. Instead of host and port.
   */
  masters?: string | readonly string[];
  host?: string;
  port?: number;
  token?: string;
  /** Milliseconds to wait for the TCP connection (with several masters: for one of them to answer as leader). */
  connectTimeoutMs?: number;
  /**
   * TLS to the master: `true` trusts the system CAs; `{ ca, cert, key }` (PEM contents) trusts
   * `ca` and presents a client certificate for mutual TLS; `false` forces plain TCP. When absent,
   * TITAN_TLS=1, TITAN_CA, TITAN_CERT and TITAN_KEY (file paths) decide at connect time.
   */
  tls?: TlsSetting;
}

/** The methods that open a subscription. */
export type SubscribeMethod = 'logs.follow' | 'run.watch' | 'agentRun.watch';

/**
 * The event a subscription yields, with the reply that re-opened it, after it was opened again on
 * a new connection (the master restarted, or another one leads now): what happened in between
 * is not replayed, so a watcher compares the new snapshot with what it has.
 */
export const RESUMED = 'subscription.resumed';

/** An open subscription: the reply that opened it, then its events in order until closed. */
export interface Subscription<R> {
  reply: R;
  /** The next event; `[RESUMED, reply]` after the subscription was opened again on a new connection. */
  next: () => Promise<[string, unknown]>;
  close: () => void;
}

/** What a sub-client sends its requests through. */
export interface Transport {
  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]>;
  /**
   * Sends a request that may safely be sent twice (one the master de-duplicates by its request
   * id, or a query), again after a connection lost before the reply (its fate is then unknown).
   */
  resend<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]>;
  subscribe<M extends SubscribeMethod>(method: M, params: ParamsOf<M>): Promise<Subscription<Results[M]>>;
}

export function defaultAddress(options: ClientOptions = {}): { host: string; port: number; token: string | undefined } {
  const envPort = process.env.TITAN_PORT;
  const port = options.port ?? (envPort ? Number(envPort) : DEFAULT_MASTER_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BadRequestError(options.port === undefined ? `TITAN_PORT must be a port number from 1 to 65535, got "${envPort}"` : `port must be a number from 1 to 65535, got ${port}`);
  }
  return { host: options.host ?? process.env.TITAN_HOST ?? '127.0.0.1', port, token: options.token ?? process.env.TITAN_TOKEN };
}

/** The masters to try, in order: `masters`, else host and port, else TITAN_MASTERS, else TITAN_HOST and TITAN_PORT. */
export function masterList(options: ClientOptions = {}): MasterEndpoint[] {
  const read = (list: string | readonly string[], what: string): MasterEndpoint[] => {
    try {
      return parseMasters(list);
    } catch (err) {
      if (err instanceof MasterListError) throw new BadRequestError(`${what}: ${err.message}`);
      throw err;
    }
  };
  if (options.masters !== undefined) return read(options.masters, 'masters');
  const env = process.env.TITAN_MASTERS;
  if (options.host === undefined && options.port === undefined && env) return read(env, 'TITAN_MASTERS');
  const { host, port } = defaultAddress(options);
  return [{ host, port }];
}

/** A failure after which the request or subscription may be tried again on a new connection. */
const connectionLost = (err: unknown): boolean => ['UNAVAILABLE', 'NOT_LEADER'].includes((err as { code?: unknown } | null)?.code as string);
const notLeader = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 'NOT_LEADER';

/** Waits before re-sending a request whose connection broke: 250 ms doubling, the last one 4 s (about 8 s in all). */
const RESEND_MS = { first: 250, last: 4_000 };
/** Requests refused with NOT_LEADER are sent again to the leader this many times at most. */
const NOT_LEADER_TRIES = 4;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Listener = (event: string, data: unknown) => void;

export class Connection implements Transport {
  private peer: Promise<Peer> | null = null;
  private current: Peer | null = null;
  private search: { key: string; search: LeaderSearch } | null = null;
  /** Subscription listeners by connection, then by the id of the request that opened them (ids restart with each connection). */
  private readonly listeners = new WeakMap<Peer, Map<number, Listener>>();
  private readonly dialled = new WeakMap<Peer, MasterEndpoint>();
  /** Bumped by close(): what was open before it does not resume. */
  private generation = 0;

  constructor(private readonly options: ClientOptions = {}) {}

  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]> {
    // Called first and at once: settings that cannot work (a bad port) throw here, not later.
    const first = this.connection();
    return this.onLeader((peer) => peer.request<Results[M]>(method, params), first).catch((err: unknown) => {
      throw typedError(err);
    });
  }

  async resend<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]> {
    let sent = false;
    for (let wait = RESEND_MS.first; ; wait *= 2) {
      let peer: Peer | null = null;
      try {
        peer = await this.connection();
        return await peer.request<Results[M]>(method, params);
      } catch (err) {
        // Only a broken connection leaves the fate unknown (a reply, even UNAVAILABLE, is an
        // answer), or a leader deposed while it handled the request; once it has, a master that
        // cannot be reached yet may be restarting, or a standby taking over.
        const deposed = peer !== null && notLeader(err);
        if (deposed) this.deposed(peer as Peer, err);
        const unknown = peer === null ? sent : peer.closed || deposed;
        if (!unknown || wait > RESEND_MS.last) throw typedError(err);
        sent = true;
      }
      await sleep(wait);
    }
  }

  /**
   * Opens a subscription. Its events are keyed by the id of the request that opened it, so the
   * listener is in place before anything can arrive; they are queued until read. When its
   * connection drops, reading the next event opens it again on a new one (the leader's).
   */
  async subscribe<M extends SubscribeMethod>(method: M, params: ParamsOf<M>): Promise<Subscription<Results[M]>> {
    const generation = this.generation;
    const queue: [string, unknown][] = [];
    let failure: Error | null = null;
    let closed = false;
    let wake: (() => void) | null = null;
    const listener: Listener = (event, data) => {
      queue.push([event, data]);
      wake?.();
    };
    let open: { peer: Peer; id: number; reply: Results[M] };
    const watchClose = (peer: Peer): void =>
      peer.onClose((err) => {
        if (open.peer !== peer) return;
        failure = err;
        wake?.();
      });
    try {
      open = await this.open(method, params, listener);
    } catch (err) {
      throw typedError(err);
    }
    watchClose(open.peer);
    const close = (): void => {
      closed = true;
      this.listeners.get(open.peer)?.delete(open.id);
      if (!open.peer.closed) void open.peer.request('unsubscribe', { subscription: open.id }).catch(() => {});
    };
    const next = async (): Promise<[string, unknown]> => {
      for (;;) {
        const item = queue.shift();
        if (item) return item;
        if (failure) {
          const lost = failure;
          failure = null;
          if (closed || generation !== this.generation || !connectionLost(lost)) throw typedError(lost);
          if (notLeader(lost)) this.deposed(open.peer, lost);
          this.listeners.get(open.peer)?.delete(open.id);
          open = await this.reopen(method, params, listener, lost);
          watchClose(open.peer);
          return [RESUMED, open.reply];
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    };
    return { reply: open.reply, next, close };
  }

  close(): void {
    this.generation++;
    const peer = this.peer;
    this.peer = null;
    void peer?.then((p) => p.close(), () => {});
  }

  /** Sends through the leader's connection; a NOT_LEADER reply (nothing was done) is sent again to the leader. */
  private async onLeader<T>(send: (peer: Peer) => Promise<T>, first?: Promise<Peer>): Promise<T> {
    for (let tries = 1; ; tries++) {
      const peer = await (tries === 1 && first ? first : this.connection());
      try {
        return await send(peer);
      } catch (err) {
        if (!notLeader(err) || tries >= NOT_LEADER_TRIES) throw err;
        this.deposed(peer, err);
      }
    }
  }

  /** Opens a subscription on the leader's connection, with its listener in place. */
  private open<M extends SubscribeMethod>(method: M, params: ParamsOf<M>, listener: Listener): Promise<{ peer: Peer; id: number; reply: Results[M] }> {
    return this.onLeader(async (peer) => {
      const { id, reply } = peer.begin<Results[M]>(method, params);
      const byId = this.listeners.get(peer) ?? new Map<number, Listener>();
      this.listeners.set(peer, byId);
      byId.set(id, listener);
      try {
        return { peer, id, reply: await reply };
      } catch (err) {
        byId.delete(id);
        throw err;
      }
    });
  }

  /** Opens a subscription again after its connection was lost, waiting as resend does for a master to come back. */
  private async reopen<M extends SubscribeMethod>(method: M, params: ParamsOf<M>, listener: Listener, lost: Error): Promise<{ peer: Peer; id: number; reply: Results[M] }> {
    for (let wait = RESEND_MS.first; ; wait *= 2) {
      try {
        return await this.open(method, params, listener);
      } catch (err) {
        if (!connectionLost(err)) throw typedError(err);
        if (wait > RESEND_MS.last) throw typedError(err instanceof Error ? err : lost);
      }
      await sleep(wait);
    }
  }

  /** `peer`'s master no longer leads: the next connection goes to the leader it named, or the next address. */
  private deposed(peer: Peer, err: unknown): void {
    const master = this.dialled.get(peer);
    if (master) this.search?.search.refused(leaderHint(err), master);
    if (this.current === peer) {
      this.current = null;
      this.peer = null;
    }
    peer.close();
  }

  private connection(): Promise<Peer> {
    if (!this.peer) {
      const opening = this.connect(masterList(this.options), this.options.tls ?? tlsFromEnvironment());
      this.peer = opening;
      opening.catch(() => {
        if (this.peer === opening) this.peer = null;
      });
    }
    return this.peer;
  }

  private async connect(masters: MasterEndpoint[], tls: TlsSetting): Promise<Peer> {
    const key = masters.map(formatMaster).join(',');
    if (this.search?.key !== key) this.search = { key, search: new LeaderSearch(masters, CLIENT_ROUNDS) };
    const { peer, master } = await dialLeader(this.search.search, {
      token: this.options.token ?? process.env.TITAN_TOKEN,
      tls,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
      onEvent: (from, event, data) => {
        const sub = (data as { subscription?: number } | undefined)?.subscription;
        if (sub !== undefined) this.listeners.get(from)?.get(sub)?.(event, data);
      },
    });
    this.dialled.set(peer, master);
    this.current = peer;
    peer.onClose(() => {
      if (this.current === peer) {
        this.current = null;
        this.peer = null;
      }
    });
    return peer;
  }
}

/** TLS as TITAN_TLS/TITAN_CA/TITAN_CERT/TITAN_KEY say (false when unset); a bad file is a BadRequestError naming it. */
function tlsFromEnvironment(): TlsSetting {
  const { enabled, files } = tlsFilesFromEnv();
  try {
    return tlsFromFiles(files, enabled) ?? false;
  } catch (err) {
    throw new BadRequestError(`TITAN_TLS/TITAN_CA/TITAN_CERT/TITAN_KEY: ${(err as Error).message}`);
  }
}
