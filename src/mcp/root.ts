/**
 * The one folder `titan mcp` may read from: `--root`. A pipeline submitted as YAML text names its
 * scripts with `file:`; each must resolve, after following symlinks, to a regular file inside the
 * root, or the submission is refused. Nothing here (or anywhere in the MCP server) writes a file.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { LIMITS } from '../core/model.js';
import { TitanError } from '../core/errors.js';

export class RootFolder {
  private constructor(
    /** The root as given, resolved to an absolute path. */
    readonly path: string,
    /** The same folder with symlinks followed: what containment is checked against. */
    private readonly real: string,
  ) {}

  /** Resolves the root; it must be an existing folder. */
  static async open(dir: string): Promise<RootFolder> {
    const path = resolve(dir);
    let real: string;
    try {
      real = await realpath(path);
    } catch (err) {
      throw new TitanError('BAD_REQUEST', `--root ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (err as Error).message}`);
    }
    if (!(await stat(real)).isDirectory()) throw new TitanError('BAD_REQUEST', `--root ${dir}: not a folder`);
    return new RootFolder(path, real);
  }

  /**
   * `target` (relative to the root, or absolute) as an absolute path, if it lies inside the root
   * by its text alone; null when it climbs out. Symlinks are checked when the file is read.
   */
  inside(target: string): string | null {
    const abs = resolve(this.path, target);
    return within(this.path, abs) || within(this.real, abs) ? abs : null;
  }

  /**
   * Reads a script the pipeline names: refused unless it is a regular file whose real location
   * (symlinks followed) is inside the root, and no larger than a script may be.
   */
  async readScript(absPath: string, shown: string): Promise<{ name: string; content: Buffer }> {
    if (this.inside(absPath) === null) throw outside(shown, this.path);
    let real: string;
    try {
      real = await realpath(absPath);
    } catch (err) {
      throw new TitanError('BAD_REQUEST', `cannot read ${shown}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file under the root folder' : (err as Error).message}`);
    }
    if (!within(this.real, real)) throw outside(shown, this.path, ' (through a symbolic link)');
    const info = await stat(real);
    if (!info.isFile()) throw new TitanError('BAD_REQUEST', `cannot read ${shown}: not a regular file`);
    if (info.size > LIMITS.maxScriptBytes) throw new TitanError('BAD_REQUEST', `${shown} is ${info.size} bytes; a script is at most ${LIMITS.maxScriptBytes}`);
    return { name: basename(absPath), content: await readFile(real) };
  }
}

function within(root: string, abs: string): boolean {
  const rel = relative(root, abs);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

const outside = (shown: string, root: string, how = ''): TitanError =>
  new TitanError('FORBIDDEN', `${shown} is outside the root folder ${root}${how}; titan mcp reads only files under --root`);
