/**
 * `--pid-file`: a long-running command records its own pid once it is up, so the bundles' stop
 * scripts end exactly this process and never one found by name. The file holds the pid and is
 * removed on exit, unless another process has written its own pid there since.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function writePidFile(path: string): void {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  // Whole or not at all: a stop script reading it meanwhile never sees an empty file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${process.pid}\n`);
  renameSync(tmp, file);
  process.on('exit', () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file);
    } catch {
      // Already gone: nothing to clean.
    }
  });
}
