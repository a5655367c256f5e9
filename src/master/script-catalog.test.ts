import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIMITS } from '../core/model.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { jobSpec } from '../../test/helpers/records.js';
import { run, submit } from '../../test/helpers/store-fixtures.js';
import { BlobStore } from './blob-store.js';
import { FileArea } from './file-area.js';
import { ScriptCatalog } from './script-catalog.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('the catalog of every script the cluster knows', () => {
  let dir: string;
  let store: SqliteStore;
  let blobs: BlobStore;
  let library: FileArea;
  let uploads: FileArea;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'titan-catalog-'));
    store = SqliteStore.open(':memory:');
    blobs = new BlobStore(join(dir, 'blobs'), LIMITS.maxBlobBytes);
    library = new FileArea(join(dir, 'scripts'), LIMITS.maxScriptBytes);
    uploads = new FileArea(join(dir, 'uploads'), LIMITS.maxScriptBytes);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A run at `at` whose one job carries `name` with `content` (its content in the blob store). */
  const ranScript = async (runId: string, at: number, name: string, content: string): Promise<void> => {
    const sha256 = blobs.putBuffer(Buffer.from(content));
    await submit(store, run(runId, at, 'COMPLETED', { finishedAt: at + 1 }), [jobSpec('j', { script: { name, sha256 } })]);
  };

  it('looks through the newest runs only, and says when older ones were left out', async () => {
    for (let i = 0; i < 5; i++) await ranScript(`r${i}`, 1000 + i, `s${i}.sh`, `echo ${i}\n`);
    const capped = await new ScriptCatalog({ store, blobs, library, uploads }, 3).list(100);
    expect(capped.scripts.map((s) => s.name)).toEqual(['s4.sh', 's3.sh', 's2.sh']);
    expect([capped.truncated, capped.runsScanned]).toEqual([true, 3]);
    const all = await new ScriptCatalog({ store, blobs, library, uploads }, 5).list(2);
    expect(all.scripts).toHaveLength(2);
    expect([all.truncated, all.runsScanned]).toEqual([true, 5]);
    expect((await new ScriptCatalog({ store, blobs, library, uploads }, 5).list(5)).truncated).toBe(false);
    // A budget of jobs read per listing: the runs read before are remembered, so the next listing goes further.
    const budgeted = new ScriptCatalog({ store, blobs, library, uploads }, 500, 2);
    expect(await budgeted.list(100)).toMatchObject({ truncated: true, runsScanned: 2 });
    expect(await budgeted.list(100)).toMatchObject({ truncated: true, runsScanned: 4 });
    expect(await budgeted.list(100)).toMatchObject({ truncated: false, runsScanned: 5 });
  });

  it('resolves a name to the library, else the uploads, else the newest run whose content is kept', async () => {
    await ranScript('old', 1000, 'a.sh', 'echo old\n');
    await ranScript('new', 2000, 'a.sh', 'echo new\n');
    const catalog = new ScriptCatalog({ store, blobs, library, uploads });
    expect((await catalog.resolver())('a.sh')).toEqual({ name: 'a.sh', sha256: sha('echo new\n'), source: 'run' });
    rmSync(join(dir, 'blobs', sha('echo new\n').slice(0, 2), sha('echo new\n')));
    expect((await catalog.resolver())('a.sh')).toEqual({ name: 'a.sh', sha256: sha('echo old\n'), source: 'run' });
    uploads.put('a.sh', Buffer.from('echo upload\n'));
    expect((await catalog.resolver())('a.sh')?.source).toBe('upload');
    library.put('a.sh', Buffer.from('echo library\n'));
    expect((await catalog.resolver())('a.sh')).toEqual({ name: 'a.sh', sha256: sha('echo library\n'), source: 'library' });
    expect((await catalog.resolver())('b.sh')).toBeNull();
    // Content by hash: the blob store's, or a file of the master's.
    expect((await catalog.content(sha('echo old\n')))?.toString()).toBe('echo old\n');
    expect((await catalog.content(sha('echo upload\n')))?.toString()).toBe('echo upload\n');
    expect(await catalog.content(sha('echo new\n'))).toBeNull();
  });
});
