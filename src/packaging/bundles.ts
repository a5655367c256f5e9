/**
 * `titan package`: the master and worker bundles of a multi-VM deployment, built from a checkout
 * after `npm run build`. Each zip unpacks to one folder laid out like the checkout (bin/, dist/,
 * node_modules/), so the compiled code finds its dashboard, SDKs, helper processes and the Redis
 * store's Lua scripts the same way, plus the start/stop scripts, a README and systemd units from
 * `packaging/`. Only what the programs import is copied (and the Lua scripts, which they read):
 * the worker bundle is pure JavaScript (no native module), the master bundle carries the SQLite
 * module compiled for this machine's Node, recorded in bundle.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync, type Zippable } from 'fflate';
import { FIXED_MTIME } from '../cli/project-zip.js';
import { VERSION } from '../core/version.js';
import { type InstalledPackage, packageClosure } from './npm-closure.js';
import { PackagingError } from './packaging-error.js';
import { traceModules } from './trace.js';

export type BundleKind = 'master' | 'worker';

export interface BuiltBundle {
  kind: BundleKind;
  path: string;
  bytes: number;
  files: number;
  /** Of the zip, also written beside it as `<zip>.sha256` (the `sha256sum -c` format). */
  sha256: string;
  /** Dynamic imports left out of this bundle (commands it does not offer). */
  dropped: string[];
}

export { PackagingError };

interface BundleSpec {
  /** Folders of compiled code loaded on demand by commands this bundle does not offer. */
  leaveOut: string[];
  /** Files from `packaging/`, by their name in the bundle. */
  templates: Record<string, string>;
  /** Whole folders of the checkout copied as they are, with a filter. */
  folders: { from: string; keep: (path: string) => boolean }[];
  nativeAllowed: boolean;
}

const SPECS: Record<BundleKind, BundleSpec> = {
  master: {
    leaveOut: ['dist/src/packaging'],
    templates: {
      'start_master.sh': 'start_master.sh',
      'stop_master.sh': 'stop_master.sh',
      'lib/common.sh': 'common.sh',
      'README.md': 'README-master.md',
      'systemd/titan-master.service': 'titan-master.service',
    },
    folders: [
      { from: 'dist/web', keep: (p) => !p.endsWith('.map') },
      // Read by the Redis store at run time, not imported, so the trace does not see them.
      { from: 'dist/src/store/redis-lua', keep: (p) => p.endsWith('.lua') },
    ],
    nativeAllowed: true,
  },
  worker: {
    leaveOut: ['dist/src/packaging', 'dist/src/server', 'dist/src/master', 'dist/src/store', 'dist/src/mcp'],
    templates: {
      'start_worker.sh': 'start_worker.sh',
      'stop_worker.sh': 'stop_worker.sh',
      'lib/common.sh': 'common.sh',
      'README.md': 'README-worker.md',
      'systemd/titan-worker@.service': 'titan-worker@.service',
    },
    folders: [{ from: 'python', keep: (p) => /^(titan_sdk\/[^/]+\.py|build_backend\/[^/]+\.py|pyproject\.toml)$/.test(p) }],
    nativeAllowed: false,
  },
};

const EXECUTABLE = /(^bin\/titan\.js|\.sh)$/;
const LEGAL = /^(licen[cs]e|notice|copying)/i;

/** Files of an installed package that are needed at run time. */
function keepPackageFile(pkg: InstalledPackage, path: string): boolean {
  const name = path.split('/').pop() ?? path;
  if (LEGAL.test(name)) return true;
  // better-sqlite3 ships its C sources and build objects; it runs from lib/ and the addon.
  if (pkg.name === 'better-sqlite3') return path === 'package.json' || path.startsWith('lib/') || path === 'build/Release/better_sqlite3.node';
  return !/(\.map|\.d\.[cm]?ts|\.ts|\.md|\.tsbuildinfo)$/.test(name);
}

function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== '.bin' && entry.name !== '__pycache__') out.push(...walk(join(dir, entry.name), path));
    } else if (entry.isFile()) {
      out.push(path);
    }
  }
  return out;
}

/** The checkout this code was built from: dist/src/packaging → the folder with package.json. */
export function checkoutRoot(moduleUrl: string = import.meta.url): string {
  return fileURLToPath(new URL('../../../', moduleUrl));
}

function buildBundle(root: string, kind: BundleKind, outDir: string): BuiltBundle {
  const spec = SPECS[kind];
  const top = `titan-${kind}-bundle`;
  const entries: Zippable = {};
  const add = (path: string, data: Uint8Array): void => {
    entries[`${top}/${path}`] = [data, { mtime: FIXED_MTIME, os: 3, attrs: ((EXECUTABLE.test(path) ? 0o100755 : 0o100644) << 16) >>> 0 }];
  };
  const addFile = (path: string, from: string): void => add(path, readFileSync(from));

  const trace = traceModules(['bin/titan.js'], { root, onDemand: spec.leaveOut });
  for (const file of trace.files) addFile(relative(root, file).split(sep).join('/'), file);

  for (const pkg of packageClosure(root, trace.packages)) {
    for (const path of walk(pkg.dir)) {
      if (!keepPackageFile(pkg, path)) continue;
      if (path.endsWith('.node') && !spec.nativeAllowed) throw new PackagingError(`${pkg.name} has a native module (${path}); the ${kind} bundle must have none`);
      addFile(`${pkg.path.split(sep).join('/')}/${path}`, join(pkg.dir, path));
    }
  }

  for (const folder of spec.folders) {
    const dir = join(root, folder.from);
    if (!existsSync(dir)) throw new PackagingError(`${folder.from} is missing: run npm run build first`);
    for (const path of walk(dir)) if (folder.keep(path)) addFile(`${folder.from}/${path}`, join(dir, path));
  }

  for (const [name, template] of Object.entries(spec.templates)) {
    const from = join(root, 'packaging', template);
    if (!existsSync(from)) throw new PackagingError(`packaging/${template} is missing: titan package runs in a Titan checkout`);
    addFile(name, from);
  }

  const json = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
  add('package.json', json({ name: 'titan-ts', version: VERSION, private: true, type: 'module', bin: { titan: 'bin/titan.js' }, engines: { node: '>=20' } }));
  add(
    'bundle.json',
    json({
      kind,
      version: VERSION,
      node: { version: process.versions.node, major: Number(process.versions.node.split('.')[0]), modules: process.versions.modules, platform: process.platform, arch: process.arch },
    }),
  );

  const zip = zipSync(entries, { level: 6, mtime: FIXED_MTIME });
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${top}.zip`);
  writeFileSync(path, zip);
  const sha256 = createHash('sha256').update(zip).digest('hex');
  writeFileSync(`${path}.sha256`, `${sha256}  ${top}.zip\n`);
  return { kind, path, bytes: statSync(path).size, files: Object.keys(entries).length, sha256, dropped: trace.dropped };
}

/** Builds both bundles into `outDir` (default: the checkout's dist/). */
export function buildBundles(options: { root?: string; outDir?: string } = {}): BuiltBundle[] {
  const root = resolve(options.root ?? checkoutRoot());
  if (!existsSync(join(root, 'packaging'))) throw new PackagingError(`${root} is not a Titan checkout (no packaging/ folder): titan package builds bundles from a checkout`);
  const outDir = resolve(options.outDir ?? join(root, 'dist'));
  return (['master', 'worker'] as const).map((kind) => buildBundle(root, kind, outDir));
}
