/**
 * Which compiled files and npm packages a program needs: follows the import statements of the
 * compiled JavaScript (static, dynamic, and `new URL('./x.js', import.meta.url)` for files that
 * are started as processes) from its entry files. `onDemand` lists folders whose code commands
 * load when they run (dynamic imports): a bundle that does not offer those commands drops such
 * imports. Static imports are always followed: without them the program could not start.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import { PackagingError } from './packaging-error.js';

export interface Trace {
  /** Absolute paths of the JavaScript files reached. */
  files: string[];
  /** npm package names imported by those files. */
  packages: string[];
  /** Dynamic imports dropped because their target is in an `onDemand` folder, as `from → to` (relative to the root). */
  dropped: string[];
}

export class TraceError extends PackagingError {}

const STATIC = /(?:^|[\s;}])(?:import|export)\s+(?:[\w*${}\s,]+?\s+from\s+)?['"]([^'"\n]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;
const STARTED = /\bnew URL\(\s*['"](\.{1,2}\/[^'"\n]+\.js)['"]\s*,\s*import\.meta\.url\s*\)/g;

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

export function traceModules(entries: readonly string[], options: { root: string; onDemand?: readonly string[] }): Trace {
  const onDemand = (options.onDemand ?? []).map((d) => resolve(options.root, d) + sep);
  const isOnDemand = (file: string): boolean => onDemand.some((d) => file.startsWith(d));
  const rel = (file: string): string => relative(options.root, file);
  const files = new Set<string>();
  const packages = new Set<string>();
  const dropped: string[] = [];
  const queue = entries.map((e) => resolve(options.root, e));

  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (files.has(file)) continue;
    if (!existsSync(file) || !statSync(file).isFile()) throw new TraceError(`${rel(file)} is missing: run npm run build first`);
    files.add(file);
    const text = readFileSync(file, 'utf8');
    const found: { spec: string; dynamic: boolean; probed?: true }[] = [
      ...[...text.matchAll(STATIC)].map((m) => ({ spec: m[1] ?? '', dynamic: false })),
      ...[...text.matchAll(DYNAMIC)].map((m) => ({ spec: m[1] ?? '', dynamic: true })),
      // Started files are probed with existsSync before use (a source checkout has others).
      ...[...text.matchAll(STARTED)].map((m) => ({ spec: m[1] ?? '', dynamic: true, probed: true as const })),
    ];
    for (const { spec, dynamic, probed } of found) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (probed && !existsSync(target)) continue;
        if (dynamic && isOnDemand(target)) {
          dropped.push(`${rel(file)} → ${rel(target)}`);
          continue;
        }
        queue.push(target);
      } else if (!isBuiltin(spec)) {
        packages.add(packageName(spec));
      }
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort(), dropped: [...new Set(dropped)].sort() };
}
