/**
 * The master's settings, each defined once: the options of `titan master`, all of which `titan up`
 * offers too (see src/cli/server-commands.ts). src/server/start.ts takes them as MasterConfig; the
 * defaults the Master applies too are MASTER_DEFAULTS', shown here in the command line's units.
 */
import { CapabilitySchema } from '../core/model.js';
import { DEFAULT_MASTER_PORT } from '../protocol/masters.js';
import { DEFAULT_CONNECTION_LIMITS, HTTP_TIMEOUTS } from '../server/limits.js';
import { MiB } from '../store/disk-space.js';
import { isPostgresUrl, parsePostgresUrl } from '../store/postgres-url.js';
import { isRedisUrl, parseRedisUrl } from '../store/redis-url.js';
import { MASTER_DEFAULTS } from './master-defaults.js';
import { integer, ON_ARGV, positiveNumber, rule, type SettingsOf, type Setting, text, wholeNumber } from './setting.js';

function portRange(value: string): readonly [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new Error('must be a port range LOW-HIGH within 1-65535, e.g. 20000-29999');
  return [lo, hi];
}

const maxOf = (text: string, what: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new Error(`${what} must be a whole number of workers from 0 to 1000`);
  return n;
};

/** `4` (every pool at most 4) or `GPU=2,GENERAL=4` (pools not named get none). */
function autoscaleSpec(value: string): { perPool: Record<string, number>; fallback: number } {
  if (/^\d+$/.test(value)) return { perPool: {}, fallback: maxOf(value, 'the maximum') };
  const perPool: Record<string, number> = {};
  for (const part of value.split(',')) {
    const [pool = '', max = ''] = part.split('=');
    if (!CapabilitySchema.safeParse(pool).success || max === '') throw new Error(`"${part}" is not POOL=MAX (e.g. GPU=2,GENERAL=4)`);
    perPool[pool] = maxOf(max, `the maximum for ${pool}`);
  }
  return { perPool, fallback: 0 };
}

/** `sqlite` (the default), a Redis URL or a PostgreSQL URL, checked now so that a typo fails before anything starts. */
function storeUrl(value: string): string | undefined {
  if (value === 'sqlite') return undefined;
  if (isPostgresUrl(value)) parsePostgresUrl(value);
  else if (isRedisUrl(value)) parseRedisUrl(value);
  else throw new Error('must be sqlite or a Redis URL: redis://[user:password@]host:port/db (rediss:// for TLS), or a PostgreSQL URL: postgres://user:password@host:port/database');
  return value;
}

const seconds = positiveNumber('seconds');

/** The dashboard's address as people reach it: an http(s) URL without a query. */
function publicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('must be the dashboard\'s URL, e.g. https://titan.example.com');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') throw new Error('must be an http or https URL without a query, e.g. https://titan.example.com');
  return value.replace(/\/+$/, '');
}

export const MASTER_SETTINGS = {
  dataDir: { flag: '--data-dir <dir>', help: 'where state, logs and the token live', parse: text(), default: 'titan-data' },
  blobDir: { flag: '--blob-dir <dir>', help: 'where uploaded scripts, artifact files and job logs live (default: the data directory); masters sharing a store need the same shared folder', parse: text() },
  host: { flag: '--host <address>', help: 'address to listen on', parse: text(), default: '0.0.0.0' },
  port: { flag: '--port <port>', help: 'TCP port for clients and workers', parse: integer('--port', 0, 65535), default: DEFAULT_MASTER_PORT },
  httpPort: { flag: '--http-port <port>', help: 'HTTP port', parse: integer('--http-port', 0, 65535), default: 5000 },
  advertise: {
    flag: '--advertise <host>',
    help: 'the host other masters, workers and clients are told to reach this master at, when masters share a store (default: --host, or this machine\'s name when --host is 0.0.0.0)',
    parse: text(),
  },
  token: { flag: '--token <token>', help: `cluster token (default: TITAN_TOKEN, else generated on first start); ${ON_ARGV}`, parse: text(), env: 'TITAN_TOKEN' },
  tokenFile: { flag: '--token-file <file>', help: 'read the cluster token from the first line of this file (kept out of ps)', parse: text() },
  workerTimeout: { flag: '--worker-timeout <seconds>', help: 'declare a silent worker dead after this long', parse: seconds, default: MASTER_DEFAULTS.workerTimeoutMs / 1000 },
  reclaimGrace: { flag: '--reclaim-grace <seconds>', help: 'after a restart, how long running attempts wait for their workers', parse: seconds, default: MASTER_DEFAULTS.reclaimGraceMs / 1000 },
  maxArtifactMb: { flag: '--max-artifact-mb <n>', help: 'the largest artifact accepted, in MiB', parse: integer('--max-artifact-mb', 1, 1_048_576), default: MASTER_DEFAULTS.maxArtifactBytes / MiB },
  maxLogMb: { flag: '--max-log-mb <n>', help: 'the most output one attempt keeps on the master, in MiB (the rest is dropped with a note)', parse: integer('--max-log-mb', 1, 1_048_576), default: MASTER_DEFAULTS.maxLogBytes / MiB },
  pidFile: { flag: '--pid-file <path>', help: 'write this process id there once listening (removed on exit)', parse: text() },
  store: {
    flag: '--store <url>',
    help: 'where the master keeps its state: sqlite (the default: titan.db in the data directory), a Redis server, redis://[user:password@]host:port/db (rediss:// for TLS), or a PostgreSQL database, postgres://user:password@host:port/database',
    parse: rule(storeUrl),
    defaultText: 'sqlite',
    secret: true,
  },
  servicePorts: { flag: '--service-ports <low-high>', help: 'ports assigned to services that ask for none', parse: rule(portRange), default: MASTER_DEFAULTS.servicePorts, defaultText: MASTER_DEFAULTS.servicePorts.join('-') },
  autoscale: { flag: '--autoscale <max>', help: 'start ephemeral workers via permanent ones: the most per pool, as N or POOL=N,... (e.g. GPU=2,GENERAL=4)', parse: rule(autoscaleSpec) },
  scaleUpAfter: { flag: '--scale-up-after <seconds>', help: 'how long jobs wait with no free slot before a worker is started', parse: seconds, default: 10 },
  idleStop: { flag: '--idle-stop <seconds>', help: 'stop an autoscaled worker idle this long', parse: seconds, default: 120 },
  scaleWebhook: { flag: '--scale-webhook <url>', help: "POST each pool's desired worker count to this URL as it changes", parse: text() },
  legacyV1: { flag: '--legacy-v1', help: "also speak Titan's v1 protocol on the TCP port, for Titan's own clients (it has no token: loopback only unless --legacy-v1-allow)", default: false },
  legacyV1Allow: { flag: '--legacy-v1-allow <cidr...>', help: 'let v1 clients from these address blocks in too (e.g. 10.0.0.0/8)', each: text() },
  uiUser: { flag: '--ui-user <name>', help: 'a dashboard user who signs in with a password (with --ui-password-file); the token always works too', parse: text() },
  uiPasswordFile: { flag: '--ui-password-file <file>', help: "the file holding --ui-user's password (its first line)", parse: text() },
  webDir: { flag: '--web-dir <dir>', help: 'serve the dashboard from this folder instead of the built one (dist/web)', parse: text() },
  tlsCert: { flag: '--tls-cert <file>', help: 'serve TLS on both ports with this certificate (PEM; with --tls-key): the HTTP port becomes https', parse: text() },
  tlsKey: { flag: '--tls-key <file>', help: 'the private key (PEM) of --tls-cert', parse: text() },
  tlsClientCa: { flag: '--tls-client-ca <file>', help: 'mutual TLS: admit only clients (TCP and HTTPS) whose certificate this CA signed; the token is still required', parse: text() },
  maxLostAttempts: {
    flag: '--max-lost-attempts <n>',
    help: "how many of a job's attempts the infrastructure may lose (a worker's death, an undelivered dispatch) before the job is DEAD; these never spend its retries",
    parse: wholeNumber(0, 1000),
    default: MASTER_DEFAULTS.maxLostAttempts,
  },
  maxConnections: { flag: '--max-connections <n>', help: 'open connections each port (9090, 5000) accepts in all', parse: wholeNumber(1, 1_000_000), default: DEFAULT_CONNECTION_LIMITS.total },
  maxConnectionsPerIp: { flag: '--max-connections-per-ip <n>', help: 'open connections each port accepts from one address', parse: wholeNumber(1, 1_000_000), default: DEFAULT_CONNECTION_LIMITS.perAddress },
  httpRequestTimeout: { flag: '--http-request-timeout <seconds>', help: 'how long an HTTP client has to send a whole request, body included', parse: seconds, default: HTTP_TIMEOUTS.requestMs / 1000 },
  minFreeMb: { flag: '--min-free-mb <n>', help: "warn (in the master's log, titan stats and /healthz) while the data directory's disk has less than this many MiB free", parse: wholeNumber(0, 1_048_576), default: MASTER_DEFAULTS.minFreeBytes / MiB },
  maxLogsMb: { flag: '--max-logs-mb <n>', help: 'the most job output the master keeps in all, in MiB: past it the logs of finished runs are removed, oldest first (0: no cap)', parse: wholeNumber(0, 1_048_576), default: MASTER_DEFAULTS.maxLogsBytes / MiB },
  publicUrl: {
    flag: '--public-url <url>',
    help: "the dashboard's address as people reach it (behind a proxy or a name), for the links in notifications; default: the HTTP port's address",
    parse: rule(publicUrl),
  },
  notifyRetryBase: { flag: '--notify-retry-base <seconds>', help: 'the wait before a failed notification is tried again, doubled after each try (5 tries in all)', parse: seconds, default: MASTER_DEFAULTS.notifyRetryBaseMs / 1000 },
  notifyTimeout: { flag: '--notify-timeout <seconds>', help: 'how long one notification POST may take, answer included', parse: seconds, default: MASTER_DEFAULTS.notifyTimeoutMs / 1000 },
  metricsSample: { flag: '--metrics-sample <seconds>', help: "how often the dashboard's overview charts sample the cluster (they keep the last 360 samples: an hour at the default)", parse: seconds, default: MASTER_DEFAULTS.metricsSampleMs / 1000 },
  retainDays: { flag: '--retain-days <days>', help: 'delete finished runs (records, logs, artifacts) this many days after they finished; default: keep them', parse: positiveNumber('days') },
} satisfies Record<string, Setting>;

export type MasterSettings = SettingsOf<typeof MASTER_SETTINGS>;

/**
 * The settings the command reads itself, and so does not hand to the master as they are: the token
 * (from its flag, file or TITAN_TOKEN), the files of TLS and of the dashboard's password (read and
 * checked before anything starts), and the pid file it writes.
 */
export const READ_BY_COMMAND = ['token', 'tokenFile', 'pidFile', 'tlsCert', 'tlsKey', 'tlsClientCa', 'uiUser', 'uiPasswordFile'] as const satisfies readonly (keyof typeof MASTER_SETTINGS)[];

/** The settings a master starts with as the command line gives them (src/server/start.ts's MasterConfig). */
export type MasterStartSettings = Omit<MasterSettings, (typeof READ_BY_COMMAND)[number]>;
