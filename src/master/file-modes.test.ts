/**
 * What the master's stores create in its data directory is private whatever the umask: every
 * folder 0700 and every file 0600, partial uploads and markers included. Run under umask 000,
 * where anything created with the default modes would be open to every user.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { notPrivate } from '../../test/helpers/file-modes.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { ArtifactStore } from './artifacts.js';
import { BlobStore } from './blob-store.js';
import { systemClock } from './clock.js';
import { Drafts } from './drafts.js';
import { FileArea } from './file-area.js';
import { LogStore } from './log-store.js';

let dir = '';
let umask = 0;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'titan-modes-'));
  umask = process.umask(0);
});
afterEach(() => {
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('files the master creates, under umask 000', () => {
  it('logs, lost-output markers and removal notes are private', () => {
    const logs = new LogStore(join(dir, 'logs'));
    logs.append('r1', 'a', 1, 'output\n');
    // A folder where the log should be: the output is lost and a marker written beside it.
    mkdirSync(logs.pathOf('r1', 'b', 1), { recursive: true, mode: 0o700 });
    logs.append('r1', 'b', 1, 'lost\n');
    rmSync(logs.pathOf('r1', 'b', 1), { recursive: true });
    expect(logs.lostOf('r1', 'b', 1)?.bytes).toBe(5);
    logs.append('r2', 'a', 1, 'removed\n');
    logs.removeRun('r2', 'over the cap');
    expect(logs.removedNote('r2')).toBe('over the cap');
    logs.closeAll();
    expect(notPrivate(dir)).toEqual([]);
  });

  it('blobs and their partial uploads, the script library, uploads and drafts are private', () => {
    const blobs = new BlobStore(join(dir, 'blobs'), 1024 * 1024);
    blobs.putBuffer(Buffer.from('echo whole\n'));
    const partial = Buffer.from('echo part\n');
    blobs.put(sha(partial), 0, partial.subarray(0, 4), false);
    new FileArea(join(dir, 'scripts'), 1024).put('job.py', Buffer.from('print(1)\n'));
    new FileArea(join(dir, 'uploads'), 1024).put('data.csv', Buffer.from('a,b\n'));
    new Drafts(join(dir, 'drafts')).put('layout', { nodes: [] });
    expect(notPrivate(dir)).toEqual([]);
  });

  it('artifacts and their unfinished uploads are private', async () => {
    const store = SqliteStore.open(':memory:');
    try {
      const artifacts = new ArtifactStore(join(dir, 'artifacts'), store, systemClock, 1024 * 1024);
      const data = Buffer.from('kept\n');
      const done = await artifacts.begin({ key: 'reports/a.txt', size: data.length });
      await artifacts.part(done.uploadId, 0, data);
      await artifacts.commit(done.uploadId, sha(data));
      const open = await artifacts.begin({ key: 'reports/b.txt', size: 10 });
      await artifacts.part(open.uploadId, 0, Buffer.from('half'));
      expect(notPrivate(dir)).toEqual([]);
      await artifacts.abort(open.uploadId);
    } finally {
      await store.close();
    }
  });
});
