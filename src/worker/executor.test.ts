import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAIL_FAST_CODES } from '../core/retry.js';
import { interpreterFor, NoopExecutor, ProcessExecutor, type ExecutionRequest, type ExecutionResult, type RunningAttempt } from './executor.js';
import { isGone, waitUntil } from '../../test/helpers/processes.js';

let dir: string;
/** Process groups the tests started, killed at the end whatever happened. */
const groups = new Set<number>();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'titan-executor-'));
});

afterAll(() => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function script(name: string, text: string, mode = 0o644): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function request(scriptPath: string, extra: Partial<ExecutionRequest> = {}): ExecutionRequest {
  return { key: 'run/job#1', scriptPath, args: [], cwd: dir, env: { ...stringEnv() }, timeoutMs: null, ...extra };
}

function stringEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

function start(executor: ProcessExecutor, req: ExecutionRequest): { attempt: RunningAttempt; output: () => string } {
  let out = '';
  const attempt = executor.start(req, (chunk) => (out += chunk));
  if (attempt.pid !== null) groups.add(attempt.pid);
  return { attempt, output: () => out };
}

async function run(req: ExecutionRequest, executor = new ProcessExecutor()): Promise<{ result: ExecutionResult; output: string; pid: number | null }> {
  const { attempt, output } = start(executor, req);
  const result = await attempt.done;
  return { result, output: output(), pid: attempt.pid };
}


async function waitForFile(path: string, lines: number): Promise<number[]> {
  let pids: number[] = [];
  await waitUntil(() => {
    try {
      pids = readFileSync(path, 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      pids = [];
    }
    return pids.length >= lines;
  }, 10_000);
  return pids;
}

describe('interpreterFor', () => {
  it('chooses by extension and runs unknown files directly', () => {
    expect(interpreterFor('/a/b.py')).toEqual({ command: expect.stringMatching(/^python3?$/), args: ['-u', '/a/b.py'] });
    for (const ext of ['js', 'mjs', 'cjs']) expect(interpreterFor(`/a/b.${ext}`)).toEqual({ command: process.execPath, args: [`/a/b.${ext}`] });
    expect(interpreterFor('/a/b.sh')).toEqual({ command: 'bash', args: ['/a/b.sh'] });
    expect(interpreterFor('/a/tool')).toEqual({ command: '/a/tool', args: [] });
  });
});

describe('ProcessExecutor', () => {
  it('delivers args verbatim', async () => {
    const path = script('argv.py', 'import json, sys\nprint(json.dumps(sys.argv[1:]))\n');
    const args = ['a b', '"double"', "it's", '', '$HOME', '*', '--flag=x y', 'ünï €', '\\n'];
    const { result, output } = await run(request(path, { args }));
    expect(result).toEqual({ outcome: 'COMPLETED', exitCode: 0, error: null, errorCode: null });
    expect(JSON.parse(output)).toEqual(args);
  });

  it('tells each chunk of output with the stream it came from', async () => {
    const path = script('streams.sh', 'echo out-1\nsleep 0.1\necho err-1 >&2\nsleep 0.1\necho out-2\n');
    const chunks: [string, string][] = [];
    const attempt = new ProcessExecutor().start(request(path), (chunk, stream) => chunks.push([stream, chunk]));
    if (attempt.pid !== null) groups.add(attempt.pid);
    await attempt.done;
    expect(chunks).toEqual([
      ['stdout', 'out-1\n'],
      ['stderr', 'err-1\n'],
      ['stdout', 'out-2\n'],
    ]);
  });

  it('delivers exactly the given env and cwd', async () => {
    const path = script('env.js', 'console.log(JSON.stringify({ foo: process.env.FOO, absent: process.env.TITAN_EXECUTOR_TEST_ABSENT ?? null, cwd: process.cwd() }));\n');
    process.env.TITAN_EXECUTOR_TEST_ABSENT = 'leaked';
    try {
      const { result, output } = await run(request(path, { env: { PATH: process.env.PATH ?? '', FOO: 'bar baz=1' } }));
      expect(result.outcome).toBe('COMPLETED');
      expect(JSON.parse(output)).toEqual({ foo: 'bar baz=1', absent: null, cwd: realpathSync(dir) });
    } finally {
      delete process.env.TITAN_EXECUTOR_TEST_ABSENT;
    }
  });

  it('runs bash scripts in the given cwd', async () => {
    const path = script('pwd.sh', 'pwd -P\n');
    const { result, output } = await run(request(path));
    expect(result.outcome).toBe('COMPLETED');
    expect(output.trim()).toBe(realpathSync(dir));
  });

  it('captures stdout and stderr as UTF-8 with multi-byte characters split across chunks intact', async () => {
    // One byte per write with a pause between, so every multi-byte character spans chunks.
    const path = script(
      'utf8.mjs',
      `const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = Buffer.from('héllo €𝄞 wörld\\n');
for (let i = 0; i < out.length; i++) { process.stdout.write(out.subarray(i, i + 1)); await sleep(2); }
const err = Buffer.from('ошибка ✓\\n');
for (let i = 0; i < err.length; i++) { process.stderr.write(err.subarray(i, i + 1)); await sleep(2); }
`,
    );
    const { result, output } = await run(request(path));
    expect(result.outcome).toBe('COMPLETED');
    expect(output).toContain('héllo €𝄞 wörld\n');
    expect(output).toContain('ошибка ✓\n');
    expect(output).not.toContain('\uFFFD');
  });

  it('delivers all output before done resolves', async () => {
    const path = script('big.py', "import sys\nsys.stdout.write('x' * 1000000)\nsys.stderr.write('y' * 100000)\n");
    const { result, output } = await run(request(path));
    expect(result.outcome).toBe('COMPLETED');
    expect(output.length).toBe(1_100_000);
  });

  it('reports a non-zero exit as FAILED/EXIT', async () => {
    const path = script('exit3.sh', 'echo bye\nexit 3\n');
    const { result, output } = await run(request(path));
    expect(result).toEqual({ outcome: 'FAILED', exitCode: 3, error: 'exit code 3', errorCode: 'EXIT' });
    expect(output).toBe('bye\n');
  });

  it('reports death by signal as FAILED/SIGNAL', async () => {
    const path = script('selfkill.sh', 'kill -KILL $$\n');
    const { result } = await run(request(path));
    expect(result).toEqual({ outcome: 'FAILED', exitCode: null, error: 'killed by SIGKILL', errorCode: 'SIGNAL' });
  });

  it('fails fast with SCRIPT_NOT_FOUND without spawning', async () => {
    const missing = join(dir, 'nope', 'missing.py');
    const { result, pid } = await run(request(missing));
    expect(pid).toBeNull();
    expect(result).toEqual({ outcome: 'FAILED', exitCode: null, error: `script not found: ${missing}`, errorCode: 'SCRIPT_NOT_FOUND' });
    expect(FAIL_FAST_CODES).toContain(result.errorCode);
  });

  it('fails fast with NOT_EXECUTABLE for a non-executable file without a known extension', async () => {
    const path = script('plain-tool', '#!/bin/sh\necho hi\n', 0o644);
    const { result, pid } = await run(request(path));
    expect(pid).toBeNull();
    expect(result.outcome).toBe('FAILED');
    expect(result.errorCode).toBe('NOT_EXECUTABLE');
  });

  it('executes an executable file directly', async () => {
    const path = script('tool', '#!/bin/sh\necho "direct $1"\n', 0o755);
    const { result, output } = await run(request(path, { args: ['ok'] }));
    expect(result.outcome).toBe('COMPLETED');
    expect(output).toBe('direct ok\n');
  });

  it('reports INTERPRETER_NOT_FOUND for a missing interpreter', async () => {
    const shebang = script('bad-shebang', '#!/nonexistent/interpreter\n', 0o755);
    const a = await run(request(shebang));
    expect(a.result.errorCode).toBe('INTERPRETER_NOT_FOUND');
    expect(a.result.outcome).toBe('FAILED');
    // bash is looked up on the child's PATH.
    const sh = script('nobash.sh', 'echo hi\n');
    const b = await run(request(sh, { env: { PATH: join(dir, 'empty-path') } }));
    expect(b.result).toMatchObject({ outcome: 'FAILED', exitCode: null, errorCode: 'INTERPRETER_NOT_FOUND' });
  });

  it('times out, escalating to SIGKILL, and leaves no process of the tree alive', { timeout: 15_000 }, async () => {
    const pidFile = join(dir, 'timeout.pids');
    // Everything here ignores SIGTERM, so only the SIGKILL after the grace period ends it.
    const path = script(
      'timeout.sh',
      `trap '' TERM
echo $$ >> "$1"
sleep 1000 & echo $! >> "$1"
sleep 1000 & echo $! >> "$1"
( sleep 1000 & echo $! >> "$1"; wait )
`,
    );
    const startedAt = Date.now();
    const { attempt } = start(new ProcessExecutor({ killGraceMs: 300 }), request(path, { args: [pidFile], timeoutMs: 1500 }));
    const pids = await waitForFile(pidFile, 4);
    expect(pids).toHaveLength(4);
    expect(pids.every((p) => !isGone(p))).toBe(true);
    const result = await attempt.done;
    expect(result).toEqual({ outcome: 'TIMED_OUT', exitCode: null, error: 'timed out after 1500 ms', errorCode: 'TIMEOUT' });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1500);
    expect(await waitUntil(() => pids.every(isGone), 3000)).toBe(true);
  });

  it('kill() ends the attempt and kills children that ignore SIGTERM once the script exits', { timeout: 15_000 }, async () => {
    const pidFile = join(dir, 'kill.pids');
    // The script dies on SIGTERM; its TERM-ignoring child must die with the group at exit,
    // well before the (long) grace period.
    const path = script(
      'kill.sh',
      `echo $$ >> "$1"
sh -c 'trap "" TERM; exec sleep 1000' & echo $! >> "$1"
sleep 1000 & echo $! >> "$1"
wait
`,
    );
    const { attempt } = start(new ProcessExecutor({ killGraceMs: 30_000 }), request(path, { args: [pidFile] }));
    const pids = await waitForFile(pidFile, 3);
    expect(pids).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 100)); // let sh install its trap before the signal
    const before = Date.now();
    attempt.kill('cancelled by user');
    const result = await attempt.done;
    expect(Date.now() - before).toBeLessThan(5000);
    expect(result).toEqual({ outcome: 'FAILED', exitCode: null, error: 'killed: cancelled by user', errorCode: 'SIGNAL' });
    expect(await waitUntil(() => pids.every(isGone), 3000)).toBe(true);
  });

  it('kills leftover background processes when the script exits normally', { timeout: 15_000 }, async () => {
    const pidFile = join(dir, 'leftover.pids');
    const path = script('leftover.sh', 'sleep 1000 & echo $! >> "$1"\necho done\n');
    const { result, output } = await run(request(path, { args: [pidFile] }));
    expect(result.outcome).toBe('COMPLETED');
    expect(output).toBe('done\n');
    const pids = await waitForFile(pidFile, 1);
    expect(await waitUntil(() => pids.every(isGone), 3000)).toBe(true);
  });

  it('does not hang when a descendant escapes the group and keeps the output pipe open', { timeout: 15_000 }, async () => {
    const pidFile = join(dir, 'escape.pids');
    // The child records its own pid once it is in its new session; the pause lets it get there.
    const path = script('escape.sh', `setsid sh -c 'echo $$ >> "$1"; exec sleep 1000' sh "$1" &\nsleep 0.5\necho bye\n`);
    try {
      const { result, output } = await run(request(path, { args: [pidFile] }));
      expect(result.outcome).toBe('COMPLETED');
      expect(output).toBe('bye\n');
    } finally {
      // It left our group, so only its own pid reaches it.
      for (const pid of await waitForFile(pidFile, 1)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });
});

describe.skipIf(process.getuid?.() !== 0)('ProcessExecutor running a job as another user', () => {
  it('starts it with that uid and gid, and still kills its whole group on timeout', { timeout: 15_000 }, async () => {
    const own = mkdtempSync(join(tmpdir(), 'titan-executor-nobody-'));
    chmodSync(own, 0o777);
    try {
      const path = script('as-nobody.sh', `id -u; id -g; sleep 1000 & echo $! > "$1"; sleep 1000\n`);
      chmodSync(dir, 0o711);
      const pidFile = join(own, 'bg.pid');
      const { attempt, output } = start(new ProcessExecutor({ killGraceMs: 300 }), request(path, { args: [pidFile], cwd: own, timeoutMs: 1000, user: { uid: 65534, gid: 65534 } }));
      const result = await attempt.done;
      expect(result.outcome).toBe('TIMED_OUT');
      expect(output()).toBe('65534\n65534\n');
      const background = Number(readFileSync(pidFile, 'utf8'));
      expect(await waitUntil(() => isGone(background), 3000)).toBe(true);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });
});

describe('ProcessExecutor pid files', () => {
  it('records each running attempt\'s process group under its key, and removes the file when it ends', { timeout: 15_000 }, async () => {
    const pidDir = join(dir, 'pids-running');
    const executor = new ProcessExecutor({ pidDir });
    const path = script('held.sh', 'echo started\nsleep 1000\n');
    const { attempt, output } = start(executor, request(path, { key: 'run-7/job-a#2' }));
    await waitUntil(() => output() === 'started\n' && readdirSync(pidDir).length > 0, 5000);
    const files = readdirSync(pidDir);
    expect(files).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(pidDir, files[0] as string), 'utf8'))).toEqual({ pgid: attempt.pid, startTime: expect.any(Number), key: 'run-7/job-a#2' });
    attempt.kill('the test is over');
    await attempt.done;
    expect(await waitUntil(() => readdirSync(pidDir).length === 0, 2000)).toBe(true);
  });

  it('a new executor on the same folder stops the groups an earlier one left running', { timeout: 15_000 }, async () => {
    const pidDir = join(dir, 'pids-leftover');
    const pidFile = join(dir, 'leftover-group.pids');
    const path = script('orphan.sh', 'sleep 1000 & echo $! >> "$1"\necho $$ >> "$1"\nwait\n');
    // The first life's attempt: never ended, as if its worker and its reaper had been killed -9.
    start(new ProcessExecutor({ pidDir }), request(path, { key: 'run-1/orphan#1', args: [pidFile] }));
    const pids = await waitForFile(pidFile, 2);
    expect(pids.every((p) => !isGone(p))).toBe(true);
    expect(await waitUntil(() => readdirSync(pidDir).length === 1, 2000)).toBe(true);

    const report = await new ProcessExecutor({ pidDir }).sweepLeftovers();
    expect(report).toEqual([`stopped leftover attempt run-1/orphan#1 (process group ${pids[1]})`]);
    expect(await waitUntil(() => pids.every(isGone), 3000)).toBe(true);
    expect(readdirSync(pidDir)).toEqual([]);
  });
});

describe('NoopExecutor', () => {
  it('completes at once with no output', async () => {
    let output = '';
    const attempt = new NoopExecutor().start(request('/does/not/matter'), (c) => (output += c));
    expect(attempt.pid).toBeNull();
    attempt.kill('no-op');
    expect(await attempt.done).toEqual({ outcome: 'COMPLETED', exitCode: 0, error: null, errorCode: null });
    expect(output).toBe('');
  });
});
