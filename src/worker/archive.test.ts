import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, unzipSync, type Zippable, zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entryPath, extractArchive } from './archive.js';

let base: string;
let dest: string;

beforeEach(() => {
  // dest sits one level down, so anything that escapes it would land in base where it can be seen.
  base = mkdtempSync(join(tmpdir(), 'titan-archive-'));
  dest = join(base, 'dest');
});

afterEach(() => rmSync(base, { recursive: true, force: true }));

const zip = (files: Zippable): Uint8Array => zipSync(files);

/** fflate builds nested objects from `{ 'a/b': … }` keys; a raw name needs to be one flat key. */
const zipNamed = (name: string, content = 'x'): Uint8Array => zipSync({ [name]: strToU8(content) });

/** Every path under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe('extractArchive', () => {
  it('extracts nested files, and the entry path resolves to them', () => {
    const data = zip({
      'README.md': strToU8('hello'),
      src: { 'main.py': strToU8('print(1)\n'), lib: { 'util.py': strToU8('X = 2\n') } },
      data: { 'input.csv': strToU8('a,b\n1,2\n') },
    });
    const result = extractArchive(data, dest);
    expect(result).toEqual({ files: 4, bytes: 5 + 9 + 6 + 8 });
    expect(readFileSync(join(dest, 'src/lib/util.py'), 'utf8')).toBe('X = 2\n');
    const main = entryPath(dest, 'src/main.py');
    expect(main).toBe(join(dest, 'src', 'main.py'));
    expect(readFileSync(main, 'utf8')).toBe('print(1)\n');
    expectPlainFile(main);
  });

  it('writes plain 0644 files, whatever attributes the zip carries', () => {
    const data = zipSync({ 'run.sh': [strToU8('#!/bin/sh\n'), { os: 3, attrs: 0o100777 << 16 }] });
    extractArchive(data, dest);
    expectPlainFile(join(dest, 'run.sh'));
  });

  it('accepts an empty archive and creates the destination', () => {
    expect(extractArchive(zip({}), dest)).toEqual({ files: 0, bytes: 0 });
    expect(existsSync(dest)).toBe(true);
  });

  it('skips directory entries but creates the directories, empty ones included', () => {
    // Nested objects become directory entries ("src/", "empty/"); "." becomes "./".
    const data = zip({ src: { 'main.py': strToU8('x') }, empty: {}, '.': {} });
    expect(Object.keys(unzipSync(data)).sort()).toEqual(['./', 'empty/', 'src/', 'src/main.py']);
    expect(extractArchive(data, dest)).toEqual({ files: 1, bytes: 1 });
    expect(tree(dest)).toEqual(['empty', 'src', join('src', 'main.py')]);
    expect(statSync(join(dest, 'empty')).isDirectory()).toBe(true);
  });

  it.each([
    ['../evil', 'a parent segment'],
    ['/abs', 'an absolute name'],
    ['/tmp/titan-abs-evil', 'an absolute path'],
    ['a/../../x', '.. inside the name'],
    ['a\\..\\..\\x', 'backslashes'],
    ['ok\\name.py', 'a backslash'],
    ['a/b\0c', 'a NUL byte'],
    ['../', 'a parent directory entry'],
    ['.', 'the destination itself'],
  ])('rejects %j (%s) and writes nothing', (name) => {
    const data = zipSync({ 'first.txt': strToU8('first'), [name]: strToU8('evil') });
    expect(() => extractArchive(data, dest)).toThrow(new RegExp(`archive entry ${escape(JSON.stringify(name))}`));
    // The whole archive is refused before anything is written, inside dest or out of it.
    expect(readdirSync(base)).toEqual([]);
    expect(existsSync('/abs')).toBe(false);
    expect(existsSync('/tmp/titan-abs-evil')).toBe(false);
  });

  it('rejects a name that escapes through a directory that dest only resembles', () => {
    // "dest-other" starts with "dest" but is not inside it.
    mkdirSync(dest);
    expect(() => entryPath(dest, '../dest-other/x')).toThrow(/is not a relative path/);
    expect(() => extractArchive(zipNamed('../dest-other/x'), dest)).toThrow(/"\.\.\/dest-other\/x"/);
    expect(existsSync(join(base, 'dest-other'))).toBe(false);
  });

  it('enforces the file count limit before decompressing', () => {
    const files: Zippable = {};
    for (let i = 0; i < 6; i++) files[`f${i}.txt`] = strToU8(String(i));
    const data = zip(files);
    expect(extractArchive(data, join(dest, 'ok'), { maxFiles: 6 }).files).toBe(6);
    expect(() => extractArchive(data, join(dest, 'over'), { maxFiles: 5 })).toThrow('the archive has more than 5 entries');
    expect(existsSync(join(dest, 'over'))).toBe(false);
  });

  it('enforces the size limit from the declared sizes, before decompressing', () => {
    const data = zip({ 'a.txt': strToU8('a'.repeat(600)), 'b.txt': strToU8('b'.repeat(600)) });
    expect(extractArchive(data, join(dest, 'ok'), { maxBytes: 1200 }).bytes).toBe(1200);
    expect(() => extractArchive(data, join(dest, 'over'), { maxBytes: 1000 })).toThrow('the archive unpacks to more than 1000 bytes');
    expect(existsSync(join(dest, 'over'))).toBe(false);
  });

  it('enforces the size limit on the actual output when a stored entry understates its size', () => {
    const data = zipSync({ 'big.bin': [strToU8('z'.repeat(5000)), { level: 0 }] });
    // Rewrite the declared uncompressed size (central directory, offset 24) to 10 bytes.
    const cd = findSignature(data, 0x02014b50);
    new DataView(data.buffer, data.byteOffset).setUint32(cd + 24, 10, true);
    expect(() => extractArchive(data, dest, { maxBytes: 100 })).toThrow('the archive unpacks to more than 100 bytes');
    expect(existsSync(dest)).toBe(false);
  });

  it.each([
    ['random bytes', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25])],
    ['an empty buffer', new Uint8Array(0)],
    ['a gzip file', Buffer.from('1f8b0800000000000003cb48cdc9c95728cf2fca490100c2a99b0c0c000000', 'hex')],
  ])('says %s is not a valid zip', (_what, data) => {
    expect(() => extractArchive(data, dest)).toThrow(/^the archive is not a valid zip file/);
  });

  it('says a zip with damaged compressed data is not a valid zip', () => {
    const data = zip({ 'a.txt': strToU8('hello hello hello hello hello hello hello') });
    const local = findSignature(data, 0x04034b50);
    const start = local + 30 + 'a.txt'.length;
    data.fill(0xff, start, start + 8);
    expect(() => extractArchive(data, dest)).toThrow(/^the archive is not a valid zip file/);
  });

  it('accepts a Buffer as well as a Uint8Array', () => {
    expect(extractArchive(Buffer.from(zip({ 'a.txt': strToU8('a') })), dest)).toEqual({ files: 1, bytes: 1 });
  });

  it('reports an entry that cannot be written, by name', () => {
    // A file "a" and a file "a/b": the second needs "a" to be a directory.
    const data = zipSync({ a: strToU8('file'), 'a/b': strToU8('nested') });
    expect(() => extractArchive(data, dest)).toThrow(/cannot extract archive entry "a\/b"/);
  });
});

describe('entryPath', () => {
  it('resolves a nested entry inside dest', () => {
    expect(entryPath('/w/archive', 'src/main.py')).toBe('/w/archive/src/main.py');
    expect(entryPath('/w/archive/', 'main.py')).toBe('/w/archive/main.py');
  });

  it.each(['../x', '/etc/passwd', 'a/../../x', 'a\\b', 'a\0b', '.', ''])('rejects %j', (entry) => {
    expect(() => entryPath('/w/archive', entry)).toThrow(/archive entry/);
  });
});

/** Mode 0644 as the umask leaves it: owner read and write, nothing beyond 0644. */
function expectPlainFile(path: string): void {
  const mode = statSync(path).mode & 0o7777;
  expect(mode & 0o600).toBe(0o600);
  expect(mode & ~0o644).toBe(0);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function findSignature(data: Uint8Array, signature: number): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i + 4 <= data.length; i++) if (view.getUint32(i, true) === signature) return i;
  throw new Error(`signature ${signature.toString(16)} not found`);
}

