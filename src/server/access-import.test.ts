import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite-store.js';
import { importAccessFiles } from './access-import.js';

const root = mkdtempSync(join(tmpdir(), 'titan-import-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const line = (seq: number, target: string): string => JSON.stringify({ seq, at: 1_000 + seq, who: 'cluster-token', kind: 'cluster', via: 'tcp', from: '127.0.0.1', action: 'run.cancel', target, ok: true });
const token = (name: string): Record<string, unknown> => ({ id: `id-${name}`, name, roles: ['read'], hash: 'ab'.repeat(32), createdAt: 1, createdBy: 'cluster-token', expiresAt: null });

describe('importAccessFiles', () => {
  it('imports once; an import cut short before the rename is done again without duplicates; the store keeps its own identity of a name', async () => {
    const dir = mkdtempSync(join(root, 'data-'));
    const store = SqliteStore.open(join(dir, 'titan.db'));
    stores.push(store);
    await store.identityAdd({ kind: 'token', name: 'taken', body: JSON.stringify(token('taken')) });
    writeFileSync(join(dir, 'audit.log'), `${[line(7, 'a'), line(8, 'b'), 'not json'].join('\n')}\n`);
    writeFileSync(join(dir, 'identities.json'), JSON.stringify({ tokens: [token('ci'), { ...token('taken'), id: 'other' }], users: [] }));
    const said: string[] = [];
    await importAccessFiles(store, dir, (l) => said.push(l));
    expect(said.join('\n')).toMatch(/imported 1 named token\(s\) and user\(s\) .*; the store's own token taken kept/);
    expect(said.join('\n')).toMatch(/imported 2 audit entries/);
    expect(existsSync(join(dir, 'audit.log'))).toBe(false);

    // As if the master died after writing to the store but before renaming: the same files again.
    copyFileSync(join(dir, 'audit.log.imported'), join(dir, 'audit.log'));
    copyFileSync(join(dir, 'identities.json.imported'), join(dir, 'identities.json'));
    await importAccessFiles(store, dir, () => undefined);
    expect((await store.auditList(10)).map((e) => e.target)).toEqual(['b', 'a']);
    const ids = await store.identityList();
    expect(ids.map((i) => i.name)).toEqual(['ci', 'taken']);
    expect(JSON.parse(ids[1]?.body ?? '{}')).toMatchObject({ id: 'id-taken' });

    // Nothing left to import: nothing happens.
    const quiet: string[] = [];
    await importAccessFiles(store, dir, (l) => quiet.push(l));
    expect(quiet).toEqual([]);
  });

  it('refuses a damaged identities.json and leaves it where it is', async () => {
    const dir = mkdtempSync(join(root, 'data-'));
    const store = SqliteStore.open(join(dir, 'titan.db'));
    stores.push(store);
    writeFileSync(join(dir, 'identities.json'), '{"tokens": [');
    await expect(importAccessFiles(store, dir, () => undefined)).rejects.toThrow(/identities\.json is damaged/);
    expect(existsSync(join(dir, 'identities.json'))).toBe(true);
  });
});
