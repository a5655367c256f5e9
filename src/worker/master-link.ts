/**
 * The worker's one session with the master that leads: dialled, and dialled again with backoff
 * whenever it drops, through the masters' addresses in turn (a standby's NOT_LEADER sends it to
 * the leader it names, or to the next address); opened by HELLO and at once by the reclaim of
 * what the worker holds, so the master, or the one that took over, neither loses nor duplicates
 * its attempts; kept by heartbeats, and presumed dead after long silence from the master. A
 * refusal that will not fix itself (a wrong token, an untrusted certificate) stops it for good.
 */
import { TitanError } from '../core/errors.js';
import { formatMaster, LeaderSearch, leaderHint, type MasterEndpoint } from '../protocol/masters.js';
import { type AttemptId, type HelloResult, LOG_STREAM_FEATURE, NAME_TAKEN, type Results } from '../protocol/methods.js';
import { Peer } from '../protocol/peer.js';
import { dial, explainConnectFailure } from '../protocol/tls-dial.js';
import type { WorkerIdentity } from './identity.js';
import { MasterContact } from './stop-policy.js';
import type { WorkerConfig } from './worker-config.js';

/**
 * Waits between rounds over the masters: 400 ms for the first 10 rounds (about 4 s, as long as a
 * standby may take to acquire a dead leader's lease: 3 s TTL, tried every 500 ms), so a new leader
 * has its workers back within half a second and dispatches within 5 s of the old one's death; then
 * doubling, and never long.
 */
const ROUNDS = { first: 400, max: 2000, steady: 10 };
/** Heartbeat periods without any frame from the master after which the connection is presumed dead. */
const SILENT_MASTER_HEARTBEATS = 3;

type LinkConfig = Pick<WorkerConfig, 'masters' | 'token' | 'tls' | 'capabilities' | 'slots' | 'permanent' | 'spawnedBy' | 'stopAfterDisconnect' | 'onFatal'>;

/** What the session asks of the rest of the worker, and tells it. */
export interface LinkHooks {
  /** The attempts to reclaim right after HELLO. */
  held(): AttemptId[];
  /** A session began: the master has reconciled what this worker holds and names the attempts to abandon. */
  joined(peer: Peer, abandon: AttemptId[]): void;
  event(peer: Peer, event: string, data: unknown): void;
  /** Attempts running, said with each heartbeat. */
  running(): number;
  /** The master has been unreachable longer than the worker waits for it (see MasterContact). */
  unreachable(afterMs: number): void;
  log(line: string): void;
}

export class MasterLink {
  private current: Peer | null = null;
  private id: string | null = null;
  private streams = false;
  private stopping = false;
  private readonly contact: MasterContact;
  private readonly search: LeaderSearch;
  private heartbeat: NodeJS.Timeout | null = null;
  private connectedOnce: { resolve: () => void; reject: (err: Error) => void } | null = null;
  /** Waiting for a session (to upload outputs across a reconnect); woken on HELLO and on stop. */
  private sessionWaiters: (() => void)[] = [];

  constructor(
    private readonly config: LinkConfig,
    private readonly identity: WorkerIdentity,
    private readonly hooks: LinkHooks,
  ) {
    this.contact = new MasterContact(config.stopAfterDisconnect, (afterMs) => hooks.unreachable(afterMs));
    this.search = new LeaderSearch(config.masters, ROUNDS);
  }

  /** The current session, if any. */
  get peer(): Peer | null {
    return this.current;
  }

  /** Whether the current master takes log events that say which stream they came from. */
  get logStreams(): boolean {
    return this.streams;
  }

  /** The id the master gave this worker at its last HELLO. */
  get workerId(): string | null {
    return this.id;
  }

  /** Stopped, or given up: no session comes any more. */
  get stopped(): boolean {
    return this.stopping;
  }

  /** Connects, retrying with backoff; resolves after the first successful HELLO. */
  connect(): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => (this.connectedOnce = { resolve, reject }));
    this.dial();
    return ready;
  }

  /** The current session, or the next one; null once the worker is stopping. */
  async session(): Promise<Peer | null> {
    while (!this.current && !this.stopping) await new Promise<void>((resolve) => this.sessionWaiters.push(resolve));
    return this.stopping ? null : this.current;
  }

  close(): void {
    this.stopping = true;
    this.contact.close();
    for (const wake of this.sessionWaiters.splice(0)) wake();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.current?.close();
  }

  /** Dials the next master to try, after the wait the search asks for; `why` the last try failed, said with what comes next. */
  private dial(why?: string): void {
    if (this.stopping) return;
    const { master, waitMs } = this.search.next();
    if (waitMs === 0) {
      if (why !== undefined) this.hooks.log(`${why}; trying ${formatMaster(master)}`);
      return this.dialOne(master);
    }
    const delay = waitMs * (0.8 + 0.4 * Math.random());
    const none = this.search.several ? `; no master leads among ${this.search.describeTried()} yet` : '';
    this.hooks.log(`${why ?? 'no master answered'}${none}; retrying in ${Math.round(delay)} ms`);
    setTimeout(() => this.dialOne(master), delay);
  }

  private dialOne(master: MasterEndpoint): void {
    if (this.stopping) return;
    const address = formatMaster(master);
    const { socket, ready } = dial(master.host, master.port, this.config.tls);
    const peer = new Peer(socket, { server: false });
    let connected = false;
    socket.once(ready, () => {
      connected = true;
      void this.greet(peer, master);
    });
    peer.onClose((err) => {
      const joined = this.current === peer;
      if (joined) {
        this.current = null;
        this.contact.lost();
      }
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = null;
      if (this.stopping) return;
      let why: string;
      if (err instanceof TitanError && err.code === 'NOT_LEADER') {
        // A standby, or a leader deposed mid-session: go to the leader it names, or the next address.
        this.search.refused(leaderHint(err), master);
        why = `master ${address} does not lead${leaderHint(err) === undefined ? '' : ` (the leader is ${leaderHint(err)})`}: ${err.message}`;
      } else {
        // An untrusted certificate or a master that does not speak TLS will not fix itself, as a wrong token would not.
        const failure = joined ? null : explainConnectFailure(err, address, { tls: Boolean(this.config.tls), connected });
        if (failure?.fatal) return this.giveUp(new TitanError('UNAVAILABLE', failure.message));
        why = failure?.message ?? `connection to master ${address} lost (${err.message})`;
      }
      if (joined) this.search.restart();
      this.dial(why);
    });
  }

  /** Stops for good: connect() rejects, or, once joined, the process is told to exit with an error. */
  private giveUp(err: TitanError): void {
    this.hooks.log(err.message);
    this.stopping = true;
    if (this.connectedOnce) this.connectedOnce.reject(err);
    else this.config.onFatal?.(err);
    this.connectedOnce = null;
  }

  private async greet(peer: Peer, master: MasterEndpoint): Promise<void> {
    peer.onEvent = (event, data) => this.hooks.event(peer, event, data);
    let result: HelloResult;
    let abandon: AttemptId[];
    try {
      const { port, credential } = this.identity.hello();
      result = (await peer.hello({
        token: this.config.token,
        role: 'worker',
        versions: [2],
        worker: {
          host: this.identity.host,
          port,
          capabilities: this.config.capabilities,
          slots: this.config.slots,
          permanent: this.config.permanent,
          pid: process.pid,
          ...(this.config.spawnedBy !== undefined && { spawnedBy: this.config.spawnedBy }),
        },
        ...(credential !== undefined && { credential }),
      })) as HelloResult;
      // Kept before the reclaim: should the connection drop now, the next HELLO proves the name.
      this.identity.joined(result);
      // Said first, so the master has reconciled what this worker holds before anything else arrives.
      abandon = (await peer.request<Results['worker.reclaim']>('worker.reclaim', { running: this.hooks.held() })).abandon;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const message = (err as Error).message;
      // Refused as a standby: the connection's close goes on to the leader (see dialOne).
      if (code === 'NOT_LEADER') return peer.abort(err as TitanError);
      const refusal = `master refused this worker: ${message}`;
      // A wrong token or a malformed description will not fix itself: stop instead of retrying. A
      // name that belongs to a worker the master still knows comes free once it forgets that worker.
      if ((code === 'UNAUTHORIZED' && !message.includes(NAME_TAKEN)) || code === 'BAD_REQUEST') this.giveUp(new TitanError(code, refusal));
      else this.hooks.log(refusal);
      peer.close();
      return;
    }
    this.current = peer;
    for (const wake of this.sessionWaiters.splice(0)) wake();
    this.search.found(master);
    this.id = result.workerId ?? null;
    this.streams = result.features?.includes(LOG_STREAM_FEATURE) ?? false;
    const heartbeatMs = result.heartbeatMs ?? 2000;
    this.contact.joined(result);
    peer.onEvent = (event, data) => {
      this.contact.heard();
      this.hooks.event(peer, event, data);
    };
    this.heartbeat = setInterval(() => {
      // The master echoes every heartbeat; long silence means the connection is dead even if TCP has not noticed.
      if (this.contact.silentMs > SILENT_MASTER_HEARTBEATS * heartbeatMs) {
        peer.abort(`no word from the master for ${Math.round(this.contact.silentMs)} ms`);
        return;
      }
      this.current?.notify('heartbeat', { running: this.hooks.running() });
    }, heartbeatMs);
    this.heartbeat.unref();
    this.hooks.log(`joined master ${formatMaster(master)} as ${this.id}`);
    this.hooks.joined(peer, abandon);
    this.connectedOnce?.resolve();
    this.connectedOnce = null;
  }
}
