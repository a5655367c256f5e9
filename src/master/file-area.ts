/**
 * A flat folder of named files on the master: Titan's `uploads/` (assets, project zips,
 * published files) and its script registry (`perm_files/`). Names are bare file names, checked
 * before they touch the disk; a write replaces the file atomically, as Titan's overwrite does.
 */
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ScriptRefSchema } from '../core/model.js';
import { TitanError } from '../core/errors.js';
import { makePrivateDir, replaceFile } from './disk-writes.js';

const NameSchema = ScriptRefSchema.shape.name;

export class FileArea {
  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {
    makePrivateDir(dir);
  }

  static valid(name: string): boolean {
    return NameSchema.safeParse(name).success;
  }

  /** Throws BAD_REQUEST unless `name` is a bare file name. */
  static check(name: string): string {
    const parsed = NameSchema.safeParse(name);
    if (!parsed.success) throw new TitanError('BAD_REQUEST', `invalid file name "${name.slice(0, 80)}": ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  put(name: string, data: Buffer): void {
    const path = join(this.dir, FileArea.check(name));
    if (data.length > this.maxBytes) throw new TitanError('BAD_REQUEST', `${name} is ${data.length} bytes; the limit is ${this.maxBytes}`);
    replaceFile(path, data, this.dir);
  }

  /** The file's content, or null when there is none of that name. */
  get(name: string): Buffer | null {
    const path = join(this.dir, FileArea.check(name));
    try {
      return readFileSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Up to `length` bytes from `offset`, and the file's size; null when there is no file of that name. Only the chunk is read. */
  read(name: string, offset: number, length: number): { data: Buffer; size: number } | null {
    const path = join(this.dir, FileArea.check(name));
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const size = fstatSync(fd).size;
      const data = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      const got = data.length > 0 ? readSync(fd, data, 0, data.length, offset) : 0;
      return { data: data.subarray(0, got), size };
    } finally {
      closeSync(fd);
    }
  }

  list(): { name: string; size: number; modifiedAt: number }[] {
    return readdirSync(this.dir)
      .filter((n) => !n.endsWith('.tmp'))
      .map((name) => {
        const st = statSync(join(this.dir, name));
        return { name, size: st.size, modifiedAt: st.mtimeMs };
      })
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}
