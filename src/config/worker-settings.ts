/**
 * The worker's settings, each defined once: the options of `titan worker`, and those of them that
 * `titan up` offers for its local worker (all but LEFT_OUT_OF_UP). The TLS flags are every
 * client's (CLIENT_TLS_SETTINGS); the job options say how the untrusted code it runs is confined.
 */
import { hostname } from 'node:os';
import { DEFAULT_CAPABILITY } from '../core/defaults.js';
import { LIMITS } from '../core/model.js';
import { MasterListError, parseMasters } from '../protocol/masters.js';
import { DrainTimeoutSchema } from '../protocol/methods.js';
import { PassEnvSchema } from '../worker/job-env.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../worker/stop-policy.js';
import { CLIENT_TLS_SETTINGS } from './client-settings.js';
import { integer, ON_ARGV, rule, type SettingsOf, type Setting, text } from './setting.js';

/** A drain's grace in seconds (0: hand running jobs back at once), as milliseconds. */
export const drainTimeoutMs = rule((value) => {
  const ms = DrainTimeoutSchema.safeParse(Math.round(Number(value) * 1000));
  if (value.trim() === '' || !ms.success) throw new Error(`must be a number of seconds from 0 to ${LIMITS.maxTimeoutMs / 1000}`);
  return ms.data;
});

/** One master address, or several masters sharing a store, comma-separated (see protocol/masters). */
export const masterList = rule((value) => {
  try {
    return parseMasters(value);
  } catch (err) {
    if (err instanceof MasterListError) throw new Error(err.message);
    throw err;
  }
});

/** `never`, or a positive number of seconds as milliseconds. */
export const stopAfterDisconnectMs = rule((value): number | 'never' => {
  if (value === 'never') return 'never';
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n * 1000 > LIMITS.maxTimeoutMs) throw new Error(`must be "never" or a positive number of seconds up to ${LIMITS.maxTimeoutMs / 1000}`);
  return Math.max(1, Math.round(n * 1000));
});

const passEnvName = rule((value) => {
  const parsed = PassEnvSchema.safeParse(value);
  if (!parsed.success) throw new Error(`"${value}": ${parsed.error.issues[0]?.message ?? 'not a variable name'}`);
  return parsed.data;
});

/** Who the jobs a worker runs run as, and what they get. */
export const JOB_SETTINGS = {
  runAs: { flag: '--run-as <user>', help: 'run jobs as this user (a worker started as root only; its default is nobody, and --run-as root keeps root)', parse: text() },
  passEnv: { flag: '--pass-env <name>', help: "also give jobs this variable of the worker's environment: a NAME, or a PREFIX* such as AWS_* (repeatable)", each: passEnvName, default: [], defaultText: 'none' },
  jobCert: { flag: '--job-cert <file>', help: "the client certificate jobs present to a master that requires mutual TLS (with --job-key); the worker's own --key never reaches a job", parse: text() },
  jobKey: { flag: '--job-key <file>', help: 'the private key of --job-cert, readable by the user jobs run as', parse: text() },
} satisfies Record<string, Setting>;

export const WORKER_SETTINGS = {
  master: {
    flag: '--master <host:port,...>',
    help: 'the master to join; with several masters sharing a store, their addresses comma-separated (the worker follows the leader)',
    parse: masterList,
    env: 'TITAN_MASTERS',
    defaultText: 'TITAN_MASTERS, or 127.0.0.1:9090',
  },
  token: { flag: '--token <token>', help: `the worker token or the cluster token (default: TITAN_TOKEN, or the token file in ./titan-data); ${ON_ARGV}`, parse: text(), env: 'TITAN_TOKEN' },
  tokenFile: { flag: '--token-file <file>', help: 'read the token from the first line of this file (kept out of ps)', parse: text() },
  dataDir: { flag: '--data-dir <dir>', help: 'data directory whose token file to use', parse: text(), env: 'TITAN_DATA_DIR' },
  capabilities: { flag: '--capabilities <list>', help: 'capabilities, comma-separated (e.g. GPU,HIGH_MEM)', parse: text(), default: DEFAULT_CAPABILITY },
  slots: { flag: '--slots <n>', help: 'jobs run at once', parse: integer('--slots', 1, 1024), default: 4 },
  permanent: { flag: '--permanent', help: 'never scaled down or shut down automatically', default: false },
  port: { flag: '--port <port>', help: 'advertised port in the worker name host:port (0: the master picks)', parse: integer('--port', 0, 65535), default: 0 },
  name: { flag: '--name <host>', help: 'advertised host name', parse: text(), default: hostname() },
  workDir: { flag: '--work-dir <dir>', help: 'where scripts are cached and attempts run', parse: text(), default: 'titan-worker' },
  executor: { flag: '--executor <kind>', help: 'process (default) or noop (benchmarks: completes without running anything)', parse: text(), choices: ['process', 'noop'], default: 'process', hidden: true },
  spawnedBy: { flag: '--spawned-by <worker>', help: 'set by the autoscaler on the ephemeral workers it starts: the permanent worker that spawned this one', parse: text() },
  keepRunsHours: { flag: '--keep-runs-hours <n>', help: 'remove run folders (attempt outputs, unpacked archives) and cached scripts untouched this long', parse: integer('--keep-runs-hours', 1, 87_600), default: 72 },
  pidFile: { flag: '--pid-file <path>', help: 'write this process id there at start (removed on exit)', parse: text() },
  drainTimeout: {
    flag: '--drain-timeout <seconds>',
    help: 'when the worker drains to stop (a signal, titan workers shutdown), how long running jobs may finish; those still running then are handed back and run elsewhere without spending a retry',
    parse: drainTimeoutMs,
    default: DEFAULT_DRAIN_TIMEOUT_MS,
    defaultText: String(DEFAULT_DRAIN_TIMEOUT_MS / 1000),
  },
  stopAfterDisconnect: {
    flag: '--stop-after-disconnect <seconds|never>',
    help: "stop running jobs once the master has been unreachable this long (it has run them elsewhere by then); they are reported lost when it is back (default: the master's --worker-timeout)",
    parse: stopAfterDisconnectMs,
  },
  ...CLIENT_TLS_SETTINGS,
  ...JOB_SETTINGS,
} satisfies Record<string, Setting>;

export type WorkerSettings = SettingsOf<typeof WORKER_SETTINGS>;

/**
 * The worker settings `titan up` does not offer, and why: its local worker joins the master of the
 * same process (address, token, TLS and data directory are the master's own), is permanent, named
 * after this host, runs jobs for real, and cannot lose its master while it runs. Every other worker
 * setting is an option of `titan up` too.
 */
export const LEFT_OUT_OF_UP = ['master', 'token', 'tokenFile', 'dataDir', 'permanent', 'port', 'name', 'executor', 'spawnedBy', 'pidFile', 'stopAfterDisconnect', 'tls'] as const satisfies readonly (keyof typeof WORKER_SETTINGS)[];

export type LocalWorkerSettings = Omit<WorkerSettings, (typeof LEFT_OUT_OF_UP)[number]>;
