/**
 * Who may read what in a worker's work directory. It is the worker's own, 0700 whatever the umask,
 * with `pids/` 0700 and any file at its root 0600. When jobs run as another user (see
 * job-user.ts), the root, `runs/`, `cache/` and `ephemeral/` are 0710 with the jobs' group: a job
 * passes through them to its own folders and its staged script but can list none of them, and
 * other users cannot even pass. A run's shared folder, each attempt's folder and all inside them
 * (outputs, an unpacked archive) belong to the job's user, 0700. The worker (root) never works by path inside a folder the job's
 * user already holds: a link swapped in there could turn its writes and ownership changes onto
 * any file of the machine.
 */
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, statSync } from 'node:fs';
import { dirname, join, parse, resolve, sep } from 'node:path';

/** A work directory jobs could not use; the CLI shows it as a usage error. */
export class WorkDirError extends Error {}

/** The uid and gid jobs run as; null: the worker's own (no ownership to hand over). */
export type JobOwner = { uid: number; gid: number } | null;

/** Folders jobs pass through; `ephemeral/` holds the work directories of the workers this one starts. */
const PASSED_DIRS = ['runs', 'cache', 'ephemeral'] as const;
/** Runs whose shared folder is known to exist; forgotten in bulk beyond this many. */
const MAX_KNOWN_SHARED_DIRS = 1024;

/** What the bits of `mode` allow `owner` (the job's user, its primary group only: supplementary groups are dropped with the switch). */
function allows(stat: { uid: number; gid: number; mode: number }, owner: { uid: number; gid: number }, bit: 1 | 4): boolean {
  if (stat.uid === owner.uid) return (stat.mode & (bit << 6)) !== 0;
  if (stat.gid === owner.gid) return (stat.mode & (bit << 3)) !== 0;
  return (stat.mode & bit) !== 0;
}

/** The first folder on the way to `path` (itself included when a folder) that `owner` may not pass through; null when none. */
export function blockedAt(path: string, owner: { uid: number; gid: number }): string | null {
  const { root } = parse(path);
  let at = root;
  for (const part of ['', ...path.slice(root.length).split(sep).filter(Boolean)]) {
    at = join(at, part);
    const stat = statSync(at, { throwIfNoEntry: false });
    if (!stat) return null;
    if (stat.isDirectory() && !allows(stat, owner, 1)) return at;
  }
  return null;
}

/** Whether `owner` can use the file `path`: its folders passable, and the file readable (`read`) or executable (`run`). */
export function usableBy(path: string, owner: { uid: number; gid: number }, need: 'read' | 'run'): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return false;
  }
  return blockedAt(dirname(real), owner) === null && allows(statSync(real), owner, need === 'read' ? 4 : 1);
}

/**
 * Makes one of the work directory's own folders with `mode` (and the jobs' group, when they run as
 * another user); the line to log when it was open to others (an older version's), else null.
 */
function ownFolder(dir: string, mode: number, owner: JobOwner): string | null {
  mkdirSync(dir, { recursive: true, mode });
  const stat = statSync(dir);
  if (owner !== null && stat.gid !== owner.gid) chownSync(dir, -1, owner.gid);
  const was = stat.mode & 0o777;
  if (was === mode) return null;
  chmodSync(dir, mode);
  return (was & 0o007) === 0 ? null : `the work directory ${dir} was open to others (mode ${was.toString(8)}); it is now 0${mode.toString(8)}`;
}

/**
 * Lays out the work directory (created when missing) for jobs run by `owner` and checks they can
 * reach it. Throws WorkDirError naming the folder that bars them. Returns one line per folder or
 * file that was open to others and is now closed.
 */
export function prepareWorkDir(workDir: string, owner: JobOwner): string[] {
  // Missing parents are made as usual: only the work directory itself is closed.
  mkdirSync(dirname(workDir), { recursive: true });
  const passed = owner === null ? 0o700 : 0o710;
  const notes = [ownFolder(workDir, passed, owner), ...PASSED_DIRS.map((name) => ownFolder(join(workDir, name), passed, owner)), ownFolder(join(workDir, 'pids'), 0o700, null)].filter((n): n is string => n !== null);
  for (const entry of readdirSync(workDir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(workDir, entry.name);
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) === 0) continue;
    chmodSync(file, 0o600);
    notes.push(`${file} was open to others (mode ${mode.toString(8)}); it is now 0600`);
  }
  if (owner !== null) refuseBlocked(workDir, realpathSync(workDir), owner);
  return notes;
}

function refuseBlocked(workDir: string, path: string, owner: { uid: number; gid: number }): void {
  const blocked = blockedAt(path, owner);
  if (blocked === null) return;
  throw new WorkDirError(
    `jobs run as uid ${owner.uid}, who cannot reach the work directory ${workDir}: ${blocked} is closed to them (mode ${(statSync(blocked).mode & 0o777).toString(8)}). Choose a --work-dir they can reach (e.g. under /var/lib or /srv), or open ${blocked} to them (chmod o+x)`,
  );
}

/**
 * Checks, before anything is made, that jobs run by `owner` can reach the folders above the work
 * directory (as far as they exist: prepareWorkDir makes the rest and checks again). Throws WorkDirError.
 */
export function checkWorkDirReach(workDir: string, owner: JobOwner): void {
  if (owner === null) return;
  let above = dirname(resolve(workDir));
  while (!existsSync(above) && dirname(above) !== above) above = dirname(above);
  refuseBlocked(workDir, realpathSync(above), owner);
}

/** The per-run and per-attempt folders of one worker, owned by the user its jobs run as. */
export class JobFiles {
  private readonly sharedDirs = new Set<string>();

  constructor(private readonly owner: JobOwner) {}

  /** Creates a run's folder (the worker's, passable) and its shared folder (the job user's) once rather than once per attempt. */
  sharedDir(runDir: string): string {
    const dir = join(runDir, 'shared');
    if (this.sharedDirs.has(dir)) return dir;
    // Passable whatever the umask; only the jobs' group reaches it anyway, through runs/.
    mkdirSync(runDir, { recursive: true, mode: 0o711 });
    if ((statSync(runDir).mode & 0o777) !== 0o711) chmodSync(runDir, 0o711);
    // Made in the run's folder, which stays the worker's: nothing on this path is the job user's yet.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (this.owner) chownSync(dir, this.owner.uid, this.owner.gid);
    if (this.sharedDirs.size >= MAX_KNOWN_SHARED_DIRS) this.sharedDirs.clear();
    this.sharedDirs.add(dir);
    return dir;
  }

  /**
   * Creates an attempt's folder and its output folder inside, the worker's until handOver. One
   * left by an earlier dispatch of the same attempt, already the job user's, is moved aside first.
   */
  attemptDir(dir: string, outputDir: string): void {
    const earlier = this.owner && lstatSync(dir, { throwIfNoEntry: false });
    if (earlier && earlier.uid !== process.getuid?.()) renameSync(dir, `${dir}.${Date.now()}`);
    mkdirSync(outputDir, { recursive: true, mode: 0o700 });
  }

  /**
   * Hands an attempt's folder, with all the worker put there (out/, an unpacked archive), to the
   * job's user, deepest first: until the folder itself changes hands, nothing in it is theirs to
   * change under the worker's feet.
   */
  handOver(dir: string): void {
    if (!this.owner) return;
    const { uid, gid } = this.owner;
    const walk = (path: string): void => {
      if (lstatSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
      lchownSync(path, uid, gid);
    };
    walk(dir);
  }
}
