/**
 * The installed npm packages a set of packages needs at run time: their `dependencies` and
 * installed `optionalDependencies`, resolved the way Node resolves them (the nearest
 * `node_modules` upwards), minus dependencies only used while installing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { PackagingError } from './packaging-error.js';

const Manifest = z.object({
  name: z.string(),
  dependencies: z.record(z.string(), z.string()).optional(),
  optionalDependencies: z.record(z.string(), z.string()).optional(),
});

/** Dependencies that only an install script uses (better-sqlite3 downloads or builds with it). */
const INSTALL_ONLY: Readonly<Record<string, readonly string[]>> = { 'better-sqlite3': ['prebuild-install'] };

export interface InstalledPackage {
  name: string;
  /** Absolute folder. */
  dir: string;
  /** The folder relative to the root, e.g. `node_modules/a/node_modules/b`. */
  path: string;
}

export class ClosureError extends PackagingError {}

function findInstalled(name: string, from: string, root: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return null;
  }
}

export function packageClosure(root: string, names: readonly string[]): InstalledPackage[] {
  const top = resolve(root);
  const found = new Map<string, InstalledPackage>();
  const visit = (name: string, from: string, optional: boolean, needer: string): void => {
    const dir = findInstalled(name, from, top);
    if (dir === null) {
      if (optional) return;
      throw new ClosureError(`${name} (needed by ${needer}) is not installed: run npm ci first`);
    }
    if (found.has(dir)) return;
    let manifest: z.infer<typeof Manifest>;
    try {
      manifest = Manifest.parse(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')));
    } catch (err) {
      throw new ClosureError(`${relative(top, dir)}/package.json cannot be read (${(err as Error).message.split('\n')[0]}): run npm ci again`);
    }
    found.set(dir, { name, dir, path: relative(top, dir) });
    const skip = INSTALL_ONLY[manifest.name] ?? [];
    for (const dep of Object.keys(manifest.dependencies ?? {})) if (!skip.includes(dep)) visit(dep, dir, false, manifest.name);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, true, manifest.name);
  };
  for (const name of names) visit(name, top, false, 'titan');
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path));
}
