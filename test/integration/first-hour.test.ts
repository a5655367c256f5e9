/**
 * docs/first-hour.md, run top to bottom as its reader would, by the convention its top comment
 * states (test/helpers/walkthrough.ts): in a fresh folder, each file written, each `npx titan ...`
 * run as `node bin/titan.js ...` there, with its exit code and the output the doc shows checked;
 * `titan up` and `titan worker` started for real in the background and stopped with Ctrl-C
 * (SIGINT to their process group) at the end. The dashboard addresses the doc names are fetched.
 *
 * Ports: the test appends `--port P --http-port H` (free ports) to the doc's `titan up`, writes
 * P and H wherever the doc says 127.0.0.1:9090 or 127.0.0.1:5000, and sets TITAN_PORT=P for the
 * other commands, which the reader's default port 9090 needs no setting for. The token is found
 * as the reader's CLI finds it, in ./titan-data: no TITAN_* variable of this process is passed on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchRoute } from '../../web/src/routes.js';
import { CLI, ROOT } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/processes.js';
import { freePort, TempDir } from '../helpers/scripts.js';
import { type CommandStep, dashboardPaths, missingLine, parseWalkthrough } from '../helpers/walkthrough.js';

const DOC = 'docs/first-hour.md';
const markdown = readFileSync(join(ROOT, DOC), 'utf8');
const steps = parseWalkthrough(markdown, DOC);

/** How long one command may take: `logs -f` and `submit --wait` wait for jobs on a busy machine. */
const COMMAND_MS = 30_000;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Started {
  step: CommandStep;
  child: ChildProcess;
  log: string;
  ended: Promise<Ended>;
}

const running = (p: Started): boolean => p.child.exitCode === null && p.child.signalCode === null;

/** Resolves with `promise`, or with null after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe(DOC, () => {
  const tmp = new TempDir('titan-first-hour-');
  // The reader's folder; the commands' output goes to files beside it, not into it.
  const folder = join(tmp.path, 'first-hour');
  const started: Started[] = [];
  const servers: Started[] = [];
  let port = 0;
  let httpPort = 0;

  const place = (s: string): string => s.replaceAll('127.0.0.1:9090', `127.0.0.1:${port}`).replaceAll('127.0.0.1:5000', `127.0.0.1:${httpPort}`);
  const where = (step: CommandStep): string => `${DOC}:${step.line}: ${step.text}`;

  /** Starts a command with standard output and error in one file, interleaved as a terminal shows them. */
  function launch(step: CommandStep): Started {
    const log = join(tmp.path, `output-${started.length}.txt`);
    const fd = openSync(log, 'a');
    const args = step.args.map(place);
    if (args[0] === 'up') args.push('--port', String(port), '--http-port', String(httpPort));
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TITAN_')));
    // Its own process group, as a shell's job is: Ctrl-C and the cleanup reach all of it.
    const child = spawn(process.execPath, [CLI, ...args], { cwd: folder, env: { ...env, NO_COLOR: '1', TITAN_PORT: String(port) }, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    const ended = new Promise<Ended>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const p = { step, child, log, ended };
    started.push(p);
    return p;
  }

  const output = (p: Started): string => readFileSync(p.log, 'utf8');

  function signal(p: Started, sig: NodeJS.Signals): void {
    try {
      process.kill(-(p.child.pid as number), sig);
    } catch {
      // The group is gone already.
    }
  }

  beforeAll(async () => {
    port = await freePort();
    httpPort = await freePort();
    mkdirSync(folder);
  });

  afterAll(async () => {
    // What a failure left running: a server, or a command the test gave up on.
    for (const p of started.filter(running)) {
      signal(p, 'SIGKILL');
      await p.ended;
    }
    tmp.remove();
  });

  it('runs as written: files, commands, their exit codes and output', async () => {
    for (const step of steps) {
      if (step.kind === 'file') {
        tmp.write(join('first-hour', step.path), step.content);
        continue;
      }
      const shown = step.output.map((line) => ({ ...line, text: place(line.text) }));
      const p = launch(step);
      if (step.keepsRunning) {
        servers.push(p);
        const ready = await waitUntil(() => !running(p) || missingLine(shown, output(p)) === null, COMMAND_MS);
        expect(ready && running(p), `${where(step)}: never printed what the doc shows, or stopped; its output:\n${output(p)}`).toBe(true);
        continue;
      }
      const ended = await within(p.ended, COMMAND_MS);
      if (!ended) signal(p, 'SIGKILL');
      expect(ended, `${where(step)}: still running after ${COMMAND_MS} ms; its output:\n${output(p)}`).not.toBeNull();
      expect(ended?.code, `${where(step)}: exit code (the doc says ${step.exitCode}); its output:\n${output(p)}`).toBe(step.exitCode);
      const missing = missingLine(shown, output(p));
      expect(missing, `${where(step)}: no output line "${missing?.text}" (line ${missing?.line}) after the lines shown before it; its output:\n${output(p)}`).toBeNull();
    }
    expect(servers.map((p) => p.step.args[0])).toEqual(['up', 'worker']);
    // About 20 s on a quiet machine (some 30 CLI processes, each about 0.7 s to start), several
    // times that on one whose cores are shared.
  }, 150_000);

  it("serves the dashboard's addresses it names, each a page of the dashboard", async () => {
    const paths = dashboardPaths(markdown);
    expect(paths).toEqual(expect.arrayContaining(['/', '/dags/new', '/dags', '/agents']));
    for (const path of paths) {
      // Unsigned in: the page itself loads, and the app then asks for the token.
      const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toContain('<title>Titan</title>');
      // The server answers every path with the app: whether it has that page is the app's routing.
      expect(matchRoute(path).name, path).not.toBe('notFound');
    }
  }, 10_000);

  it('stops on Ctrl-C: the worker, then titan up', async () => {
    for (const p of [...servers].reverse()) {
      signal(p, 'SIGINT');
      const ended = await within(p.ended, 15_000);
      expect(ended, `${where(p.step)}: still running 15 s after Ctrl-C; its output:\n${output(p)}`).toEqual({ code: 0, signal: null });
    }
  }, 35_000);
});
