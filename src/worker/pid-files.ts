/**
 * Pid files for running attempts, batch jobs and services alike. Each attempt is its own process
 * group (pgid = the child's pid) and outlives the worker if both the worker and its orphan reaper
 * die; a restarted worker sweeps these files and stops whatever its previous life left running.
 * Files are written and removed off the event loop: on a busy worker they are on every attempt's
 * path, and a synchronous create costs hundreds of microseconds on some disks.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fieldsOf, processExists, startTimeIn, startTimeOf, statFields } from './process-identity.js';

interface PidRecord {
  pgid: number;
  /** Field 22 of /proc/<pgid>/stat when recorded: tells the attempt from a process that reused its pid. */
  startTime: number | null;
  key: string;
}

const POLL_MS = 50;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A pid that is safe to signal as a group: -1 would mean every process, -0 our own group. */
const isGroupId = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 1;

function parseRecord(text: string): PidRecord {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null) throw new Error('not a JSON object');
  const { pgid, startTime, key } = value as Record<string, unknown>;
  if (!isGroupId(pgid)) throw new Error(`bad pgid ${JSON.stringify(pgid)}`);
  if (startTime !== null && !Number.isInteger(startTime)) throw new Error(`bad startTime ${JSON.stringify(startTime)}`);
  if (typeof key !== 'string') throw new Error('missing key');
  return { pgid, startTime: startTime as number | null, key };
}

/** Gone, or a zombie: a dead leader's parent may be a worker that no longer exists to reap it. */
const isGone = (pid: number): boolean => !processExists(pid) || statFields(pid)?.[0] === 'Z';

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class PidFiles {
  /** The last write or removal asked for per key: the next one for that key waits for it. */
  private readonly queued = new Map<string, Promise<void>>();

  constructor(private readonly dir: string) {
    // The worker's own: 0700 (with any parent it creates, the work directory too), whatever the umask.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Records a process group started just now. Written atomically, so a worker dying mid-write
   * leaves no file or a whole one, never half of one. A group already gone is not recorded.
   */
  record(key: string, pgid: number): Promise<void> {
    if (!isGroupId(pgid)) return Promise.reject(new RangeError(`not a process group id: ${pgid}`));
    const file = this.fileFor(key);
    return this.enqueue(key, async () => {
      let stat: string;
      try {
        stat = await readFile(`/proc/${pgid}/stat`, 'utf8');
      } catch {
        // Gone already (a job that ended at once): nothing to record. Without /proc, no start time to keep.
        if (!processExists(pgid)) return;
        stat = '';
      }
      const record: PidRecord = { pgid, startTime: startTimeIn(stat === '' ? null : fieldsOf(stat)), key };
      await writeFile(`${file}.tmp`, JSON.stringify(record));
      await rename(`${file}.tmp`, file);
    });
  }

  /** Removes the record of a group that has ended, once its own recording is done. */
  forget(key: string): Promise<void> {
    const file = this.fileFor(key);
    return this.enqueue(key, () => rm(file, { force: true }));
  }

  private enqueue(key: string, work: () => Promise<void>): Promise<void> {
    const done = (this.queued.get(key) ?? Promise.resolve()).then(work, work);
    const tail = done.catch(() => undefined);
    this.queued.set(key, tail);
    void tail.then(() => {
      if (this.queued.get(key) === tail) this.queued.delete(key);
    });
    return done;
  }

  /**
   * Stops every process group a previous life of this worker left running and removes all pid
   * files, so call it at startup, before this life records any. Returns one line per file saying
   * what happened; a bad file is reported, never thrown.
   */
  async sweepLeftovers(graceMs = 2000): Promise<string[]> {
    const report: string[] = [];
    // Every file, .tmp ones too: a complete one names an attempt the worker died before renaming.
    const names = readdirSync(this.dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
    for (const name of names) {
      const file = join(this.dir, name);
      try {
        report.push(await this.stop(parseRecord(readFileSync(file, 'utf8')), graceMs));
      } catch (err) {
        report.push(`removed unreadable pid file ${name}: ${message(err)}`);
      }
      try {
        rmSync(file, { force: true });
      } catch (err) {
        report.push(`could not remove pid file ${name}: ${message(err)}`);
      }
    }
    return report;
  }

  private async stop({ pgid, startTime, key }: PidRecord, graceMs: number): Promise<string> {
    if (!processExists(pgid)) return `leftover attempt ${key} (pid ${pgid}) was already gone`;
    if (pgid === process.pid || (startTime !== null && startTimeOf(pgid) !== startTime)) {
      return `left pid ${pgid} alone: it now belongs to another process, not leftover attempt ${key}`;
    }
    try {
      signalGroup(pgid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (!isGone(pgid) && Date.now() < deadline) await sleep(POLL_MS);
      const stubborn = !isGone(pgid);
      // Also when the leader went: members that ignored SIGTERM would otherwise live on.
      signalGroup(pgid, 'SIGKILL');
      return stubborn
        ? `killed leftover attempt ${key} (process group ${pgid}) after it ignored SIGTERM for ${graceMs} ms`
        : `stopped leftover attempt ${key} (process group ${pgid})`;
    } catch (err) {
      return `could not stop leftover attempt ${key} (process group ${pgid}): ${message(err)}`;
    }
  }

  /** A hash, so no key (they look like runId/jobId#3) can name a path outside dir. */
  private fileFor(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex')}.json`);
  }
}
