/** The composition root of a master process: store, master, TCP and HTTP servers. */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, isIP, type Server } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { MasterStartSettings } from '../config/master-settings.js';
import { type MasterUnits, masterUnits } from '../config/master-units.js';
import { Master } from '../master/master.js';
import { PostgresStore } from '../store/postgres-store.js';
import { isPostgresUrl } from '../store/postgres-url.js';
import { RedisStore } from '../store/redis-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { lockDir } from '../worker/dir-lock.js';
import { privateDataDir } from './data-dir.js';
import { createHttpServer, type HttpPortOptions } from './http.js';
import { HTTP_TIMEOUTS, type HttpTimeouts } from './limits.js';
import { scaleWebhook } from './scale-webhook.js';
import { notificationPoster } from './notify-post.js';
import { jobTokenMinter } from '../protocol/derived-tokens.js';
import { leaderTcp } from './tcp.js';
import type { ServerTls } from './tls.js';
import { allowList, publicBlocks } from './v1.js';
import { loadOrCreateToken } from './token.js';
import { secretKeysOf } from './secret-key.js';
import { importAccessFiles } from './access-import.js';
import { AuditLog } from './audit-log.js';
import { Gatekeeper, type UiLogin } from './gatekeeper.js';
import { Identities } from './identities.js';
import { FencedError, hasLease, type LeasedStore } from '../store/lease.js';
import { advertisedHost, Leadership, LOST_LEADERSHIP_EXIT, watchFenced } from './leadership.js';
import { createStandbyHttpApp, standbyTcp } from './standby.js';
import { MasterDoors } from './doors.js';

/**
 * What a master starts with: its settings as the command line gives them (MASTER_SETTINGS but
 * those the command reads itself), and what the command made of those.
 */
export interface MasterConfig extends MasterStartSettings {
  /** The cluster token (its flag, its file or TITAN_TOKEN); absent: the data directory's, or a new one. */
  /**
   * Called once when this master loses the leadership of masters sharing a store; by default it
   * says why in one line and exits with LOST_LEADERSHIP_EXIT.
   */
  onLostLeadership?: (why: string) => void;
  token?: string;
  /** The dashboard's user and password (`--ui-user`, `--ui-password-file`); the token always signs in too. */
  ui?: UiLogin;
  /** TLS on both ports (loaded by loadServerTls); with a client CA, mutual TLS. */
  tls?: ServerTls;
}

export interface RunningMaster {
  master: Master;
  dataDir: string;
  port: number;
  httpPort: number;
  token: string;
  tokenCreated: boolean;
  /** Whether both ports speak TLS (the HTTP one is then https). */
  tls: boolean;
  close(): Promise<void>;
}

/**
 * A port the master cannot listen on (taken, not this machine's address, privileged), naming the
 * option that chooses another: a mistake in the command line or the machine, not a fault.
 */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

export async function startMaster(config: MasterConfig): Promise<RunningMaster> {
  const dataDir = resolve(config.dataDir);
  // Before anything is opened or created: a busy port is most often another master, perhaps on
  // this very data directory, whose store must not be opened a second time.
  await checkPorts(config);
  const created = firstMissing(dataDir);
  // What has been opened so far, closed in reverse when a later step fails.
  const opened: (() => Promise<unknown>)[] = [];
  try {
    return await start(config, dataDir, opened);
  } catch (err) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    // A start that failed leaves no data directory (and no new token) behind; one that was there stays.
    if (created !== null) rmSync(created, { recursive: true, force: true });
    throw err;
  }
}

async function start(config: MasterConfig, dataDir: string, opened: (() => Promise<unknown>)[]): Promise<RunningMaster> {
  // Before the data directory is made private: a secrets key file found open to others is refused, not closed.
  const secretKeys = secretKeysOf(dataDir, process.env);
  privateDataDir(dataDir, (line) => void process.stderr.write(`titan master: ${line}\n`));
  const unlock = lockDir(dataDir, { role: 'master', option: '--data-dir' });
  opened.push(async () => unlock());
  const { token, created } = loadOrCreateToken(dataDir, config.token);
  const units = masterUnits(config);
  const shared = await openStore(config.store, dataDir);
  opened.push(() => shared.close());
  let store: Store = shared;
  let leadership: Leadership | null = null;
  // A standby's doors, open while it stands by and takes over; without a lease they open once the master is ready.
  let doors: MasterDoors | null = null;
  if (hasLease(shared)) {
    const lead = await standBy(config, units, shared, opened);
    leadership = lead.leadership;
    doors = lead.doors;
    opened.push(() => lead.leadership.release());
    // Opened now, so it starts from the store as the last leader left it (as after a restart),
    // and fenced before anything is read, so that no write lands once another master leads.
    const own = await openStore(config.store, dataDir, false);
    opened.push(() => own.close());
    if (!hasLease(own)) throw new Error('the store lost its lease between two openings');
    (own as LeasedStore).lease.fence(lead.epoch);
    const lost = config.onLostLeadership ?? exitLostLeadership;
    lead.leadership.keep(lost);
    store = watchFenced(own, (err: FencedError) => lead.leadership.lost(err.message));
  }
  // Links in notifications: --public-url, else the HTTP port's address once it is known.
  const dashboardAt = (port: number): string => config.publicUrl ?? `${config.tls ? 'https' : 'http'}://${urlHost(advertisedHost(config.host, config.advertise))}:${port}`;
  let publicUrl = dashboardAt(config.httpPort);
  const master = new Master({
    dataDir,
    ...(config.blobDir !== undefined && { blobDir: privateDir(resolve(config.blobDir)) }),
    jobToken: jobTokenMinter(token),
    secretKeys,
    store,
    ...units.tuning,
    ...(units.autoscale !== undefined && { autoscale: units.autoscale }),
    notify: { post: notificationPoster({ timeoutMs: units.tuning.notifyTimeoutMs }), publicUrl: () => publicUrl, retryBaseMs: units.tuning.notifyRetryBaseMs },
    ...(config.scaleWebhook !== undefined && { onDesired: scaleWebhook(config.scaleWebhook, (line) => process.stderr.write(`titan master: ${line}\n`)) }),
  });
  await master.start();
  opened.push(() => master.close());
  const retention = units.retainMs === undefined ? null : retainRuns(master, units.retainMs);
  if (retention) opened.push(() => retention.stop());
  const wide = config.legacyV1 ? publicBlocks(config.legacyV1Allow ?? []) : [];
  if (wide.length > 0) {
    process.stderr.write(`titan master: WARNING: --legacy-v1-allow ${wide.join(', ')} reaches beyond private networks. Titan's v1 protocol has no token: anyone there can submit jobs, which run code on your workers. Allow only the addresses of your own clients.\n`);
  }
  const log = (line: string): void => void process.stderr.write(`titan master: ${line}\n`);
  // Identities and the audit log live in the store; loaded now, when this master leads.
  await importAccessFiles(store, dataDir, log);
  const gate = new Gatekeeper(token, await Identities.load(store), new AuditLog(store, Date.now, log), config.ui);
  opened.push(() => gate.audit.flushed());
  // Who received which secrets: the job's attempt, on the worker it was dispatched to.
  master.onSecretsHandedOut(({ attempt, names, workerId }) =>
    gate.audit.record({ who: `${attempt.runId}/${attempt.jobId}#${attempt.attempt}`, kind: 'job', via: 'tcp', from: workerId, action: 'secrets.read', target: names.join(','), ok: true }),
  );
  const tcp = leaderTcp(master, gate, { enabled: config.legacyV1 ?? false, allow: allowList(config.legacyV1Allow ?? []) });
  const http = createHttpServer(master, { gate, dataDir, ...(config.webDir !== undefined && { webRoot: resolve(config.webDir) }), tls: config.tls, self: leadership?.me });
  if (doors === null) {
    const own = new MasterDoors(doorOptions(config, units));
    doors = own;
    opened.push(() => own.close());
    await listenBoth(own, config, { tcp: config.port, http: config.httpPort });
  }
  await doors.lead(tcp, http);
  const both = doors;
  publicUrl = dashboardAt((both.http.address() as AddressInfo).port);
  return {
    master,
    dataDir,
    port: (both.tcp.address() as AddressInfo).port,
    httpPort: (both.http.address() as AddressInfo).port,
    token,
    tokenCreated: created,
    tls: config.tls !== undefined,
    async close() {
      await retention?.stop();
      await both.close();
      await master.close();
      await gate.audit.flushed();
      // After the last write: a standby takes over at once instead of waiting for the lease to expire.
      await leadership?.release().catch(() => undefined);
      if (store !== shared) await store.close();
      await shared.close();
      unlock();
    },
  };
}

/** A host as a URL writes it: an IPv6 address in brackets. */
const urlHost = (host: string): string => (isIP(host) === 6 ? `[${host}]` : host);

/** The outermost folder of `path` that does not exist yet (what creating it would create), or null. */
function firstMissing(path: string): string | null {
  let missing: string | null = null;
  for (let dir = path; !existsSync(dir); dir = dirname(dir)) {
    missing = dir;
    if (dirname(dir) === dir) break;
  }
  return missing;
}

/** Binds both ports at once for a moment (0: any free one, nothing to check), so that each is known to be free. */
async function checkPorts(config: MasterConfig): Promise<void> {
  const probes: Server[] = [];
  try {
    for (const [port, flag] of [[config.port, '--port'], [config.httpPort, '--http-port']] as const) {
      if (port === 0) continue;
      const probe = createServer();
      await listen(probe, port, config.host, flag);
      probes.push(probe);
    }
  } finally {
    await Promise.all(probes.map((p) => new Promise<void>((r) => p.close(() => r()))));
  }
}

/** Deletes runs finished longer ago than `retainMs`, now and every hour; stop() waits for a sweep under way. */
function retainRuns(master: Master, retainMs: number): { stop(): Promise<void> } {
  const log = (line: string): void => void process.stderr.write(`titan master: ${line}\n`);
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = (): void => {
    sweeping = sweeping.then(() =>
      master.pruneRuns(Date.now() - retainMs).then(
        (n) => n > 0 && log(`deleted ${n} run${n === 1 ? '' : 's'} that finished longer than --retain-days ago`),
        (err: Error) => log(`deleting old runs failed: ${err.message}`),
      ),
    );
  };
  sweep();
  const timer = setInterval(sweep, 3_600_000).unref();
  return {
    async stop() {
      clearInterval(timer);
      await sweeping;
    },
  };
}

/**
 * Stands by on the master's ports until this master acquires the lease of `store`: the standby's
 * answers are served meanwhile, and the doors stay open for the leader (MasterDoors.takeOver).
 */
async function standBy(config: MasterConfig, units: MasterUnits, store: LeasedStore, opened: (() => Promise<unknown>)[]): Promise<{ leadership: Leadership; epoch: number; doors: MasterDoors }> {
  const log = (line: string): void => void process.stderr.write(`titan master: ${line}\n`);
  const host = advertisedHost(config.host, config.advertise);
  let leadership: Leadership | null = null;
  const view = { leader: () => leadership?.leader() ?? null, takingOver: () => (leadership?.leadingEpoch ?? 0) > 0 };
  const doors = new MasterDoors(doorOptions(config, units));
  opened.push(() => doors.close());
  await doors.standBy(standbyTcp(view), createStandbyHttpApp(view, { tls: config.tls }));
  const ports = await listenBoth(doors, config, { tcp: config.port, http: config.httpPort });
  const me = { id: randomBytes(8).toString('hex'), tcp: `${host}:${ports.tcp}`, http: `${config.tls ? 'https' : 'http'}://${host}:${ports.http}` };
  const current = new Leadership(store.lease, me, log);
  leadership = current;
  const epoch = await current.acquire();
  doors.takeOver();
  return { leadership: current, epoch, doors };
}

/** Listens on both ports (the TCP one first); the ports listened on. */
async function listenBoth(doors: MasterDoors, config: MasterConfig, ports: { tcp: number; http: number }): Promise<{ tcp: number; http: number }> {
  await listen(doors.tcp, ports.tcp, config.host, '--port');
  await listen(doors.http, ports.http, config.host, '--http-port');
  return { tcp: (doors.tcp.address() as AddressInfo).port, http: (doors.http.address() as AddressInfo).port };
}

const doorOptions = (config: MasterConfig, units: MasterUnits): HttpPortOptions => ({ tls: config.tls, connections: units.connections, timeouts: httpTimeouts(units) });

/** The HTTP deadlines of both doors, the leader's and a standby's. */
const httpTimeouts = (units: MasterUnits): HttpTimeouts => ({ ...HTTP_TIMEOUTS, requestMs: units.httpRequestTimeoutMs, headersMs: Math.min(HTTP_TIMEOUTS.headersMs, units.httpRequestTimeoutMs) });

/** A master that lost the leadership stops at once: another one leads, and a supervisor starts this one again as a standby. */
function exitLostLeadership(why: string): void {
  process.stderr.write(`titan master: lost the leadership (${why}); exiting with code ${LOST_LEADERSHIP_EXIT} so that it is started again as a standby\n`);
  process.exit(LOST_LEADERSHIP_EXIT);
}

/** PostgreSQL or Redis when a URL is given (logs, uploads and artifact files stay in the data directory), else SQLite. */
async function openStore(url: string | undefined, dataDir: string, announce = true): Promise<Store> {
  if (url === undefined) {
    // SQLite gives its journal files the database's mode: create it private first.
    const db = join(dataDir, 'titan.db');
    closeSync(openSync(db, 'a', 0o600));
    chmodSync(db, 0o600);
    return SqliteStore.open(db);
  }
  const log = (line: string): void => void process.stderr.write(`titan master: ${line}\n`);
  if (isPostgresUrl(url)) {
    const pgStore = await PostgresStore.open(url, { log });
    if (announce) log(`state is kept in the PostgreSQL store at ${pgStore.display}`);
    return pgStore;
  }
  const store = await RedisStore.open(url, { log });
  if (announce) log(`state is kept in the Redis store at ${store.display}`);
  return store;
}

function listen(server: Server, port: number, host: string, flag: '--port' | '--http-port'): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, port, host, flag)));
    server.listen(port, host, () => resolvePromise());
  });
}

/** A failure to listen as one line that names the port and the option to change; other errors unchanged. */
function listenError(err: NodeJS.ErrnoException, port: number, host: string, flag: '--port' | '--http-port'): Error {
  switch (err.code) {
    case 'EADDRINUSE':
      return new ListenError(`port ${port} on ${host} is already in use (another master?); choose another with ${flag}`);
    case 'EACCES':
      return new ListenError(`port ${port} on ${host} needs privileges this user does not have; choose one above 1023 with ${flag}`);
    case 'EADDRNOTAVAIL':
      return new ListenError(`cannot listen on ${host}: it is not an address of this machine; choose another with --host`);
    case 'ENOTFOUND':
      return new ListenError(`cannot listen on ${host}: no such host name; choose another with --host`);
    default:
      return err;
  }
}

/** A folder of the master's files other than its data directory: created private, like the data directory. */
function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}
