/**
 * The Python SDK's own unittest suite (python/tests: unit tests, and integration tests that
 * start their own master and worker from bin/titan.js) counted test by test in this suite.
 *
 * The Python test ids are listed when this file is collected (unittest's loader, as
 * `python3 -m unittest` discovers them), each becomes one `it`, the whole Python suite runs once
 * in `beforeAll` (`python3 -m unittest -v` in python/), and each `it` passes or fails by its
 * line in the verbose output; a failure shows Python's traceback, a test with no result the
 * whole output.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cluster.js';

const PY_DIR = join(ROOT, 'python');
const SUITE_TIMEOUT_MS = 180_000;

/** The environment of every Python process: no address of another cluster, no bytecode files in the tree. */
function pythonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', TITAN_NODE: process.execPath, NO_COLOR: '1' };
  for (const name of ['TITAN_HOST', 'TITAN_PORT', 'TITAN_MASTERS', 'TITAN_TOKEN', 'TITAN_TLS', 'TITAN_CA', 'TITAN_CERT', 'TITAN_KEY', 'PYTHONPATH']) delete env[name];
  return env;
}

const LIST_TESTS = `
import json, unittest
def walk(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from walk(t)
        else:
            yield t.id()
print(json.dumps(list(walk(unittest.defaultTestLoader.discover(".", top_level_dir=".")))))
`;

function listPythonTests(): { ids: string[]; error: string | null } {
  try {
    const out = execFileSync('python3', ['-c', LIST_TESTS], { cwd: PY_DIR, env: pythonEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    return { ids: JSON.parse(out.trim().split('\n').pop() ?? '[]') as string[], error: null };
  } catch (err) {
    const e = err as Error & { stderr?: string };
    return { ids: [], error: `${e.message}\n${e.stderr ?? ''}` };
  }
}

type Outcome = { status: 'ok' } | { status: 'skipped'; reason: string } | { status: 'failed'; word: string };

interface SuiteRun {
  code: number | null;
  output: string;
  outcomes: Map<string, Outcome>;
  /** Tracebacks of failed tests, by id. */
  details: Map<string, string>;
}

/**
 * `test_x (tests.mod.Class.test_x) ... ok` (Python 3.11 and later) or `test_x (tests.mod.Class) ... ok`
 * (earlier); a docstring's first line may come between the name and the dots, on the next line.
 */
const RESULT_LINE = /^(\w+) \(([\w.]+)\)(?:\n[^\n]*?)? \.\.\. (ok|FAIL|ERROR|skipped(?: .*)?|expected failure|unexpected success)$/gm;
const DETAIL_HEADER = /^(FAIL|ERROR): (\w+) \(([\w.]+)\)/;

function testId(name: string, inParens: string): string {
  return inParens.endsWith(`.${name}`) ? inParens : `${inParens}.${name}`;
}

function parseVerbose(output: string): { outcomes: Map<string, Outcome>; details: Map<string, string> } {
  const outcomes = new Map<string, Outcome>();
  for (const m of output.matchAll(RESULT_LINE)) {
    const [, name, parens, word] = m as unknown as [string, string, string, string];
    const id = testId(name, parens);
    if (word === 'ok' || word === 'expected failure') outcomes.set(id, { status: 'ok' });
    else if (word.startsWith('skipped')) outcomes.set(id, { status: 'skipped', reason: word.slice('skipped'.length).trim().replace(/^'(.*)'$/s, '$1') });
    else outcomes.set(id, { status: 'failed', word });
  }
  const details = new Map<string, string>();
  const separator = `${'='.repeat(70)}\n`;
  for (const block of output.split(separator).slice(1)) {
    const header = DETAIL_HEADER.exec(block);
    if (!header) continue;
    const [, , name, parens] = header as unknown as [string, string, string, string];
    details.set(testId(name, parens), block.split(/\n-{70}\nRan \d+ tests? in /)[0] ?? block);
  }
  return { outcomes, details };
}

let child: ChildProcess | null = null;

function runSuite(): Promise<SuiteRun> {
  return new Promise((resolve) => {
    const proc = spawn('python3', ['-m', 'unittest', '-v'], { cwd: PY_DIR, env: pythonEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), SUITE_TIMEOUT_MS - 5_000);
    const done = (code: number | null): void => {
      clearTimeout(timer);
      child = null;
      resolve({ code, output, ...parseVerbose(output) });
    };
    proc.on('error', (err) => {
      output += `\ncannot start python3: ${err.message}`;
      done(null);
    });
    proc.on('exit', (code) => done(code));
  });
}

const { ids, error: listError } = listPythonTests();

describe('Python SDK (python/tests, python3 -m unittest)', () => {
  let suite: SuiteRun | null = null;

  beforeAll(async () => {
    if (ids.length > 0) suite = await runSuite();
  }, SUITE_TIMEOUT_MS);

  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('lists the Python tests', () => {
    expect(listError, `listing the Python tests failed:\n${listError}`).toBeNull();
    expect(ids.length).toBeGreaterThan(0);
  });

  for (const id of ids) {
    it(id, (ctx) => {
      const run = suite as SuiteRun;
      const outcome = run.outcomes.get(id);
      if (outcome?.status === 'skipped') {
        ctx.skip(outcome.reason);
        return;
      }
      if (!outcome) throw new Error(`no result for ${id} in the Python output (exit code ${run.code}):\n${run.output}`);
      if (outcome.status === 'failed') throw new Error(`${id}: ${outcome.word}\n${run.details.get(id) ?? run.output}`);
    });
  }
});
