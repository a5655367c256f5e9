/** What the numbers were measured on: printed in the header of every report. */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

export interface Machine {
  nproc: string;
  cpuModel: string;
  memory: string;
  node: string;
  python: string;
  bash: string;
  /** Set when the bench put the real interpreter's directory first in PATH (see bench/README.md). */
  pythonNote: string | null;
}

function run(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * `python3` on PATH may be a wrapper (a pyenv shim is a bash script that execs `pyenv exec`,
 * which costs ~70 ms per start here). Titan's worker and the direct baselines would both pay it,
 * which only dilutes the orchestration overhead being measured; so the real interpreter's
 * directory goes first in PATH for this process and everything it starts.
 */
export function preferRealPython(): string | null {
  const onPath = which('python3');
  if (!onPath) return null;
  const real = run('python3', ['-c', 'import sys; print(sys.executable)']);
  if (!real) return null;
  let resolvedOnPath: string;
  try {
    resolvedOnPath = realpathSync(onPath);
  } catch {
    return null;
  }
  if (resolvedOnPath === realpathSync(real)) return null;
  process.env.PATH = `${dirname(real)}${delimiter}${process.env.PATH ?? ''}`;
  return `python3 on PATH was ${onPath} (a wrapper); using ${real} directly for Titan and baselines alike`;
}

export function describeMachine(pythonNote: string | null): Machine {
  let cpuModel = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch {
    // not Linux
  }
  const python = run('python3', ['-c', 'import sys, platform; print(sys.executable, platform.python_version())']) ?? 'not found';
  const bash = run('bash', ['-c', 'echo $BASH_VERSION']) ?? 'not found';
  return {
    nproc: run('nproc', []) ?? String(availableParallelism()),
    cpuModel,
    memory: `${Math.round(totalmem() / 1024 ** 3)} GiB`,
    node: process.version,
    python,
    bash,
    pythonNote,
  };
}
