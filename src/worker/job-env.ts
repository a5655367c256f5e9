/**
 * The environment a job runs with. Jobs are untrusted, so it is built from an allow-list, never
 * copied from the worker: a small base of what programs expect (BASE_ENV), the worker variables
 * named by --pass-env, the job's own variables, and what the SDKs need to reach the master from
 * inside the job: address, the attempt's own token (never the worker's), the CA to trust, its ids
 * and folders, and this install's SDKs.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Dispatch } from '../protocol/methods.js';
import { formatMaster, type MasterEndpoint } from '../protocol/masters.js';
import { type TlsFiles, tlsEnvFor } from '../protocol/tls-dial.js';
import type { JobUser } from './job-user.js';

/**
 * The worker's variables every job gets: where programs are, who and where it is, language and
 * time zone, the temporary folder and terminal, Python's path (with our SDK first), and what
 * Windows programs cannot start without. HOME, USER and LOGNAME name the job's user when jobs run
 * as another one.
 */
export const BASE_ENV: readonly string[] = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM', 'PYTHONPATH', 'SYSTEMROOT', 'WINDIR', 'COMSPEC', 'PATHEXT', 'TEMP', 'TMP'];
/** Locale variables (LC_ALL, LC_CTYPE, ...) pass as well. */
export const BASE_ENV_PREFIX = 'LC_';

/** The SDKs' own variables are set by the worker for each attempt; a worker's value never reaches a job. */
const RESERVED_PREFIX = 'TITAN_';

/**
 * A --pass-env entry: a variable name, or a prefix ending in `*` (`AWS_*`). A lone `*` would
 * pass the whole environment back, and TITAN_ names are the worker's own.
 */
export const PassEnvSchema = z
  .string()
  .refine((p) => p !== '*', 'a lone * would hand jobs the whole environment again; name the variables, or prefixes such as AWS_*')
  .regex(/^[A-Za-z_][A-Za-z0-9_]*\*?$/, 'must be a variable name, or a prefix ending in * (e.g. AWS_*)')
  .refine((p) => !p.toUpperCase().startsWith(RESERVED_PREFIX), `TITAN_ variables are the worker's own; jobs get theirs from the worker`);

/** Whether the worker variable `name` passes to jobs under these --pass-env entries. */
export function passes(name: string, passEnv: readonly string[]): boolean {
  if (name.toUpperCase().startsWith(RESERVED_PREFIX)) return false;
  if (BASE_ENV.includes(name) || name.startsWith(BASE_ENV_PREFIX)) return true;
  return passEnv.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

/**
 * The part of a job's environment that is the same for every attempt: the allowed variables of
 * `source` (the worker's environment), with the job user's identity and the Python SDK on PYTHONPATH.
 */
export function baseEnvironment(source: NodeJS.ProcessEnv, options: { passEnv: readonly string[]; user: JobUser | null; pythonSdkDir: string | null }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) if (value !== undefined && passes(name, options.passEnv)) env[name] = value;
  if (options.user) {
    // The worker's own home is not the job's (and is usually closed to it).
    env.HOME = options.user.home;
    env.USER = options.user.name;
    env.LOGNAME = options.user.name;
  }
  if (options.pythonSdkDir !== null) env.PYTHONPATH = [options.pythonSdkDir, env.PYTHONPATH].filter((p) => p).join(delimiter);
  return env;
}

/**
 * The compiled SDK entry of this worker's own install, given to every job as TITAN_SDK so a Node
 * script can `await import(process.env.TITAN_SDK)` with nothing installed. From dist/ it sits
 * beside this module; run from source (tsx), the build's copy is used.
 */
export const SDK_ENTRY = [new URL('../sdk/index.js', import.meta.url), new URL('../../dist/src/sdk/index.js', import.meta.url)].map((u) => fileURLToPath(u)).find((p) => existsSync(p)) ?? fileURLToPath(new URL('../sdk/index.js', import.meta.url));

/**
 * The Python SDK (`titan_sdk`) shipped with this install, put on every job's PYTHONPATH so job
 * scripts can `import titan_sdk` with nothing installed; null when this install has none.
 */
export const PYTHON_SDK_DIR = [new URL('../../../python/', import.meta.url), new URL('../../python/', import.meta.url)].map((u) => fileURLToPath(u)).find((p) => existsSync(join(p, 'titan_sdk', '__init__.py'))) ?? null;

export interface JobSettings {
  /** Null: jobs run as the worker's own user (see job-user.ts). */
  user: JobUser | null;
  /** The worker variables jobs get beyond the base environment (--pass-env). */
  passEnv: readonly string[];
  /**
   * The client certificate jobs present to a master that requires one (--job-cert, --job-key):
   * the worker's own key never reaches a job.
   */
  cert?: { cert: string; key: string };
}

export class JobEnvironment {
  /** Built once: reading process.env enumerates the real environment on every access (tens of microseconds per attempt). */
  private readonly base: Record<string, string>;
  private readonly tls: Record<string, string>;
  /** Where the SDKs find the master: TITAN_HOST and TITAN_PORT name the first; TITAN_MASTERS, when there are several, all of them. */
  private readonly address: Record<string, string>;

  /** `workerTls`: the worker's TLS files when it dials with TLS (its jobs then do too, trusting the same CA). */
  constructor(masters: readonly MasterEndpoint[], workerTls: TlsFiles | null, jobs: JobSettings, source: NodeJS.ProcessEnv = process.env) {
    const [first] = masters;
    if (!first) throw new Error('a job environment needs the address of a master');
    this.address = { TITAN_HOST: first.host, TITAN_PORT: String(first.port), ...(masters.length > 1 && { TITAN_MASTERS: masters.map(formatMaster).join(',') }) };
    this.base = baseEnvironment(source, { passEnv: jobs.passEnv, user: jobs.user, pythonSdkDir: PYTHON_SDK_DIR });
    const files: TlsFiles | null = workerTls && { ...(workerTls.ca !== undefined && { ca: workerTls.ca }), ...jobs.cert };
    this.tls = files ? tlsEnvFor(files) : {};
  }

  /** `dirs.payload`: where the run's payload was staged, when it has one. */
  for(d: Dispatch, dirs: { shared: string; output: string; payload?: string | null }, workerId: string | null): Record<string, string> {
    return {
      ...this.base,
      ...d.env,
      ...this.address,
      TITAN_TOKEN: d.token,
      ...this.tls,
      TITAN_RUN_ID: d.runId,
      TITAN_JOB_ID: d.jobId,
      TITAN_ATTEMPT: String(d.attempt),
      TITAN_SHARED_DIR: dirs.shared,
      TITAN_OUTPUT_DIR: dirs.output,
      TITAN_WORKER_ID: workerId ?? '',
      TITAN_SDK: SDK_ENTRY,
      ...(dirs.payload && { TITAN_TRIGGER_PAYLOAD: dirs.payload }),
    };
  }
}
