/**
 * Opening the SDK's session with the master that leads: the addresses are dialled in order (see
 * LeaderSearch); a standby's NOT_LEADER sends the next dial to the leader it names, or to the next
 * address; rounds that find no leader are repeated with backoff until the connect timeout. With a
 * single address that cannot be reached, the failure is reported at once, as it always was.
 */
import { formatMaster, LeaderSearch, leaderHint, type MasterEndpoint } from '../protocol/masters.js';
import { Peer } from '../protocol/peer.js';
import { type ConnectFailure, dial, explainConnectFailure, type TlsSetting } from '../protocol/tls-dial.js';
import { typedError, UnavailableError } from './errors.js';

/** Waits between rounds over the masters: at most 500 ms at first, at most 2 s later. */
export const CLIENT_ROUNDS = { first: 250, max: 2_000 };

export interface LeaderDialOptions {
  token: string | undefined;
  tls: TlsSetting;
  connectTimeoutMs: number;
  /** Set on the peer before its HELLO, so nothing it receives is missed. */
  onEvent: (peer: Peer, event: string, data: unknown) => void;
}

/** Failures no other address or later try can fix (an untrusted certificate, TLS on one side only). */
const hopeless = new WeakSet<Error>();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A session with the leader, and its address; UnavailableError naming every address tried when none leads in time. */
export async function dialLeader(search: LeaderSearch, options: LeaderDialOptions): Promise<{ peer: Peer; master: MasterEndpoint }> {
  const deadline = Date.now() + options.connectTimeoutMs;
  let standby = false;
  let last: unknown = null;
  search.restart();
  for (;;) {
    const { master, waitMs } = search.next();
    if (waitMs > 0 && last !== null) {
      // One address that is down is an error at once; standbys or several addresses are worth another round.
      if (!search.several && !standby) throw last;
      if (Date.now() + waitMs >= deadline) throw noLeader(search, last, options.connectTimeoutMs);
      await sleep(waitMs);
    } else if (last !== null && Date.now() >= deadline) throw noLeader(search, last, options.connectTimeoutMs);
    try {
      const peer = await greet(master, options, Math.max(1, deadline - Date.now()));
      search.found(master);
      return { peer, master };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'NOT_LEADER') {
        standby = true;
        search.refused(leaderHint(err), master);
      } else if (!(err instanceof UnavailableError) || hopeless.has(err)) throw err;
      last = err;
    }
  }
}

function noLeader(search: LeaderSearch, last: unknown, timeoutMs: number): UnavailableError {
  const why = last instanceof Error ? last.message : String(last);
  return new UnavailableError(`no master answered as leader within ${timeoutMs} ms (tried ${search.describeTried()}); last: ${why}`, last);
}

/** Dials one master and says HELLO; rejects with an UnavailableError, NOT_LEADER or the master's refusal. */
function greet(master: MasterEndpoint, options: LeaderDialOptions, timeoutMs: number): Promise<Peer> {
  const address = formatMaster(master);
  const explain = (err: Error, connected: boolean): ConnectFailure | null => explainConnectFailure(err, address, { tls: options.tls !== false, connected });
  const unavailable = (failure: ConnectFailure | null, fallback: string, cause: Error): UnavailableError => {
    const err = new UnavailableError(failure?.message ?? fallback, cause);
    if (failure?.fatal === true) hopeless.add(err);
    return err;
  };
  return new Promise<Peer>((resolve, reject) => {
    const { socket, ready } = dial(master.host, master.port, options.tls);
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    let connected = false;
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(unavailable(explain(err, connected), `cannot reach the master at ${address}: ${err.message}`, err));
    });
    socket.once(ready, () => {
      clearTimeout(timer);
      connected = true;
      const peer = new Peer(socket, { server: false });
      peer.onEvent = (event, data) => options.onEvent(peer, event, data);
      peer.hello({ token: options.token, role: 'client', versions: [2] }).then(
        () => resolve(peer),
        (err: Error) => {
          if ((err as { code?: unknown }).code === 'NOT_LEADER') return reject(err);
          const words = explain(err, true);
          reject(words ? unavailable(words, words.message, err) : typedError(err));
        },
      );
    });
  });
}
