/**
 * Several master addresses, and finding the leader among them. Masters that share a store (see
 * docs/operations.md) elect one leader; the others, standbys, refuse a HELLO with NOT_LEADER and,
 * when they know it, the leader's `host:port`. Every client door (worker, CLI, SDKs, MCP) takes a
 * comma-separated list read by `parseMasters`, and walks it with a `LeaderSearch`.
 */
import { TitanError } from './v2.js';

export const DEFAULT_MASTER_PORT = 9090;

export interface MasterEndpoint {
  host: string;
  port: number;
}

/** A bad entry of a master list: its message names the entry. */
export class MasterListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterListError';
  }
}

/** `host:port` as it is dialled and shown; an IPv6 host in brackets. */
export const formatMaster = (m: MasterEndpoint): string => (m.host.includes(':') ? `[${m.host}]:${m.port}` : `${m.host}:${m.port}`);

/** One `host`, `host:port`, `[v6]` or `[v6]:port`; a port from 1 to 65535. */
export function parseMaster(entry: string, defaultPort = DEFAULT_MASTER_PORT): MasterEndpoint {
  const text = entry.trim();
  const m = /^(?:\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]|([A-Za-z0-9_.-]+))(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[3] === undefined ? defaultPort : Number(m[3]);
  if (!m) {
    const hint = text.split(':').length > 2 && !text.startsWith('[') ? ' (write an IPv6 address in brackets: [::1]:9090)' : '';
    throw new MasterListError(`"${text}" is not a master address HOST or HOST:PORT${hint}`);
  }
  if (port < 1 || port > 65535) throw new MasterListError(`"${text}": the port must be from 1 to 65535`);
  return { host: m[1] ?? (m[2] as string), port };
}

/**
 * A comma-separated list of master addresses (or the entries already split), in the order they
 * are tried; duplicates are dropped. An empty list or entry is an error naming it.
 */
export function parseMasters(list: string | readonly string[], defaultPort = DEFAULT_MASTER_PORT): MasterEndpoint[] {
  const entries = typeof list === 'string' ? list.split(',') : list;
  const out: MasterEndpoint[] = [];
  entries.forEach((entry, i) => {
    if (entry.trim() === '') throw new MasterListError(entries.length === 1 ? 'no master address given' : `entry ${i + 1} of the master list is empty`);
    const endpoint = parseMaster(entry, defaultPort);
    if (!out.some((o) => o.host === endpoint.host && o.port === endpoint.port)) out.push(endpoint);
  });
  return out;
}

/** The leader's address a NOT_LEADER refusal carries (ErrorBody.leader), when it names one. */
export function leaderHint(err: unknown): string | undefined {
  if (!(err instanceof TitanError) || err.code !== 'NOT_LEADER') return undefined;
  const leader = (err as { leader?: unknown }).leader;
  return typeof leader === 'string' && leader !== '' ? leader : undefined;
}

/** NOT_LEADER as the wire said it, with the leader's `host:port` when the master knew it. */
export class NotLeaderError extends TitanError {
  constructor(
    message: string,
    readonly leader?: string,
  ) {
    super('NOT_LEADER', message);
    this.name = 'NotLeaderError';
  }
}

/** The error of an ErrorBody from the other side; NOT_LEADER keeps its `leader`. */
export const errorFromBody = (body: { code: string; message: string; leader?: string | undefined }): TitanError =>
  body.code === 'NOT_LEADER' ? new NotLeaderError(body.message, body.leader) : new TitanError(body.code, body.message);

/** Waits between rounds over the list: `first` for the first `steady` rounds (none by default), then doubling, at most `max`. */
export interface RoundBackoff {
  first: number;
  max: number;
  /** Rounds that wait only `first`, for as long as a standby may still be taking over. */
  steady?: number;
}

/**
 * The order in which to dial a list of masters until one leads: each address once per round,
 * starting with the last known leader; a NOT_LEADER that names the leader sends the next dial
 * there (even outside the list) without waiting; a round that found no leader is followed by a
 * wait that stays short for `backoff.steady` rounds, then doubles up to `backoff.max`. Pure: the caller dials, times and reports back.
 */
export class LeaderSearch {
  private start = 0;
  private index = 0;
  private hint: MasterEndpoint | null = null;
  private wait: number;
  /** Rounds without a leader since the search began, or since the last leader was found or lost. */
  private rounds = 0;
  /** Every address dialled since the last success, for the message when none leads. */
  readonly tried = new Set<string>();

  constructor(
    readonly masters: readonly MasterEndpoint[],
    private readonly backoff: RoundBackoff,
  ) {
    if (masters.length === 0) throw new MasterListError('no master address given');
    this.wait = backoff.first;
  }

  /** Several addresses, or a hint to follow: worth another round after a failure. */
  get several(): boolean {
    return this.masters.length > 1;
  }

  /** The next address to dial, and how long to wait before dialling it. */
  next(): { master: MasterEndpoint; waitMs: number } {
    if (this.hint) {
      const master = this.hint;
      this.hint = null;
      this.tried.add(formatMaster(master));
      return { master, waitMs: 0 };
    }
    const master = this.masters[(this.start + this.index) % this.masters.length] as MasterEndpoint;
    let waitMs = 0;
    if (this.index >= this.masters.length) {
      // A whole round found no leader: back off, then go round again.
      this.index = 0;
      waitMs = this.wait;
      if (++this.rounds >= (this.backoff.steady ?? 0)) this.wait = Math.min(this.backoff.max, this.wait * 2);
    }
    this.index++;
    this.tried.add(formatMaster(master));
    return { master, waitMs };
  }

  /** The master dialled refused as a standby; `leader` is its hint, if it gave one. */
  refused(leader: string | undefined, dialled: MasterEndpoint): void {
    if (leader === undefined) return;
    let hinted: MasterEndpoint;
    try {
      hinted = parseMaster(leader);
    } catch {
      return; // A hint that cannot be read is no hint: the next address is tried instead.
    }
    if (hinted.host !== dialled.host || hinted.port !== dialled.port) this.hint = hinted;
  }

  /** `master` leads: the next search starts with it, with the shortest wait again. */
  found(master: MasterEndpoint): void {
    const i = this.masters.findIndex((m) => m.host === master.host && m.port === master.port);
    this.start = i >= 0 ? i : this.start;
    this.index = 0;
    this.hint = null;
    this.wait = this.backoff.first;
    this.rounds = 0;
    this.tried.clear();
  }

  /**
   * Starts a new search from the last leader (after a lost session): each address once more
   * before any wait, after the leader a NOT_LEADER reply named, if one did.
   */
  restart(): void {
    this.index = 0;
    this.tried.clear();
  }

  /** The addresses dialled, for a message: `a:9090, b:9090`. */
  describeTried(): string {
    return [...this.tried].join(', ');
  }
}
