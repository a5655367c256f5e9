/**
 * The master's own files on a full disk: the write is refused with UNAVAILABLE naming the disk,
 * and nothing half-written is left. /dev/full, which refuses every write with ENOSPC as a full
 * disk does, stands in for the file being written.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore } from './blob-store.js';
import { FileArea } from './file-area.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'titan-full-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const refusal = (where: string) => ({ code: 'UNAVAILABLE', message: expect.stringMatching(new RegExp(`^the disk holding ${where} is full \\(ENOSPC\\): [\\d.]+ MiB free; free some space and try again$`)) });

describe.skipIf(!existsSync('/dev/full'))('writes on a full disk', () => {
  it('a named file (script library, uploads) is refused and its temporary file removed; the old content stays', () => {
    const area = new FileArea(join(dir, 'scripts'), 1024);
    area.put('job.py', Buffer.from('print(1)\n'));
    symlinkSync('/dev/full', join(dir, 'scripts', `job.py.${process.pid}.tmp`));
    expect(() => area.put('job.py', Buffer.from('print(2)\n'))).toThrow(expect.objectContaining(refusal(join(dir, 'scripts'))));
    expect(readdirSync(join(dir, 'scripts'))).toEqual(['job.py']);
    expect(area.get('job.py')?.toString()).toBe('print(1)\n');
  });

  it('a blob upload is refused and its partial file removed, so it starts again from the beginning', () => {
    const blobs = new BlobStore(join(dir, 'blobs'), 1024 * 1024);
    const data = Buffer.from('echo hello\n');
    const sha = createHash('sha256').update(data).digest('hex');
    mkdirSync(join(dir, 'blobs', sha.slice(0, 2)), { recursive: true });
    symlinkSync('/dev/full', join(dir, 'blobs', sha.slice(0, 2), `${sha}.part`));
    expect(() => blobs.put(sha, 0, data, true)).toThrow(expect.objectContaining(refusal(join(dir, 'blobs'))));
    expect(readdirSync(join(dir, 'blobs', sha.slice(0, 2)))).toEqual([]);
    expect(blobs.has(sha)).toBe(false);
    expect(blobs.put(sha, 0, data, true)).toEqual({ size: data.length, complete: true });
  });
});
