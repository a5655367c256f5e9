/**
 * Project mode: a pipeline's folder as one deterministic zip. Entries are sorted and carry a
 * fixed timestamp and no file modes, so the same files always give the same bytes and the same
 * sha256, and a folder submitted twice is uploaded once. `.titanignore` in the folder leaves
 * files out (gitignore-style lines); `.git`, `.env`, `node_modules` and `__pycache__` are always
 * left out, wherever they are. Symbolic links to files are stored as the file they point to;
 * links to folders, and anything that is not a regular file, are skipped.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { LIMITS } from '../core/model.js';

export const IGNORE_FILE = '.titanignore';

/** Names never put in a project zip, at any depth: secrets, version control, caches. */
export const ALWAYS_EXCLUDED: readonly string[] = ['.git', '.env', 'node_modules', '__pycache__'];

export interface ProjectZipLimits {
  /** Files at most; default 10,000 (what a worker unpacks at most). */
  maxFiles?: number;
  /** Bytes at most, all files together before compression; default 256 MiB (what a worker unpacks at most). */
  maxBytes?: number;
}

export interface ProjectZip {
  content: Buffer;
  sha256: string;
  /** The files inside, as sorted relative paths with `/` separators. */
  files: string[];
  /** Their total size before compression. */
  bytes: number;
}

/** A folder that cannot be zipped: too big, too many files, unreadable, or a bad `.titanignore`. */
export class ProjectZipError extends Error {}

/**
 * The fixed time of every entry: noon on 1 January 1980 (the zip format's epoch), built from
 * local components because zip stores local time; noon keeps clear of any midnight time change.
 */
export const FIXED_MTIME = new Date(1980, 0, 1, 12, 0, 0);
/** Every entry a regular file with mode 0644 (Unix attributes), whatever its mode on disk. */
const FILE_ATTRS = (0o100644 << 16) >>> 0;

interface Rule {
  negate: boolean;
  dirOnly: boolean;
  regex: RegExp;
}

/** Decides which relative paths (with `/` separators) a `.titanignore` leaves out. */
export class IgnoreMatcher {
  private constructor(private readonly rules: readonly Rule[]) {}

  /** Parses gitignore-style lines: `#` comments, blank lines, `dir/`, globs, `/rooted`, `!negation`, `**`. */
  static parse(text: string): IgnoreMatcher {
    const rules: Rule[] = [];
    for (const raw of text.split(/\r?\n/)) {
      // Trailing spaces are dropped unless escaped with a backslash.
      let line = raw.replace(/(?<!\\)\s+$/, '');
      if (line === '' || line.startsWith('#')) continue;
      let negate = false;
      if (line.startsWith('!')) {
        negate = true;
        line = line.slice(1);
      } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
        line = line.slice(1);
      }
      let dirOnly = false;
      if (line.endsWith('/') && !line.endsWith('\\/')) {
        dirOnly = true;
        line = line.replace(/\/+$/, '');
      }
      if (line === '') continue;
      // A slash at the start or in the middle anchors the pattern to the folder; otherwise it matches at any depth.
      const anchored = line.includes('/');
      if (line.startsWith('/')) line = line.slice(1);
      rules.push({ negate, dirOnly, regex: new RegExp(`^${anchored ? '' : '(?:.*/)?'}${globToRegex(line)}$`, 's') });
    }
    return new IgnoreMatcher(rules);
  }

  /** The matcher of `folder`'s `.titanignore`, or one that ignores nothing. */
  static forFolder(folder: string): IgnoreMatcher {
    let text: string;
    try {
      text = readFileSync(join(folder, IGNORE_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new IgnoreMatcher([]);
      throw new ProjectZipError(`cannot read ${join(folder, IGNORE_FILE)}: ${(err as Error).message}`);
    }
    return IgnoreMatcher.parse(text);
  }

  /**
   * Whether this entry itself matches (the last matching line decides), ignoring its parents.
   * Walking a tree, call it for each entry and skip the contents of an ignored folder.
   */
  matches(path: string, isDir: boolean): boolean {
    let ignored = false;
    for (const rule of this.rules) {
      if (rule.negate !== ignored) continue;
      if (rule.dirOnly && !isDir) continue;
      if (rule.regex.test(path)) ignored = !rule.negate;
    }
    return ignored;
  }

  /**
   * Whether `path` is left out, its parent folders included: as with git, a file inside an
   * ignored folder cannot be brought back by a negation. Always-excluded names count too.
   */
  ignores(path: string, isDir: boolean): boolean {
    const segments = path.split('/');
    for (let i = 1; i <= segments.length; i++) {
      const last = i === segments.length;
      if (ALWAYS_EXCLUDED.includes(segments[i - 1] as string)) return true;
      if (this.matches(segments.slice(0, i).join('/'), last ? isDir : true)) return true;
    }
    return false;
  }
}

/** A gitignore glob as a regular expression source: `*` and `?` stop at `/`, `**` crosses folders. */
function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*' && (i === 0 || glob[i - 1] === '/') && (i + 2 === glob.length || glob[i + 2] === '/')) {
      // `**/` any folders (or none); a final `/**` everything inside.
      if (i + 2 === glob.length) out += '.*';
      else out += '(?:.*/)?';
      i += 2;
    } else if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[i + 1] as string);
      i++;
    } else {
      out += escapeRegex(c);
    }
  }
  return out;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * The files of `folder` that go into its project zip, as sorted relative paths: everything but
 * what `.titanignore` and the always-excluded names leave out.
 */
export function listProjectFiles(folder: string, limits: ProjectZipLimits = {}): { path: string; abs: string; size: number }[] {
  const maxFiles = limits.maxFiles ?? 10_000;
  const maxBytes = limits.maxBytes ?? LIMITS.maxBlobBytes;
  const matcher = IgnoreMatcher.forFolder(folder);
  const root = realpathSync(folder);
  const files: { path: string; abs: string; size: number }[] = [];
  let bytes = 0;
  const walk = (dir: string, prefix: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      throw new ProjectZipError(`cannot read the folder ${dir}: ${(err as Error).message}`);
    }
    // Code-unit order: the same on every machine, whatever its locale.
    for (const name of names.sort()) {
      if (ALWAYS_EXCLUDED.includes(name)) continue;
      const abs = join(dir, name);
      const path = prefix + name;
      let info = lstatSync(abs);
      if (info.isSymbolicLink()) {
        const target = statSync(abs, { throwIfNoEntry: false });
        // A link to a folder could loop; a dangling link has nothing to store.
        if (!target?.isFile()) continue;
        if (matcher.matches(path, false)) continue;
        // What a link outside the project points at (a key, a password file) must not be uploaded by accident.
        const real = realpathSync(abs);
        if (relative(root, real).startsWith('..') || isAbsolute(relative(root, real))) {
          throw new ProjectZipError(`${path} is a link to ${real}, outside the project folder ${folder}; copy the file in, or leave the link out with ${IGNORE_FILE}`);
        }
        info = target;
      }
      if (info.isDirectory()) {
        if (!matcher.matches(path, true)) walk(abs, `${path}/`);
        continue;
      }
      if (!info.isFile() || matcher.matches(path, false)) continue;
      files.push({ path, abs, size: info.size });
      bytes += info.size;
      if (files.length > maxFiles) {
        throw new ProjectZipError(`the project folder ${folder} has more than ${maxFiles} files; leave out what the jobs do not need with ${IGNORE_FILE} (gitignore-style lines such as "data/" or "*.log")`);
      }
      if (bytes > maxBytes) {
        throw new ProjectZipError(`the project folder ${folder} holds more than ${maxBytes} bytes (reached at ${path}); leave out large files with ${IGNORE_FILE} and pass data through artifacts instead`);
      }
    }
  };
  walk(folder, '');
  return files;
}

/** Zips `folder` deterministically: the same files give the same bytes and the same sha256. */
export function buildProjectZip(folder: string, limits: ProjectZipLimits = {}): ProjectZip {
  const files = listProjectFiles(folder, limits);
  const entries: Zippable = {};
  let bytes = 0;
  for (const file of files) {
    let data: Buffer;
    try {
      data = readFileSync(file.abs);
    } catch (err) {
      throw new ProjectZipError(`cannot read ${file.abs}: ${(err as Error).message}`);
    }
    bytes += data.length;
    entries[file.path] = [data, { mtime: FIXED_MTIME, os: 3, attrs: FILE_ATTRS }];
  }
  const content = Buffer.from(zipSync(entries, { level: 6, mtime: FIXED_MTIME }));
  if (content.length > LIMITS.maxBlobBytes) throw new ProjectZipError(`the project zip of ${folder} is ${content.length} bytes; the master takes at most ${LIMITS.maxBlobBytes}`);
  return { content, sha256: createHash('sha256').update(content).digest('hex'), files: files.map((f) => f.path), bytes };
}
