import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blockedAt, checkWorkDirReach, JobFiles, prepareWorkDir, usableBy, WorkDirError } from './job-files.js';

const root = mkdtempSync(join(tmpdir(), 'titan-job-files-'));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const NOBODY = 65534;
const nobody = { uid: NOBODY, gid: NOBODY };
const isRoot = process.getuid?.() === 0;
const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('a work directory laid out for jobs run as another user', () => {
  it.skipIf(!isRoot)("is passable by the jobs' group only, never listable, with the pid folder and any file at its root private", () => {
    const work = join(root, 'work');
    mkdirSync(work);
    chmodSync(work, 0o755);
    writeFileSync(join(work, 'credential'), 'secret', { mode: 0o644 });
    const notes = prepareWorkDir(work, nobody);
    expect(notes).toEqual([`the work directory ${work} was open to others (mode 755); it is now 0710`, `${join(work, 'credential')} was open to others (mode 644); it is now 0600`]);
    const passed = ['', 'runs', 'cache', 'ephemeral'].map((name) => join(work, name));
    expect(passed.map(modeOf)).toEqual(['710', '710', '710', '710']);
    expect(passed.map((dir) => statSync(dir).gid)).toEqual([NOBODY, NOBODY, NOBODY, NOBODY]);
    expect([modeOf(join(work, 'pids')), modeOf(join(work, 'credential'))]).toEqual(['700', '600']);
    expect(prepareWorkDir(work, nobody)).toEqual([]);
  });

  it('is all the worker\'s own, 0700, when jobs run as the worker', () => {
    const work = join(root, 'own');
    expect(prepareWorkDir(work, null)).toEqual([]);
    expect(['', 'runs', 'cache', 'ephemeral', 'pids'].map((name) => modeOf(join(work, name)))).toEqual(['700', '700', '700', '700', '700']);
  });

  it.skipIf(!isRoot)("is refused when a folder on its way is closed to the jobs' user, naming that folder", () => {
    const closed = join(root, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    chmodSync(closed, 0o700);
    const work = join(closed, 'work');
    expect(() => prepareWorkDir(work, nobody)).toThrow(WorkDirError);
    expect(() => prepareWorkDir(work, nobody)).toThrow(`${closed} is closed to them (mode 700)`);
    // Checked before anything is made, as far as the folders above it exist.
    expect(() => checkWorkDirReach(join(closed, 'other', 'deeper'), nobody)).toThrow(`${closed} is closed to them`);
    expect(existsSync(join(closed, 'other'))).toBe(false);
    // A closed work directory itself is no obstacle: it is laid out anew.
    expect(() => checkWorkDirReach(closed, nobody)).not.toThrow();
    // The worker's own user and root pass anywhere.
    expect(prepareWorkDir(work, null)).toEqual([]);
  });

  it('tells what a user can reach by the owner, group and other bits', () => {
    const dir = join(root, 'bits');
    mkdirSync(dir);
    chmodSync(dir, 0o710);
    expect(blockedAt(dir, nobody)).toBe(dir);
    expect(blockedAt(join(dir, 'missing', 'deeper'), { uid: 4242, gid: statSync(dir).gid })).toBeNull();
    chmodSync(dir, 0o711);
    writeFileSync(join(dir, 'f'), 'x', { mode: 0o640 });
    chmodSync(join(dir, 'f'), 0o640);
    expect(usableBy(join(dir, 'f'), nobody, 'read')).toBe(false);
    expect(usableBy(join(dir, 'f'), { uid: 4242, gid: statSync(dir).gid }, 'read')).toBe(true);
    expect(usableBy(join(dir, 'f'), { uid: 4242, gid: statSync(dir).gid }, 'run')).toBe(false);
    expect(usableBy(join(dir, 'missing'), nobody, 'read')).toBe(false);
  });
});

describe.skipIf(!isRoot)("a run's and an attempt's folders", () => {
  it("belong to the jobs' user, 0700, inside a run folder that is the worker's and passable", () => {
    const work = join(root, 'owned');
    prepareWorkDir(work, nobody);
    const files = new JobFiles(nobody);
    const runDir = join(work, 'runs', 'r1');
    const shared = files.sharedDir(runDir);
    const attempt = join(runDir, 'j.1');
    files.attemptDir(attempt, join(attempt, 'out'));
    // The worker's own until handed over, with what it unpacked there.
    expect(statSync(attempt).uid).toBe(0);
    mkdirSync(join(attempt, 'archive', 'src'), { recursive: true });
    writeFileSync(join(attempt, 'archive', 'src', 'main.py'), 'print(1)\n');
    const outside = join(root, 'not-theirs');
    writeFileSync(outside, 'secret', { mode: 0o600 });
    symlinkSync(outside, join(attempt, 'archive', 'link'));
    files.handOver(attempt);
    expect([statSync(runDir).uid, modeOf(runDir)]).toEqual([0, '711']);
    for (const path of [shared, attempt, join(attempt, 'out'), join(attempt, 'archive', 'src', 'main.py'), join(attempt, 'archive')]) expect(statSync(path).uid, path).toBe(NOBODY);
    expect([modeOf(shared), modeOf(attempt), modeOf(join(attempt, 'out'))]).toEqual(['700', '700', '700']);
    // A link is handed over itself; what it points to is not.
    expect(lstatSync(join(attempt, 'archive', 'link')).uid).toBe(NOBODY);
    expect(statSync(outside).uid).toBe(0);
  });

  it('moves aside a folder an earlier dispatch of the same attempt left to the jobs\' user', () => {
    const files = new JobFiles(nobody);
    const attempt = join(root, 'owned', 'runs', 'r1', 'j.2');
    files.attemptDir(attempt, join(attempt, 'out'));
    files.handOver(attempt);
    files.attemptDir(attempt, join(attempt, 'out'));
    expect(statSync(attempt).uid).toBe(0);
    expect(readdirSync(join(root, 'owned', 'runs', 'r1')).filter((n) => n.startsWith('j.2.'))).toHaveLength(1);
  });
});
