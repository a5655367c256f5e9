/**
 * Master options shared by `titan master` and `titan up`: the service port range, the
 * autoscaler (its per-pool maximums, thresholds and webhook), Titan's v1 protocol, and the
 * dashboard (its sign-in user, read with the password from a file so that it is not in `ps`).
 */
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CapabilitySchema } from '../core/model.js';
import { DEFAULT_MAX_LOST_ATTEMPTS } from '../core/retry.js';
import type { MasterConfig } from '../server/start.js';
import { loadServerTls, type ServerTls, ServerTlsError } from '../server/tls.js';
import { isRedisUrl, parseRedisUrl } from '../store/redis-url.js';
import { allowList } from '../server/v1.js';
import { DEFAULT_CONNECTION_LIMITS, HTTP_TIMEOUTS } from '../server/limits.js';
import { UsageError } from './connection.js';

export interface ClusterFlags {
  /** A Redis URL, or undefined for the embedded SQLite store. */
  store?: string;
  servicePorts: readonly [number, number];
  autoscale?: { perPool: Record<string, number>; fallback: number };
  scaleUpAfter: number;
  idleStop: number;
  scaleWebhook?: string;
  legacyV1: boolean;
  legacyV1Allow?: string[];
  uiUser?: string;
  uiPasswordFile?: string;
  webDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  retainDays?: number;
  maxLostAttempts: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  httpRequestTimeout: number;
  minFreeMb: number;
  maxLogsMb: number;
}

const positive =
  (unit: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`must be a positive number of ${unit}`);
    return n;
  };
const positiveSeconds = positive('seconds');

const whole =
  (min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };

function portRange(value: string): readonly [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new InvalidArgumentError('must be a port range LOW-HIGH within 1-65535, e.g. 20000-29999');
  return [lo, hi];
}

const maxOf = (text: string, what: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new InvalidArgumentError(`${what} must be a whole number of workers from 0 to 1000`);
  return n;
};

/** `4` (every pool at most 4) or `GPU=2,GENERAL=4` (pools not named get none). */
function autoscaleSpec(value: string): { perPool: Record<string, number>; fallback: number } {
  if (/^\d+$/.test(value)) return { perPool: {}, fallback: maxOf(value, 'the maximum') };
  const perPool: Record<string, number> = {};
  for (const part of value.split(',')) {
    const [pool = '', max = ''] = part.split('=');
    if (!CapabilitySchema.safeParse(pool).success || max === '') throw new InvalidArgumentError(`"${part}" is not POOL=MAX (e.g. GPU=2,GENERAL=4)`);
    perPool[pool] = maxOf(max, `the maximum for ${pool}`);
  }
  return { perPool, fallback: 0 };
}

/** `sqlite` (the default) or a Redis URL, checked now so that a typo fails before anything starts. */
function storeOption(value: string): string | undefined {
  if (value === 'sqlite') return undefined;
  if (!isRedisUrl(value)) throw new InvalidArgumentError('must be sqlite or a Redis URL: redis://[user:password@]host:port/db (rediss:// for TLS)');
  try {
    parseRedisUrl(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

export function clusterOptions(command: Command): Command {
  return command
    .addOption(new Option('--store <url>', 'where the master keeps its state: sqlite (the default: titan.db in the data directory) or a Redis server, redis://[user:password@]host:port/db (rediss:// for TLS)').default(undefined, 'sqlite').argParser(storeOption))
    .addOption(new Option('--service-ports <low-high>', 'ports assigned to services that ask for none').default([20_000, 29_999], '20000-29999').argParser(portRange))
    .addOption(new Option('--autoscale <max>', 'start ephemeral workers via permanent ones: the most per pool, as N or POOL=N,... (e.g. GPU=2,GENERAL=4)').argParser(autoscaleSpec))
    .addOption(new Option('--scale-up-after <seconds>', 'how long jobs wait with no free slot before a worker is started').default(10).argParser(positiveSeconds))
    .addOption(new Option('--idle-stop <seconds>', 'stop an autoscaled worker idle this long').default(120).argParser(positiveSeconds))
    .option('--scale-webhook <url>', "POST each pool's desired worker count to this URL as it changes")
    .option('--legacy-v1', "also speak Titan's v1 protocol on the TCP port, for Titan's own clients (it has no token: loopback only unless --legacy-v1-allow)", false)
    .option('--legacy-v1-allow <cidr...>', 'let v1 clients from these address blocks in too (e.g. 10.0.0.0/8)')
    .option('--ui-user <name>', 'a dashboard user who signs in with a password (with --ui-password-file); the token always works too')
    .option('--ui-password-file <file>', "the file holding --ui-user's password (its first line)")
    .option('--web-dir <dir>', 'serve the dashboard from this folder instead of the built one (dist/web)')
    .option('--tls-cert <file>', 'serve TLS on both ports with this certificate (PEM; with --tls-key): the HTTP port becomes https')
    .option('--tls-key <file>', "the private key (PEM) of --tls-cert")
    .option('--tls-client-ca <file>', 'mutual TLS: admit only clients (TCP and HTTPS) whose certificate this CA signed; the token is still required')
    .addOption(new Option('--max-lost-attempts <n>', "how many of a job's attempts the infrastructure may lose (a worker's death, an undelivered dispatch) before the job is DEAD; these never spend its retries").default(DEFAULT_MAX_LOST_ATTEMPTS).argParser(whole(0, 1000)))
    .addOption(new Option('--max-connections <n>', 'open connections each port (9090, 5000) accepts in all').default(DEFAULT_CONNECTION_LIMITS.total).argParser(whole(1, 1_000_000)))
    .addOption(new Option('--max-connections-per-ip <n>', 'open connections each port accepts from one address').default(DEFAULT_CONNECTION_LIMITS.perAddress).argParser(whole(1, 1_000_000)))
    .addOption(new Option('--http-request-timeout <seconds>', 'how long an HTTP client has to send a whole request, body included').default(HTTP_TIMEOUTS.requestMs / 1000).argParser(positiveSeconds))
    .addOption(new Option('--min-free-mb <n>', "warn (in the master's log, titan stats and /healthz) while the data directory's disk has less than this many MiB free").default(256).argParser(whole(0, 1_048_576)))
    .addOption(new Option('--max-logs-mb <n>', 'the most job output the master keeps in all, in MiB: past it the logs of finished runs are removed, oldest first (0: no cap)').default(0).argParser(whole(0, 1_048_576)))
    .addOption(new Option('--retain-days <days>', 'delete finished runs (records, logs, artifacts) this many days after they finished; default: keep them').argParser(positive('days')));
}

/** The TLS files, read and checked now; refused with a usage error naming the file. */
function serverTls(o: ClusterFlags): ServerTls | undefined {
  if (o.tlsCert === undefined && o.tlsKey === undefined) {
    if (o.tlsClientCa !== undefined) throw new UsageError('--tls-client-ca needs --tls-cert and --tls-key');
    return undefined;
  }
  if (o.tlsCert === undefined) throw new UsageError('--tls-key needs --tls-cert');
  if (o.tlsKey === undefined) throw new UsageError('--tls-cert needs --tls-key');
  // Titan's own clients speak v1 without TLS, so v1 inside TLS would reach none of them.
  if (o.legacyV1) throw new UsageError("--legacy-v1 cannot be combined with --tls-cert: Titan's v1 clients do not speak TLS");
  try {
    return loadServerTls({ cert: o.tlsCert, key: o.tlsKey, ...(o.tlsClientCa !== undefined && { clientCa: o.tlsClientCa }) });
  } catch (err) {
    if (err instanceof ServerTlsError) throw new UsageError(err.message);
    throw err;
  }
}

/** The dashboard user and the password read from its file; refused with a usage error when incomplete. */
function uiLogin(o: ClusterFlags): { user: string; password: string } | undefined {
  if (o.uiUser === undefined && o.uiPasswordFile === undefined) return undefined;
  if (o.uiUser === undefined) throw new UsageError('--ui-password-file needs --ui-user');
  if (o.uiPasswordFile === undefined) throw new UsageError('--ui-user needs --ui-password-file (a file holding the password, so that it does not show in ps)');
  if (!/^[^\u0000-\u001f\u007f]{1,200}$/.test(o.uiUser)) throw new UsageError('--ui-user must be 1 to 200 printable characters');
  let text: string;
  try {
    text = readFileSync(o.uiPasswordFile, 'utf8');
  } catch (err) {
    throw new UsageError(`--ui-password-file: cannot read ${o.uiPasswordFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password.length === 0) throw new UsageError(`--ui-password-file: the first line of ${o.uiPasswordFile} is empty; put the password there`);
  if (password.length > 1024) throw new UsageError('--ui-password-file: the password is longer than 1024 characters');
  return { user: o.uiUser, password };
}

export function clusterConfig(o: ClusterFlags): Pick<MasterConfig, 'servicePorts' | 'autoscale' | 'scaleWebhook' | 'legacyV1' | 'legacyV1Allow' | 'ui' | 'webDir' | 'tls' | 'retainMs' | 'maxLostAttempts' | 'connections' | 'httpRequestTimeoutMs' | 'minFreeBytes' | 'maxLogsBytes'> {
  if (o.legacyV1Allow !== undefined && !o.legacyV1) throw new UsageError('--legacy-v1-allow needs --legacy-v1');
  try {
    allowList(o.legacyV1Allow ?? []);
  } catch (err) {
    throw new UsageError(`--legacy-v1-allow: ${(err as Error).message}`);
  }
  if (o.scaleWebhook !== undefined && !/^https?:\/\/[^\s]+$/.test(o.scaleWebhook)) throw new UsageError(`--scale-webhook must be an http:// or https:// URL, got "${o.scaleWebhook}"`);
  // The webhook alone runs the planner with no maximum: it reports demand without starting anything.
  const ui = uiLogin(o);
  const tls = serverTls(o);
  const scaling = o.autoscale ?? (o.scaleWebhook !== undefined ? { perPool: {}, fallback: 0 } : undefined);
  return {
    ...(o.store !== undefined && { store: o.store }),
    servicePorts: o.servicePorts,
    ...(scaling && {
      autoscale: { policy: { scaleUpAfterMs: o.scaleUpAfter * 1000, idleStopMs: o.idleStop * 1000, maxPerPool: scaling.perPool, defaultMax: scaling.fallback } },
    }),
    ...(o.scaleWebhook !== undefined && { scaleWebhook: o.scaleWebhook }),
    legacyV1: o.legacyV1,
    ...(o.legacyV1Allow !== undefined && { legacyV1Allow: o.legacyV1Allow }),
    ...(ui !== undefined && { ui }),
    ...(o.webDir !== undefined && { webDir: o.webDir }),
    ...(tls !== undefined && { tls }),
    ...(o.retainDays !== undefined && { retainMs: o.retainDays * 86_400_000 }),
    maxLostAttempts: o.maxLostAttempts,
    connections: { total: o.maxConnections, perAddress: o.maxConnectionsPerIp },
    httpRequestTimeoutMs: o.httpRequestTimeout * 1000,
    minFreeBytes: o.minFreeMb * 1024 * 1024,
    ...(o.maxLogsMb > 0 && { maxLogsBytes: o.maxLogsMb * 1024 * 1024 }),
  };
}
