/**
 * The transport every sub-client of the TypeScript SDK shares: one persistent v2 connection to the
 * master, opened on first use and reopened by the next request after it drops. Host, port and
 * token come from the options or, at connect time, from TITAN_HOST, TITAN_PORT and TITAN_TOKEN.
 */
import type { Method, ParamsOf, Results } from '../protocol/methods.js';
import { Peer } from '../protocol/peer.js';
import { type ConnectFailure, dial, explainConnectFailure, type TlsSetting, tlsFilesFromEnv, tlsFromFiles } from '../protocol/tls-dial.js';
import { BadRequestError, typedError, UnavailableError } from './errors.js';

export interface ClientOptions {
  host?: string;
  port?: number;
  token?: string;
  /** Milliseconds to wait for the TCP connection. */
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

/** An open subscription: the reply that opened it, then its events in order until closed. */
export interface Subscription<R> {
  reply: R;
  next: () => Promise<[string, unknown]>;
  close: () => void;
}

/** What a sub-client sends its requests through. */
export interface Transport {
  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]>;
  /**
   * Sends a request the master de-duplicates by its request id, again after a connection lost
   * before the reply (its fate is then unknown).
   */
  resend<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]>;
  subscribe<M extends SubscribeMethod>(method: M, params: ParamsOf<M>): Promise<Subscription<Results[M]>>;
}

export function defaultAddress(options: ClientOptions = {}): { host: string; port: number; token: string | undefined } {
  const envPort = process.env.TITAN_PORT;
  const port = options.port ?? (envPort ? Number(envPort) : 9090);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BadRequestError(options.port === undefined ? `TITAN_PORT must be a port number from 1 to 65535, got "${envPort}"` : `port must be a number from 1 to 65535, got ${port}`);
  }
  return { host: options.host ?? process.env.TITAN_HOST ?? '127.0.0.1', port, token: options.token ?? process.env.TITAN_TOKEN };
}

/** Waits before re-sending a request whose connection broke: 250 ms doubling, the last one 4 s (about 8 s in all). */
const RESEND_MS = { first: 250, last: 4_000 };

export class Connection implements Transport {
  private peer: Promise<Peer> | null = null;
  private current: Peer | null = null;
  private readonly listeners = new Map<number, (event: string, data: unknown) => void>();

  constructor(private readonly options: ClientOptions = {}) {}

  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]> {
    return this.connection()
      .then((peer) => peer.request<Results[M]>(method, params))
      .catch((err: unknown) => {
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
        // answer); once it has, a master that cannot be reached yet may be restarting.
        const unknown = peer === null ? sent : peer.closed;
        if (!unknown || wait > RESEND_MS.last) throw typedError(err);
        sent = true;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * Opens a subscription. Its events are keyed by the id of the request that opened it, so the
   * listener is in place before anything can arrive; they are queued until read.
   */
  async subscribe<M extends SubscribeMethod>(method: M, params: ParamsOf<M>): Promise<Subscription<Results[M]>> {
    const peer = await this.connection();
    const queue: [string, unknown][] = [];
    let failure: Error | null = null;
    let wake: (() => void) | null = null;
    const { id, reply } = peer.begin<Results[M]>(method, params);
    this.listeners.set(id, (event, data) => {
      queue.push([event, data]);
      wake?.();
    });
    peer.onClose((err) => {
      failure = err;
      wake?.();
    });
    const close = (): void => {
      this.listeners.delete(id);
      if (!peer.closed) void peer.request('unsubscribe', { subscription: id }).catch(() => {});
    };
    let result: Results[M];
    try {
      result = await reply;
    } catch (err) {
      this.listeners.delete(id);
      throw typedError(err);
    }
    const next = async (): Promise<[string, unknown]> => {
      for (;;) {
        const item = queue.shift();
        if (item) return item;
        if (failure) throw typedError(failure);
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    };
    return { reply: result, next, close };
  }

  close(): void {
    const peer = this.peer;
    this.peer = null;
    void peer?.then((p) => p.close(), () => {});
  }

  private connection(): Promise<Peer> {
    if (!this.peer) {
      this.peer = this.open();
      this.peer.catch(() => (this.peer = null));
    }
    return this.peer;
  }

  private open(): Promise<Peer> {
    const { host, port, token } = defaultAddress(this.options);
    const tls = this.options.tls ?? tlsFromEnvironment();
    const address = `${host}:${port}`;
    const explain = (err: Error, connected: boolean): ConnectFailure | null => explainConnectFailure(err, address, { tls: tls !== false, connected });
    return new Promise<Peer>((resolve, reject) => {
      const { socket, ready } = dial(host, port, tls);
      const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
      let connected = false;
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new UnavailableError(explain(err, connected)?.message ?? `cannot reach the master at ${address}: ${err.message}`, err));
      });
      socket.once(ready, () => {
        clearTimeout(timer);
        connected = true;
        const peer = new Peer(socket, { server: false });
        peer.onEvent = (event, data) => {
          const sub = (data as { subscription?: number } | undefined)?.subscription;
          if (sub !== undefined) this.listeners.get(sub)?.(event, data);
        };
        peer.onClose(() => {
          if (this.peer && this.current === peer) this.peer = null;
        });
        peer.hello({ token, role: 'client', versions: [2] }).then(
          () => {
            this.current = peer;
            resolve(peer);
          },
          (err: Error) => {
            const words = explain(err, true);
            reject(words ? new UnavailableError(words.message, err) : typedError(err));
          },
        );
      });
    });
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
