import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Drafts, MAX_DRAFT_BYTES } from './drafts.js';

describe('Drafts', () => {
  let dir: string;
  let now: number;
  let warnings: string[];
  let drafts: Drafts;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'titan-drafts-'));
    now = 1000;
    warnings = [];
    drafts = new Drafts(dir, () => now, (line) => warnings.push(line));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('saves, reads, replaces and deletes a draft', () => {
    expect(drafts.put('My flow', { nodes: [{ id: 'a' }], edges: [] })).toEqual({ name: 'My flow', savedAt: 1000 });
    expect(drafts.get('My flow')).toEqual({ name: 'My flow', savedAt: 1000, content: { nodes: [{ id: 'a' }], edges: [] } });
    now = 2000;
    drafts.put('My flow', { nodes: [] });
    expect(drafts.get('My flow')).toEqual({ name: 'My flow', savedAt: 2000, content: { nodes: [] } });
    drafts.delete('My flow');
    expect(() => drafts.get('My flow')).toThrow(/no draft/);
    expect(() => drafts.delete('My flow')).toThrow(/no draft/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('checks names and keeps them out of file names', () => {
    for (const bad of ['', 'x'.repeat(101), '../etc', 'a/b', 'a\\b', ' lead', 'trail ', 'semi;colon', 'nul\0']) {
      expect(() => drafts.put(bad, {}), bad).toThrow(/invalid draft name/);
    }
    for (const good of ['a', 'x'.repeat(100), 'v1.2 - final_copy', 'Черновик 1', '..']) drafts.put(good, { good });
    expect(drafts.list()).toHaveLength(5);
    for (const file of readdirSync(dir)) expect(file).toMatch(/^[0-9a-f]{40}\.json$/);
    expect(drafts.get('..').content).toEqual({ good: '..' });
  });

  it('limits the content to 1 MiB of JSON', () => {
    expect(() => drafts.put('big', { blob: 'x'.repeat(MAX_DRAFT_BYTES) })).toThrow(/limit is 1048576/);
    expect(() => drafts.put('none', undefined)).toThrow(/needs content/);
    drafts.put('fits', { blob: 'x'.repeat(MAX_DRAFT_BYTES - 20) });
    expect(drafts.list().map((d) => d.name)).toEqual(['fits']);
  });

  it('lists newest first, then by name', () => {
    drafts.put('b', {});
    drafts.put('a', {});
    now = 3000;
    drafts.put('c', {});
    expect(drafts.list()).toEqual([
      { name: 'c', savedAt: 3000 },
      { name: 'a', savedAt: 1000 },
      { name: 'b', savedAt: 1000 },
    ]);
  });

  it('renames, refusing to replace another draft unless told to', () => {
    drafts.put('one', { n: 1 });
    now = 2000;
    drafts.put('two', { n: 2 });
    expect(() => drafts.rename('one', 'two')).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(() => drafts.rename('missing', 'three')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => drafts.rename('one', 'bad/name')).toThrow(/invalid draft name/);
    expect(drafts.rename('one', 'three')).toEqual({ name: 'three', savedAt: 1000 });
    expect(drafts.get('three').content).toEqual({ n: 1 });
    expect(() => drafts.get('one')).toThrow(/no draft/);
    expect(drafts.rename('three', 'two', true)).toEqual({ name: 'two', savedAt: 1000 });
    expect(drafts.get('two').content).toEqual({ n: 1 });
    expect(drafts.list().map((d) => d.name)).toEqual(['two']);
    expect(drafts.rename('two', 'two')).toEqual({ name: 'two', savedAt: 1000 });
  });

  it('leaves a corrupt draft file out of the list and reports it', () => {
    drafts.put('ok', {});
    writeFileSync(join(dir, 'broken.json'), '{"name": "ok2", "sav');
    writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ name: 'bad/name', savedAt: 1, content: {} }));
    expect(drafts.list()).toEqual([{ name: 'ok', savedAt: 1000 }]);
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toMatch(/broken\.json/);
  });
});
