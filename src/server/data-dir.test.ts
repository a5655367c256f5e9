/**
 * A data directory from an older version, whose folders and files were made under the umask, is
 * closed at start: once, saying so, without following links out of it.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { notPrivate } from '../../test/helpers/file-modes.js';
import { privateDataDir } from './data-dir.js';

let root = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'titan-data-dir-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('privateDataDir', () => {
  it("closes an older version's tree once, keeps owners' execute bits and leaves what links point to alone", () => {
    const data = join(root, 'data');
    mkdirSync(join(data, 'logs', 'r1', 'a'), { recursive: true, mode: 0o755 });
    mkdirSync(join(data, 'worker', 'cache', 'abc'), { recursive: true, mode: 0o755 });
    writeFileSync(join(data, 'token'), 't\n', { mode: 0o644 });
    writeFileSync(join(data, 'logs', 'r1', 'a', '1.log'), 'out\n', { mode: 0o644 });
    writeFileSync(join(data, 'worker', 'cache', 'abc', 'run'), '#!/bin/sh\n', { mode: 0o755 });
    const outside = join(root, 'outside');
    writeFileSync(outside, 'not ours\n', { mode: 0o644 });
    symlinkSync(outside, join(data, 'logs', 'link'));
    chmodSync(data, 0o750);

    const lines: string[] = [];
    privateDataDir(data, (l) => lines.push(l));
    expect(lines).toEqual([
      `the data directory ${data} was open to others (mode 750); it is now 0700`,
      `9 files and folders in the data directory ${data} were open to others (made by an older version); they are now private to this user`,
    ]);
    expect(notPrivate(data)).toEqual(['worker/cache/abc/run 700']);
    expect(modeOf(outside)).toBe('644');

    privateDataDir(data, (l) => lines.push(l));
    expect(lines).toHaveLength(2);
  });

  it('creates a missing directory 0700 and says nothing', () => {
    const lines: string[] = [];
    privateDataDir(join(root, 'new', 'data'), (l) => lines.push(l));
    expect(modeOf(join(root, 'new', 'data'))).toBe('700');
    expect(lines).toEqual([]);
  });
});
