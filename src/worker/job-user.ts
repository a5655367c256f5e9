/**
 * The account jobs run as. Every job is untrusted code: a worker started as root runs them as an
 * unprivileged user (`--run-as`, default `nobody`), so that they cannot read the worker's token,
 * its files or its memory (/proc/<pid>/environ). Switching users needs root; a worker started as
 * anyone else runs jobs as itself.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export interface JobUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Who jobs run as when a root worker is given no --run-as. */
export const DEFAULT_JOB_USER = 'nobody';

/** A user name as useradd accepts it, or a numeric uid. */
export const RunAsSchema = z.string().regex(/^(?:\d{1,10}|[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?)$/, 'must be a user name or a numeric uid');

/** A refusal that names the problem; the CLI shows it as a usage error. */
export class RunAsError extends Error {}

const PasswdFields = z.tuple([z.string().min(1), z.string(), z.coerce.number().int().min(0), z.coerce.number().int().min(0), z.string(), z.string(), z.string()]);

/** The entry for `who` (a name, or a uid when all digits) in passwd(5) text; null when absent. */
export function findInPasswd(text: string, who: string): JobUser | null {
  const byUid = /^\d+$/.test(who);
  for (const line of text.split('\n')) {
    const parsed = PasswdFields.safeParse(line.split(':'));
    if (!parsed.success) continue;
    const [name, , uid, gid, , home] = parsed.data;
    if (byUid ? uid === Number(who) : name === who) return { name, uid, gid, home };
  }
  return null;
}

/** Looks `who` up in /etc/passwd, then through the system's name service (LDAP and the like). */
export function lookupUser(who: string): JobUser | null {
  try {
    const local = findInPasswd(readFileSync('/etc/passwd', 'utf8'), who);
    if (local) return local;
  } catch {
    // No readable /etc/passwd: the name service may still know the user.
  }
  try {
    return findInPasswd(execFileSync('getent', ['passwd', who], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }), who);
  } catch {
    return null;
  }
}

export interface JobUserChoice {
  /** Null: jobs run as the worker's own user, no switch. */
  user: JobUser | null;
  /** What to log once at start: who jobs run as, and why that matters. */
  notice: string;
}

/**
 * Decides who jobs run as. `self`: the worker's own uid (undefined where the platform has none);
 * `requested`: --run-as. Throws RunAsError for what cannot be honoured.
 */
export function chooseJobUser(requested: string | undefined, self: number | undefined, lookup: (who: string) => JobUser | null = lookupUser): JobUserChoice {
  if (requested !== undefined && !RunAsSchema.safeParse(requested).success) throw new RunAsError(`--run-as "${requested}" is not a user name or uid`);
  if (self === undefined) {
    if (requested !== undefined) throw new RunAsError('--run-as needs a system with user ids (Linux, macOS); on this one jobs run as the worker does');
    return { user: null, notice: "jobs run as this worker's own user" };
  }
  const who = requested ?? (self === 0 ? DEFAULT_JOB_USER : undefined);
  if (who === undefined) return { user: null, notice: sameUserNotice(self) };
  const user = lookup(who);
  if (!user) {
    throw new RunAsError(
      requested === undefined
        ? `this worker runs as root, so its jobs run as ${DEFAULT_JOB_USER} by default, but this machine has no user ${DEFAULT_JOB_USER}: name an unprivileged user with --run-as USER`
        : `--run-as ${requested}: no such user on this machine`,
    );
  }
  if (user.uid === self) {
    return self === 0
      ? { user: null, notice: 'WARNING: jobs run as root (--run-as root): any job can read this worker\'s token, its files and every other job\'s; run them as an unprivileged user instead' }
      : { user: null, notice: sameUserNotice(self) };
  }
  if (self !== 0) throw new RunAsError(`--run-as ${who}: only a worker started as root can run jobs as another user, and this one runs as uid ${self}; start it as root, or leave out --run-as to run jobs as uid ${self}`);
  return { user, notice: `jobs run as ${user.name} (uid ${user.uid}, gid ${user.gid})${requested === undefined ? `: the default for a worker started as root (--run-as USER names another)` : ''}` };
}

const sameUserNotice = (self: number): string =>
  `jobs run as this worker's own user (uid ${self}): they can read its files and the environment it was started with; start the worker as root to run them as another user (--run-as)`;
