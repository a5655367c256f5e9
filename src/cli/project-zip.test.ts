import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { buildProjectZip, IgnoreMatcher, listProjectFiles, ProjectZipError } from './project-zip.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh folder holding `files` (relative path → content). */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'titan-project-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('IgnoreMatcher', () => {
  const m = IgnoreMatcher.parse(
    [
      '# a comment',
      '',
      '*.log',
      '!keep.log',
      'build/',
      '/rooted.txt',
      'docs/*.md',
      'cache',
      '**/tmp/**',
      'data/**/raw',
      'file?.bin',
      '[ab]x.txt',
      '\\#hash',
      'trailing   ',
    ].join('\n'),
  );

  it.each([
    ['app.log', false, true],
    ['deep/dir/app.log', false, true],
    ['keep.log', false, false],
    ['deep/keep.log', false, false],
    ['build', true, true],
    ['src/build', true, true],
    // "build/" matches folders only
    ['build', false, false],
    ['rooted.txt', false, true],
    ['sub/rooted.txt', false, false],
    ['docs/readme.md', false, true],
    // a slash in the middle anchors: only docs/ at the top
    ['x/docs/readme.md', false, false],
    ['docs/sub/readme.md', false, false],
    ['cache', false, true],
    ['cache', true, true],
    ['a/cache', true, true],
    ['a/tmp/x', false, true],
    ['tmp/x/y', false, true],
    ['data/raw', true, true],
    ['data/2024/01/raw', true, true],
    ['other/data/raw', true, false],
    ['file1.bin', false, true],
    ['file10.bin', false, false],
    ['ax.txt', false, true],
    ['cx.txt', false, false],
    ['#hash', false, true],
    ['trailing', false, true],
    ['main.py', false, false],
  ])('matches(%j, dir=%j) is %j', (path, isDir, expected) => {
    expect(m.matches(path, isDir)).toBe(expected);
  });

  it('ignores everything inside an ignored folder, and a negation cannot bring it back', () => {
    const n = IgnoreMatcher.parse('build/\n!build/keep.txt\n');
    expect(n.ignores('build/keep.txt', false)).toBe(true);
    expect(n.ignores('src/main.py', false)).toBe(false);
  });

  it('the last matching line wins', () => {
    const n = IgnoreMatcher.parse('*.txt\n!important.txt\nimportant.txt\n');
    expect(n.matches('important.txt', false)).toBe(true);
    expect(n.matches('other.txt', false)).toBe(true);
  });

  it('always leaves out .git, .env, node_modules and __pycache__, at any depth', () => {
    const n = IgnoreMatcher.parse('!.env\n');
    for (const p of ['.git/config', '.env', 'sub/.env', 'web/node_modules/x/index.js', 'pkg/__pycache__/m.pyc']) expect(n.ignores(p, false)).toBe(true);
    expect(n.ignores('.env.example', false)).toBe(false);
  });
});

describe('buildProjectZip', () => {
  const files = {
    'pipeline.yaml': 'name: p\n',
    'src/main.py': 'print(1)\n',
    'src/lib/util.py': 'X = 1\n',
    'src/__pycache__/util.cpython-311.pyc': 'bytecode',
    'node_modules/dep/index.js': 'x',
    '.git/HEAD': 'ref',
    '.env': 'SECRET=1',
    'sub/.env': 'SECRET=2',
    'logs/run.log': 'log',
    'debug.log': 'log',
    'keep.log': 'kept',
    'data/big.bin': 'big',
    'data/small.csv': 'a,b',
    '.titanignore': '# outputs\n*.log\n!keep.log\ndata/*.bin\n/logs/\n',
  };

  it('leaves out ignored and always-excluded files, and lists the rest sorted', () => {
    const zip = buildProjectZip(folder(files));
    expect(zip.files).toEqual(['.titanignore', 'data/small.csv', 'keep.log', 'pipeline.yaml', 'src/lib/util.py', 'src/main.py']);
    const unpacked = unzipSync(zip.content);
    expect(Object.keys(unpacked)).toEqual(zip.files);
    expect(strFromU8(unpacked['src/main.py'] as Uint8Array)).toBe('print(1)\n');
    expect(zip.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives identical bytes for the same files, whatever their times, modes or creation order', () => {
    const a = folder(files);
    const reversed = Object.fromEntries(Object.entries(files).reverse());
    const b = folder(reversed);
    utimesSync(join(b, 'src/main.py'), new Date('2001-02-03'), new Date('2001-02-03'));
    chmodSync(join(b, 'src/main.py'), 0o755);
    const first = buildProjectZip(a);
    expect(buildProjectZip(a).content.equals(first.content)).toBe(true);
    const other = buildProjectZip(b);
    expect(other.content.equals(first.content)).toBe(true);
    expect(other.sha256).toBe(first.sha256);
  });

  it('changes when a file changes', () => {
    const a = buildProjectZip(folder(files));
    const b = buildProjectZip(folder({ ...files, 'src/main.py': 'print(2)\n' }));
    expect(b.sha256).not.toBe(a.sha256);
  });

  it('stores a linked file as its content and skips links to folders', () => {
    const dir = folder({ 'real/x.py': 'x', 'main.py': 'm' });
    symlinkSync(join(dir, 'real/x.py'), join(dir, 'link.py'));
    symlinkSync(join(dir, 'real'), join(dir, 'loop'));
    symlinkSync(join(dir, 'missing'), join(dir, 'dangling'));
    const zip = buildProjectZip(dir);
    expect(zip.files).toEqual(['link.py', 'main.py', 'real/x.py']);
  });

  it('refuses a link to a file outside the project, unless .titanignore leaves it out', () => {
    const outside = folder({ 'id_rsa': 'secret key' });
    const dir = folder({ 'main.py': 'm' });
    symlinkSync(join(outside, 'id_rsa'), join(dir, 'key'));
    expect(() => buildProjectZip(dir)).toThrow(ProjectZipError);
    expect(() => buildProjectZip(dir)).toThrow(/key is a link to .*id_rsa, outside the project folder .*leave the link out with \.titanignore/);
    writeFileSync(join(dir, '.titanignore'), 'key\n');
    expect(buildProjectZip(dir).files).toEqual(['.titanignore', 'main.py']);
  });

  it('refuses a folder over its file or byte limit, saying how to fix it', () => {
    const dir = folder({ 'a.txt': 'aaaa', 'b.txt': 'bbbb', 'c.txt': 'cccc' });
    expect(() => listProjectFiles(dir, { maxFiles: 2 })).toThrow(ProjectZipError);
    expect(() => listProjectFiles(dir, { maxFiles: 2 })).toThrow(/more than 2 files; leave out what the jobs do not need with \.titanignore/);
    expect(() => buildProjectZip(dir, { maxBytes: 10 })).toThrow(/more than 10 bytes \(reached at c\.txt\)/);
    expect(buildProjectZip(dir, { maxFiles: 3, maxBytes: 12 }).files).toHaveLength(3);
  });
});
