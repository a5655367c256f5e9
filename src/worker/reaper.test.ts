import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Reaper } from './reaper.js';
import { isGone, waitUntil } from '../../test/helpers/processes.js';

let dir: string;
/** Everything a test started: single pids and process groups, killed after each test. */
const pids = new Set<number>();
const groups = new Set<number>();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'titan-reaper-'));
});

afterEach(() => {
  for (const pgid of groups) signal(-pgid);
  for (const pid of pids) signal(pid);
  groups.clear();
  pids.clear();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function signal(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // already gone
  }
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const sourceUrl = (file: string): string => new URL(`./${file}`, import.meta.url).href;

interface FakeWorkerInfo {
  reaper: number;
  attempt?: number;
  sleep?: number;
  group?: number;
}

/**
 * A throwaway worker process running the real Reaper (and executor). It prints one JSON line
 * describing what it started, then idles until the test kills it.
 */
async function fakeWorker(mode: 'attempt' | 'untracked'): Promise<{ proc: ChildProcess; info: FakeWorkerInfo }> {
  const shPath = join(dir, 'attempt.sh');
  writeFileSync(shPath, 'sleep 1000 &\necho "sleep=$!"\nwait\n');
  const main = join(dir, `fake-worker-${mode}.mjs`);
  writeFileSync(
    main,
    `import { spawn } from 'node:child_process';
import { ProcessExecutor } from ${JSON.stringify(sourceUrl('executor.ts'))};
import { Reaper } from ${JSON.stringify(sourceUrl('reaper.ts'))};
const reaper = Reaper.start();
const say = (o) => process.stdout.write(JSON.stringify({ reaper: reaper.pid, ...o }) + '\\n');
if (${JSON.stringify(mode)} === 'attempt') {
  const executor = new ProcessExecutor({ reaper });
  let out = '';
  const attempt = executor.start(
    { key: 'r/j#1', scriptPath: ${JSON.stringify(shPath)}, args: [], cwd: ${JSON.stringify(dir)}, env: { ...process.env }, timeoutMs: null },
    (chunk) => {
      out += chunk;
      const m = /sleep=(\\d+)/.exec(out);
      if (m) say({ attempt: attempt.pid, sleep: Number(m[1]) });
    },
  );
} else {
  const child = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
  reaper.track(child.pid);
  reaper.untrack(child.pid);
  say({ group: child.pid });
}
setInterval(() => {}, 1000);
`,
  );
  const proc = spawn(process.execPath, ['--import', tsxLoader, main], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (proc.pid !== undefined) pids.add(proc.pid);
  const info = await new Promise<FakeWorkerInfo>((resolve, reject) => {
    let text = '';
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(text.slice(0, nl)) as FakeWorkerInfo);
    });
    proc.on('exit', (code) => reject(new Error(`fake worker exited early with ${code}`)));
  });
  pids.add(info.reaper);
  for (const pgid of [info.attempt, info.group]) if (pgid !== undefined) groups.add(pgid);
  return { proc, info };
}

describe('Reaper', () => {
  it('kills tracked attempt groups when the worker is killed with SIGKILL', { timeout: 30_000 }, async () => {
    const { proc, info } = await fakeWorker('attempt');
    const { attempt, sleep: sleepPid } = info;
    if (attempt === undefined || sleepPid === undefined) throw new Error('fake worker did not report its attempt');
    expect(isGone(sleepPid)).toBe(false);
    // The helper holds the pipe from the start; give a slow (tsx) start a moment anyway so the
    // test also covers the "helper is already reading" path.
    await sleep(300);
    proc.kill('SIGKILL');
    expect(await waitUntil(() => isGone(sleepPid) && isGone(attempt), 3000)).toBe(true);
    expect(await waitUntil(() => isGone(info.reaper), 3000)).toBe(true);
  });

  it('leaves untracked groups alone when the worker dies', { timeout: 30_000 }, async () => {
    const { proc, info } = await fakeWorker('untracked');
    const group = info.group;
    if (group === undefined) throw new Error('fake worker did not report its group');
    await sleep(300);
    proc.kill('SIGKILL');
    expect(await waitUntil(() => isGone(info.reaper), 5000)).toBe(true);
    expect(isGone(group)).toBe(false);
  });

  it('close() makes the helper exit without killing tracked groups', { timeout: 30_000 }, async () => {
    const reaper = Reaper.start();
    const helper = reaper.pid;
    if (helper === undefined) throw new Error('reaper helper did not start');
    pids.add(helper);
    const sleeper = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    const pgid = sleeper.pid;
    if (pgid === undefined) throw new Error('sleep did not start');
    groups.add(pgid);
    reaper.track(pgid);
    await sleep(300);
    reaper.close();
    expect(await waitUntil(() => isGone(helper), 5000)).toBe(true);
    expect(isGone(pgid)).toBe(false);
  });
});
