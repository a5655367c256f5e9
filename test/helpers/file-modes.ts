/** Walks a directory tree for what is not private: every folder must be 0700 and every file 0600. */
import { lstatSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** `<path> <mode>` of each folder not 0700 and file not 0600 below `root` (links are not followed). */
export function notPrivate(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const mode = lstatSync(path).mode & 0o7777;
      if (entry.isDirectory()) {
        if (mode !== 0o700) out.push(`${relative(root, path)}/ ${mode.toString(8)}`);
        visit(path);
      } else if (entry.isFile() && mode !== 0o600) {
        out.push(`${relative(root, path)} ${mode.toString(8)}`);
      }
    }
  };
  visit(root);
  return out;
}
