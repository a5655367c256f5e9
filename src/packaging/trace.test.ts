import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClosureError, packageClosure } from './npm-closure.js';
import { packageName, TraceError, traceModules } from './trace.js';

let root = '';
const write = (path: string, text: string): void => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
};
const pkg = (path: string, manifest: object): void => write(`${path}/package.json`, JSON.stringify(manifest));

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('traceModules', () => {
  it('follows static, dynamic and started-file imports, and drops dynamic imports of on-demand folders', () => {
    root = mkdtempSync(join(tmpdir(), 'titan-trace-'));
    write('bin/main.js', "import '../lib/a.js';\n");
    write('lib/a.js', "import { x } from './b.js';\nexport * from './c.js';\nimport fs from 'node:fs';\nimport { z } from 'zod/v4';\nconst s = await import('../server/start.js');\nconst l = await import('./lazy.js');\n");
    write('lib/b.js', "import type_only_is_erased from '@scope/pkg/sub';\nconst child = new URL('./child.js', import.meta.url);\nconst other = new URL('./not-built.js', import.meta.url);\nexport const x = 1;\n");
    write('lib/c.js', "import 'path';\nexport const c = 1;\n");
    write('lib/lazy.js', 'export const lazy = 1;\n');
    write('lib/child.js', "import 'yaml';\n");
    write('server/start.js', "import 'better-sqlite3';\n");

    const t = traceModules(['bin/main.js'], { root, onDemand: ['server'] });
    expect(t.files.map((f) => f.slice(root.length + 1))).toEqual(['bin/main.js', 'lib/a.js', 'lib/b.js', 'lib/c.js', 'lib/child.js', 'lib/lazy.js']);
    expect(t.packages).toEqual(['@scope/pkg', 'yaml', 'zod']);
    expect(t.dropped).toEqual(['lib/a.js → server/start.js']);

    const all = traceModules(['bin/main.js'], { root });
    expect(all.packages).toContain('better-sqlite3');
  });

  it('names a missing file', () => {
    root = mkdtempSync(join(tmpdir(), 'titan-trace-'));
    write('main.js', "import './gone.js';\n");
    expect(() => traceModules(['main.js'], { root })).toThrow(TraceError);
    expect(() => traceModules(['main.js'], { root })).toThrow(/gone\.js is missing/);
  });

  it('reduces specifiers to package names', () => {
    expect(packageName('@fastify/static')).toBe('@fastify/static');
    expect(packageName('@modelcontextprotocol/sdk/server/mcp.js')).toBe('@modelcontextprotocol/sdk');
    expect(packageName('zod/v4')).toBe('zod');
  });
});

describe('packageClosure', () => {
  it('resolves dependencies the way Node does, keeps installed optional ones and drops install-only ones', () => {
    root = mkdtempSync(join(tmpdir(), 'titan-closure-'));
    pkg('node_modules/a', { name: 'a', dependencies: { b: '1', c: '1' }, optionalDependencies: { missing: '1', d: '1' } });
    pkg('node_modules/a/node_modules/b', { name: 'b', dependencies: { c: '1' } });
    pkg('node_modules/b', { name: 'b', dependencies: {} });
    pkg('node_modules/c', { name: 'c' });
    pkg('node_modules/d', { name: 'd' });
    pkg('node_modules/better-sqlite3', { name: 'better-sqlite3', dependencies: { bindings: '1', 'prebuild-install': '7' } });
    pkg('node_modules/bindings', { name: 'bindings' });
    pkg('node_modules/prebuild-install', { name: 'prebuild-install' });

    const closure = packageClosure(root, ['a', 'better-sqlite3']);
    expect(closure.map((p) => p.path)).toEqual(['node_modules/a', 'node_modules/a/node_modules/b', 'node_modules/better-sqlite3', 'node_modules/bindings', 'node_modules/c', 'node_modules/d']);
  });

  it('names a dependency that is not installed, and who needs it', () => {
    root = mkdtempSync(join(tmpdir(), 'titan-closure-'));
    pkg('node_modules/a', { name: 'a', dependencies: { ghost: '1' } });
    expect(() => packageClosure(root, ['a'])).toThrow(ClosureError);
    expect(() => packageClosure(root, ['a'])).toThrow(/ghost \(needed by a\) is not installed/);
  });
});
