/**
 * Options of `titan worker` and `titan up` for the jobs their worker runs, which are untrusted
 * code: the user they run as (--run-as), the worker variables they get beyond the base
 * environment (--pass-env), the client certificate they present to a master that requires mutual
 * TLS (--job-cert, --job-key), and where they run: never inside the master's data directory.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import type { SettingsOf } from '../config/setting.js';
import { JOB_SETTINGS } from '../config/worker-settings.js';
import { type JobSettings, PYTHON_SDK_DIR, SDK_ENTRY } from '../worker/job-env.js';
import { checkWorkDirReach, prepareWorkDir, usableBy, WorkDirError } from '../worker/job-files.js';
import { chooseJobUser, RunAsError } from '../worker/job-user.js';
import { UsageError } from './connection.js';
import { settingOptions } from './setting-options.js';

export type JobFlags = SettingsOf<typeof JOB_SETTINGS>;

export const jobOptions = (cmd: Command): Command => settingOptions(cmd, JOB_SETTINGS);

export interface JobSetup {
  settings: JobSettings;
  /** The same options, for the ephemeral workers this worker starts. */
  args: string[];
  /** What to log once at start: who jobs run as, and anything they will not be able to read. */
  notices: string[];
}

/** A work directory problem as a usage error naming it. */
function asUsage<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof WorkDirError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * Lays the work directory out for the jobs' user (see prepareWorkDir), once nothing else can
 * refuse the start; returns the lines to log.
 */
export const layOutWorkDir = (workDir: string, jobs: JobSetup): string[] => asUsage(() => prepareWorkDir(workDir, jobs.settings.user));

/**
 * Who jobs run as and what they get, checked before anything is made: a user that cannot be
 * switched to, or a work directory they could not reach, is a usage error naming it. `tlsCa`: the
 * CA the worker trusts, handed to jobs.
 */
export function jobSetup(o: JobFlags, workDir: string, tlsCa: string | undefined): JobSetup {
  let choice: ReturnType<typeof chooseJobUser>;
  try {
    choice = chooseJobUser(o.runAs, process.getuid?.());
  } catch (err) {
    if (err instanceof RunAsError) throw new UsageError(err.message);
    throw err;
  }
  if ((o.jobCert === undefined) !== (o.jobKey === undefined)) throw new UsageError('--job-cert and --job-key go together');
  const cert = o.jobCert !== undefined && o.jobKey !== undefined ? { cert: resolve(o.jobCert), key: resolve(o.jobKey) } : undefined;
  const { user } = choice;
  const notices = [choice.notice];
  asUsage(() => checkWorkDirReach(workDir, user));
  if (user) {
    const needed: [string, string | null | undefined, 'read' | 'run'][] = [
      ['Node.js', process.execPath, 'run'],
      ['the TypeScript SDK', SDK_ENTRY, 'read'],
      ['the Python SDK', PYTHON_SDK_DIR && join(PYTHON_SDK_DIR, 'titan_sdk', '__init__.py'), 'read'],
      ['the CA file', tlsCa, 'read'],
      ['--job-cert', cert?.cert, 'read'],
      ['--job-key', cert?.key, 'read'],
    ];
    for (const [what, path, need] of needed) {
      if (path && !usableBy(path, user, need)) notices.push(`warning: jobs run as ${user.name}, who cannot ${need} ${what} (${path}); jobs that need it will fail`);
    }
  }
  const args = [...(o.runAs !== undefined ? ['--run-as', o.runAs] : []), ...o.passEnv.flatMap((p) => ['--pass-env', p]), ...(cert ? ['--job-cert', cert.cert, '--job-key', cert.key] : [])];
  return { settings: { user, passEnv: o.passEnv, ...(cert && { cert }) }, args, notices };
}

/** The path with its links resolved, as far as it exists (a folder not made yet is judged by its parent). */
function canonical(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(canonical(parent), basename(abs));
  }
}

const within = (path: string, folder: string): boolean => path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

/**
 * Refuses a work directory inside the master's data directory, where jobs would run beside the
 * cluster token and the database, and a data directory inside the work directory.
 */
export function refuseOverlap(dataDir: string, workDir: string): void {
  const data = canonical(dataDir);
  const work = canonical(workDir);
  if (within(work, data)) throw new UsageError(`the work directory ${workDir} is inside the data directory ${dataDir}: jobs would run beside the cluster token and the database; choose a --work-dir outside it`);
  if (within(data, work)) throw new UsageError(`the data directory ${dataDir} is inside the work directory ${workDir}: jobs would run beside the cluster token and the database; choose a --work-dir outside it`);
}
