// Build step: copies the Lua scripts under src/ beside their compiled modules in dist/src/ (tsc
// copies only TypeScript output), replacing the ones a previous build left.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const from = join(root, 'src');
const to = join(root, 'dist', 'src');

function luaFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return luaFiles(path);
    return entry.isFile() && entry.name.endsWith('.lua') ? [path] : [];
  });
}

for (const stale of luaFiles(to)) rmSync(stale);
const copied = luaFiles(from);
for (const file of copied) {
  const target = join(to, relative(from, file));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(file, target);
}
console.log(`copied ${copied.length} Lua files to ${relative(root, to)}`);
