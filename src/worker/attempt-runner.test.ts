import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Dispatch, FinishedAttempt } from '../protocol/methods.js';
import { AttemptRunner, attemptDirs } from './attempt-runner.js';
import { Attempts } from './attempts.js';
import type { ExecutionRequest, ExecutionResult, Executor } from './executor.js';

const SHA = 'a'.repeat(64);

let workDir: string;

beforeEach(() => {
  workDir = mkdtempSync(join(tmpdir(), 'titan-runner-'));
});

afterEach(() => {
  rmSync(workDir, { recursive: true, force: true });
});

const dispatch = (over: Partial<Dispatch> = {}): Dispatch => ({
  runId: 'r1',
  jobId: 'j1',
  attempt: 2,
  script: { name: 'job.sh', sha256: SHA },
  args: ['--x', 'y z'],
  env: { MINE: '1' },
  timeoutMs: 5000,
  token: 'job-token',
  ...over,
});

/** An executor that runs nothing: each attempt ends with `result`, at once or (`untilKilled`) once killed. */
function executor(result: ExecutionResult, untilKilled: boolean) {
  const started: ExecutionRequest[] = [];
  const fake: Executor = {
    folders: false,
    start: (req) => {
      started.push(req);
      let end = (): void => undefined;
      const done = untilKilled ? new Promise<ExecutionResult>((resolve) => (end = () => resolve(result))) : Promise.resolve(result);
      return { pid: null, kill: () => end(), done };
    },
  };
  return { fake, started };
}

function setup(result: ExecutionResult = { outcome: 'COMPLETED', exitCode: 0, error: null, errorCode: null }, untilKilled = false) {
  const { fake, started } = executor(result, untilKilled);
  const attempts = new Attempts();
  const reported: FinishedAttempt[] = [];
  const runner = new AttemptRunner({ masters: [{ host: 'master', port: 9090 }], workDir, executor: fake }, null, {
    attempts,
    outbox: { add: (r) => void reported.push(r) },
    logs: { push: vi.fn() },
    link: { peer: null, workerId: 'box:8080', session: () => Promise.resolve(null) },
    host: 'box',
  });
  return { runner, attempts, started, reported };
}

/** Puts the script in the cache, as if fetched before. */
function cached(): string {
  const path = join(workDir, 'cache', SHA, 'job.sh');
  mkdirSync(join(workDir, 'cache', SHA), { recursive: true });
  writeFileSync(path, 'exit 0\n');
  return path;
}

describe('attemptDirs', () => {
  it("lays an attempt's folder in its run's, its outputs inside it", () => {
    expect(attemptDirs('/w', { runId: 'r1', jobId: 'j1', attempt: 3 })).toStrictEqual({ runDir: '/w/runs/r1', attemptDir: '/w/runs/r1/j1.3', outputDir: '/w/runs/r1/j1.3/out' });
  });
});

describe('AttemptRunner', () => {
  it('runs the cached script with the attempt’s arguments, folder and environment, and reports the result by id', async () => {
    const { runner, attempts, started, reported } = setup();
    const scriptPath = cached();
    await runner.run(dispatch());
    expect(started).toHaveLength(1);
    const req = started[0] as ExecutionRequest;
    expect(req).toMatchObject({ key: 'r1/j1#2', scriptPath, args: ['--x', 'y z'], cwd: join(workDir, 'runs', 'r1', 'j1.2'), timeoutMs: 5000 });
    expect(req.env).toMatchObject({ MINE: '1', TITAN_TOKEN: 'job-token', TITAN_RUN_ID: 'r1', TITAN_JOB_ID: 'j1', TITAN_ATTEMPT: '2', TITAN_WORKER_ID: 'box:8080', TITAN_SHARED_DIR: join(workDir, 'runs', 'r1', 'shared') });
    expect(reported).toStrictEqual([{ runId: 'r1', jobId: 'j1', attempt: 2, outcome: 'COMPLETED', exitCode: 0, error: null, errorCode: null }]);
    expect(attempts.size).toBe(0);
  });

  it('fails a dispatch that names neither a script nor an archive, starting nothing', async () => {
    const { runner, started, reported } = setup();
    await runner.run(dispatch({ script: undefined }));
    expect(started).toHaveLength(0);
    expect(reported[0]).toMatchObject({ outcome: 'FAILED', errorCode: 'BAD_REQUEST' });
  });

  it('fails an attempt whose code cannot be staged', async () => {
    const { runner, started, reported } = setup();
    await runner.run(dispatch());
    expect(started).toHaveLength(0);
    expect(reported[0]).toMatchObject({ outcome: 'FAILED', errorCode: 'STAGING', error: 'could not stage job.sh: the worker is stopping' });
  });

  it('never starts an attempt ended while its code was staged; one handed back is reported LOST', async () => {
    const { runner, attempts, started, reported } = setup();
    cached();
    const running = runner.run(dispatch());
    attempts.endAll('handed back', true);
    await running;
    expect(started).toHaveLength(0);
    expect(reported[0]).toMatchObject({ outcome: 'LOST', error: 'handed back', errorCode: null });
  });

  it('reports as LOST an attempt handed back while it ran, unless it completed all the same', async () => {
    cached();
    for (const [result, outcome] of [
      [{ outcome: 'FAILED', exitCode: null, error: 'killed', errorCode: 'SIGNAL' }, 'LOST'],
      [{ outcome: 'COMPLETED', exitCode: 0, error: null, errorCode: null }, 'COMPLETED'],
    ] as const) {
      const { runner, attempts, started, reported } = setup(result, true);
      const running = runner.run(dispatch());
      await vi.waitFor(() => expect(started).toHaveLength(1));
      attempts.endAll('stopped: the master was unreachable for 10 s', true);
      await running;
      expect(reported).toHaveLength(1);
      expect(reported[0]?.outcome).toBe(outcome);
    }
  });
});
