import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pruneWorkDir } from './work-dir-pruner.js';

const HOUR = 3600_000;
let work = '';
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** Makes a folder (with a file) and sets its time, and its subfolders', to `ageMs` ago. */
function folder(path: string, ageMs: number, sub?: string): void {
  mkdirSync(join(work, path, sub ?? ''), { recursive: true });
  writeFileSync(join(work, path, sub ?? '', 'file'), 'x');
  const t = new Date(Date.now() - ageMs);
  if (sub) utimesSync(join(work, path, sub), t, t);
  utimesSync(join(work, path), t, t);
}

describe('pruneWorkDir', () => {
  it('removes run folders and cache entries older than the retention, and keeps busy and recent ones', async () => {
    work = mkdtempSync(join(tmpdir(), 'titan-prune-'));
    folder('runs/old', 80 * HOUR, 'extract.1');
    folder('runs/old-but-busy', 80 * HOUR, 'serve.1');
    folder('runs/recent', 2 * HOUR, 'extract.1');
    // An old run whose attempt folder changed recently (a new attempt, or output written) stays.
    folder('runs/old-with-new-attempt', 80 * HOUR);
    folder('runs/old-with-new-attempt/extract.2', 1 * HOUR);
    utimesSync(join(work, 'runs/old-with-new-attempt'), new Date(Date.now() - 80 * HOUR), new Date(Date.now() - 80 * HOUR));
    folder('cache/aaaa', 100 * HOUR);
    folder('cache/bbbb', 10 * HOUR);

    folder('cache/cccc', 100 * HOUR);
    const busy = new Set(['runs/old-but-busy', 'cache/cccc']);
    const result = await pruneWorkDir(work, { olderThanMs: 72 * HOUR, now: Date.now(), isBusy: (area, name) => busy.has(`${area}/${name}`) });
    expect(result).toEqual({ runs: 1, cached: 1 });
    expect(existsSync(join(work, '.trash'))).toBe(false);
    expect(existsSync(join(work, 'runs/old'))).toBe(false);
    expect(existsSync(join(work, 'cache/aaaa'))).toBe(false);
    for (const kept of ['runs/old-but-busy', 'runs/recent', 'runs/old-with-new-attempt', 'cache/bbbb', 'cache/cccc']) expect(existsSync(join(work, kept))).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)("empties the run folders of jobs run as another user as that user, and so never past a link they left", async () => {
    work = mkdtempSync(join(tmpdir(), 'titan-prune-'));
    chmodSync(work, 0o711);
    const nobody = { uid: 65534, gid: 65534 };
    folder('runs/old', 80 * HOUR, 'job.1');
    const secret = join(work, 'secret');
    writeFileSync(secret, 'the worker\'s', { mode: 0o600 });
    mkdirSync(join(work, 'private'), { mode: 0o700 });
    writeFileSync(join(work, 'private', 'kept'), 'x');
    symlinkSync(secret, join(work, 'runs/old/job.1/link'));
    symlinkSync(join(work, 'private'), join(work, 'runs/old/job.1/dir-link'));
    for (const path of ['runs/old/job.1/file', 'runs/old/job.1/link', 'runs/old/job.1/dir-link', 'runs/old/job.1']) chownSync(join(work, path), nobody.uid, nobody.gid);
    utimesSync(join(work, 'runs/old/job.1'), new Date(Date.now() - 80 * HOUR), new Date(Date.now() - 80 * HOUR));
    const result = await pruneWorkDir(work, { olderThanMs: 72 * HOUR, now: Date.now(), isBusy: () => false, owner: nobody });
    expect(result).toEqual({ runs: 1, cached: 0 });
    expect(readdirSync(work).sort()).toEqual(['private', 'runs', 'secret']);
    expect(readdirSync(join(work, 'runs'))).toEqual([]);
    expect(existsSync(join(work, 'private', 'kept'))).toBe(true);
  });

  it('does nothing on a fresh work folder', async () => {
    work = mkdtempSync(join(tmpdir(), 'titan-prune-'));
    expect(await pruneWorkDir(work, { olderThanMs: HOUR, now: Date.now(), isBusy: () => false })).toEqual({ runs: 0, cached: 0 });
  });
});
