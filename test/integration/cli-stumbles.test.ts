/**
 * What real users stumbled on with the `titan` command, each against a real master and worker:
 * a reader that closes early, mistakes that printed stack traces, subcommand typos, Titan's
 * `run <file> GPU`, exit codes of `logs -f`, repeated words in `status`, checking a pipeline
 * without submitting it, and the data bus commands the README promises.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/protocol/methods.js';
import { CLI, Cluster, kill, launch, waitForOutput } from '../helpers/cluster.js';
import { readPid, TempDir } from '../helpers/scripts.js';

/** What a stack trace looks like in Node's output. */
const STACK = /^\s+at .+[:(]\d+/m;

describe('stumbles with the titan CLI', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-cli-stumbles-');
  const env = (): Record<string, string> => ({ TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port), TITAN_TOKEN: cluster.token });

  /** Runs the CLI with its standard output closed before it writes anything, as by `| head -c0`. */
  const withClosedReader = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: tmp.path, env: { ...process.env, NO_COLOR: '1', ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });

  /** Runs `sh -c script` (the CLI is $TITAN) and returns its standard error, which ends with the CLI's exit code. */
  const shell = (script: string): Promise<string> =>
    new Promise((resolve) => {
      const child = spawn('bash', ['-c', script], { cwd: tmp.path, env: { ...process.env, NO_COLOR: '1', TITAN: `${process.execPath} ${CLI}`, ...env() }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', () => resolve(stderr));
    });

  const refOf = (stdout: string): string => stdout.trim();

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
    tmp.write('hello.py', 'import sys\nprint("hello", sys.argv[1:])\n');
    tmp.write('many.py', 'for i in range(200000):\n    print("line", i)\n');
    tmp.write('fail.py', 'import sys\nsys.exit(4)\n');
    tmp.write('gated.py', 'import os, sys, time\nopen(sys.argv[1], "w").write(str(os.getpid()))\nwhile not os.path.exists(sys.argv[2]):\n    time.sleep(0.05)\n');
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  describe('a reader that closes early', () => {
    let manyRef = '';

    beforeAll(async () => {
      const r = await cluster.cli(['run', '--json', tmp.file('many.py')]);
      expect(r.code, r.stderr).toBe(0);
      manyRef = (JSON.parse(r.stdout) as JobView).ref;
    });

    it('titan logs | head -1 ends quietly with exit 0', async () => {
      for (const follow of [[], ['-f']]) {
        const stderr = await shell(`$TITAN logs ${manyRef} ${follow.join(' ')} | head -1 >/dev/null; echo "exit=\${PIPESTATUS[0]}" >&2`);
        expect(stderr, stderr).toMatch(/exit=0\n$/);
        expect(stderr).not.toMatch(STACK);
        expect(stderr).not.toMatch(/EPIPE|Unhandled/);
      }
    });

    it('every kind of command ends quietly when its standard output is already closed', async () => {
      for (const args of [['status', manyRef], ['logs', manyRef], ['stats', '--json'], ['runs'], ['workers'], ['run', tmp.file('many.py')], ['completion', 'bash'], ['--help']]) {
        const r = await withClosedReader(args);
        expect(r.stderr, args.join(' ')).not.toMatch(STACK);
        expect(r.stderr, args.join(' ')).not.toMatch(/EPIPE|Unhandled/);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      }
    });
  });

  describe("a user's mistake is one line, never a stack trace", () => {
    it('a YAML alias bomb given to titan submit (and validate)', async () => {
      const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...'bcdefgh'.split('').map((l, i) => `${l}: &${l} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)];
      const bomb = tmp.write('bomb.yaml', `name: bomb\nvars:\n${levels.map((l) => `  ${l}`).join('\n')}\njobs:\n  - id: a\n    file: hello.py\n    args: *h\n`);
      for (const command of ['submit', 'validate']) {
        const r = await cluster.cli([command, bomb]);
        expect(r.code).toBe(2);
        expect(r.stderr).toBe(`titan: ${bomb}:4:10: the aliases (*name) expand to more than 100 copies of their anchors (nested anchors multiply); write the values out instead\n`);
      }
    });

    it('the master refuses the same text sent to pipeline.parse, in one line', async () => {
      const text = `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\njobs: *c\n`;
      await expect(cluster.client().call('pipeline.parse', { text, path: 'bomb.yaml' })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/^bomb\.yaml:2:\d+: the aliases \(\*name\) expand to more than 100 copies/) });
    });

    it('an unreadable password file, or a script that is a folder', async () => {
      const user = await cluster.cli(['user', 'add', 'alice', '--role', 'read', '--password-file', tmp.file('no-such-file')]);
      expect(user.code).toBe(2);
      expect(user.stderr).toBe(`titan: --password-file: cannot read ${tmp.file('no-such-file')}: ENOENT\n`);
      tmp.write('folder/.keep', '');
      const folder = await cluster.cli(['run', tmp.file('folder')]);
      expect(folder.code).toBe(2);
      expect(folder.stderr).toBe(`titan: cannot read script ${tmp.file('folder')}: it is a folder, not a file\n`);
    });
  });

  it('a subcommand typo is an unknown command with a suggestion, exit 2', async () => {
    for (const [words, wrong, right] of [
      ['workers dran 127.0.0.1:1', 'dran', 'drain'],
      ['workers --json dran', 'dran', 'drain'],
      ['schedules puase nightly', 'puase', 'pause'],
      ['agent-runs shw a1', 'shw', 'show'],
      ['token craete ci', 'craete', 'create'],
      ['artifacts lst', 'lst', 'list'],
      ['store gett k', 'gett', 'get'],
    ] as const) {
      const r = await cluster.cli(words.split(' '));
      expect(r.code, words).toBe(2);
      expect(r.stderr, words).toBe(`error: unknown command '${wrong}'\n(Did you mean ${right}?)\n(run with --help for usage)\n`);
    }
    // The default subcommand still runs alone and with its options, and a named one keeps its own check.
    expect((await cluster.cli(['workers', '--json'])).code).toBe(0);
    expect((await cluster.cli(['token', '--role', 'read'])).code).toBe(0);
    const extra = await cluster.cli(['workers', 'list', 'extra']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/too many arguments for 'list'/);
  });

  describe("titan run <file> GPU (Titan's requirement word)", () => {
    it('a Titan capability after the script is the requirement; after -- it is an argument', async () => {
      const onGpu = await cluster.cli(['run', '--detach', '--json', tmp.file('hello.py'), 'GPU']);
      expect(onGpu.code, onGpu.stderr).toBe(0);
      expect(onGpu.stderr).toContain('requirement GPU (to pass "GPU" to the script instead, put it after --)');
      const { ref } = JSON.parse(onGpu.stdout) as { ref: string };
      const { job } = await cluster.client().getJob(ref);
      expect(job.spec).toMatchObject({ requirement: 'GPU', args: [] });
      await cluster.client().cancel(ref);

      const general = await cluster.cli(['run', tmp.file('hello.py'), 'GENERAL']);
      expect(general.code, general.stderr).toBe(0);
      expect(general.stdout).toBe('hello []\n');
      const literal = await cluster.cli(['run', tmp.file('hello.py'), 'x', '--', 'GPU', 'HIGH_MEM']);
      expect(literal.stdout).toBe("hello ['x', 'GPU', 'HIGH_MEM']\n");
      expect(literal.stderr).not.toContain('requirement');
      const custom = await cluster.cli(['run', tmp.file('hello.py'), 'TPU']);
      expect(custom.stdout).toBe("hello ['TPU']\n");
      const twice = await cluster.cli(['run', tmp.file('hello.py'), 'GPU', '--requirement', 'GENERAL']);
      expect(twice.code).toBe(2);
      expect(twice.stderr).toBe('titan: give the requirement once: "GPU" after the script or --requirement GENERAL\n');
    });

    it('Ctrl-C while titan run waits leaves the job queued and says how to cancel it, exit 130', async () => {
      const run = launch(['run', tmp.file('hello.py'), 'GPU'], env());
      try {
        const ref = (await waitForOutput(run, /submitted (\S+)\n/, 20_000))[1] as string;
        await waitForOutput(run, /QUEUED: /, 20_000);
        const exited = new Promise<number | null>((resolve) => run.child.once('exit', (code) => resolve(code)));
        run.child.kill('SIGINT');
        expect(await exited).toBe(130);
        expect(run.output()).toContain(`titan: stopped waiting; ${ref} goes on (titan cancel ${ref} stops it)\n`);
        expect((await cluster.client().getJob(ref)).job.status).toBe('QUEUED');
        await cluster.client().cancel(ref);
      } finally {
        await kill(run, 'SIGKILL');
      }
    });

    it('titan run --help says how', async () => {
      const help = (await cluster.cli(['run', '--help'])).stdout.replace(/\s+/g, ' ');
      expect(help).toContain('arguments for the script, after -- (everything after -- reaches it as written); a last word before -- that is one of GENERAL, GPU, HIGH_MEM, PYTHON is the requirement instead');
      expect(help).toContain('titan run train.py -- GPU (GPU is an argument of the script)');
    });
  });

  describe('how a job that did not complete is reported', () => {
    let failedRef = '';

    beforeAll(async () => {
      const r = await cluster.cli(['run', tmp.file('fail.py'), '--retries', '0']);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/ DEAD \(exit code 4\)\n$/);
      failedRef = /submitted (\S+)/.exec(r.stderr)?.[1] ?? '';
    });

    it('titan logs -f exits 1 with the final status on stderr when the job is DEAD', async () => {
      const r = await cluster.cli(['logs', failedRef, '-f']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('[job DEAD (exit code 4)]\n');
      const asJson = await cluster.cli(['logs', failedRef, '-f', '--json']);
      expect(asJson.code).toBe(1);
      expect(asJson.stdout).toBe('{"status":"DEAD"}\n');
    });

    it('titan logs -f exits 1 when the job it follows is cancelled', async () => {
      const pid = tmp.file('cancelled.pid');
      const ref = refOf((await cluster.cli(['run', '--detach', tmp.file('gated.py'), '--', pid, tmp.file('never')])).stdout);
      await readPid(pid);
      const follower = launch(['logs', ref, '-f'], env());
      try {
        const exited = new Promise<number | null>((resolve) => follower.child.once('exit', (code) => resolve(code)));
        expect((await cluster.cli(['cancel', ref])).code).toBe(0);
        await waitForOutput(follower, /\[job CANCELLED/, 20_000);
        expect(await exited).toBe(1);
        expect(follower.output()).toMatch(/^\[job CANCELLED: .+\]\n$/m);
      } finally {
        await kill(follower, 'SIGKILL');
      }
    });

    it('titan status never says the same thing twice', async () => {
      const r = await cluster.cli(['status', failedRef]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^ {2}exit code {2}4$/m);
      expect(r.stdout).not.toMatch(/^ {2}error/m);
      expect(r.stdout.match(/exit code 4/g) ?? []).toHaveLength(1); // the attempts table's DETAIL
    });

    it('titan status of a gate shows its message, not a requirement or retries it has no use for', async () => {
      const { runId } = await cluster.client().submit({ name: 'gated', jobs: [{ id: 'ok', kind: 'approval', message: 'ship it?' }] });
      const r = await cluster.cli(['status', `${runId}/ok`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ {2}gate {7}ship it\?$/m);
      expect(r.stdout).not.toMatch(/requires|retries/);
      await cluster.client().cancelRun(runId);
    });
  });

  describe('titan validate and titan submit --dry-run', () => {
    it('says a good pipeline is valid without submitting it', async () => {
      const yaml = tmp.write('good/pipeline.yaml', 'name: good\njobs:\n  - id: a\n    file: a.py\n  - id: b\n    file: a.py\n    depends_on: a\n');
      tmp.write('good/a.py', 'print(1)\n');
      const before = (await cluster.client().runsPage({ limit: 1000 })).runs.length;
      const validate = await cluster.cli(['validate', yaml]);
      expect(validate.code, validate.stderr).toBe(0);
      expect(validate.stdout).toBe('pipeline good: 2 jobs, valid\n');
      const dry = await cluster.cli(['submit', yaml, '--dry-run']);
      expect(dry.stdout).toBe('pipeline good: 2 jobs, valid\n');
      expect(JSON.parse((await cluster.cli(['validate', yaml, '--json'])).stdout)).toEqual({ valid: true, name: 'good', jobs: 2, schedule: null, nextAt: null });
      expect((await cluster.client().runsPage({ limit: 1000 })).runs.length).toBe(before);
      // No master is needed.
      const offline = await cluster.cli(['validate', yaml], { env: { TITAN_PORT: '1' } });
      expect(offline.code).toBe(0);
    });

    it('names a schedule and its next run', async () => {
      const yaml = tmp.write('nightly/pipeline.yaml', 'name: nightly\nschedule: {cron: "0 9 * * *", timezone: Europe/Berlin}\njobs:\n  - id: a\n    file: a.py\n');
      tmp.write('nightly/a.py', 'print(1)\n');
      const r = await cluster.cli(['validate', yaml]);
      expect(r.stdout).toMatch(/^pipeline nightly: 1 job, valid; scheduled "0 9 \* \* \*" \(Europe\/Berlin\), next run \d{4}-\d\d-\d\d 09:00:00 Europe\/Berlin\n$/);
    });

    it('lists what submit would refuse, with exit 2', async () => {
      tmp.write('bad/a.py', 'print(1)\n');
      const cases: [string, string, string[]][] = [
        ['typo.yaml', 'jobs:\n  - id: a\n    file: a.py\n    depend_on: b\n', ['typo.yaml:4:5: unknown key "depend_on" (did you mean "depends_on"?)']],
        ['missing.yaml', 'jobs:\n  - id: a\n    file: nothere.py\n', [`missing.yaml: job "a": cannot read ${tmp.file('bad/nothere.py')}: no such file`]],
        ['cycle.yaml', 'jobs:\n  - id: a\n    file: a.py\n    depends_on: b\n  - id: b\n    file: a.py\n    depends_on: a\n', ['cycle.yaml: the jobs form a cycle: b -> a -> b']],
        ['twice.yaml', 'jobs:\n  - id: a\n    file: a.py\n  - id: a\n    file: a.py\n    depends_on: z\n', ['twice.yaml: job id "a" is used more than once', 'twice.yaml: job "a" depends on "z", which is not a job of this run']],
        ['cron.yaml', 'schedule: "0 0 30 2 *"\njobs:\n  - id: a\n    file: a.py\n', ['cron.yaml:1:11: "schedule" never matches a date (check the day and month fields)']],
        ['named.yaml', 'name: two words\nschedule: "0 9 * * *"\njobs:\n  - id: a\n    file: a.py\n', ['named.yaml: bad pipeline name for a schedule "two words": may contain only letters, digits, "_", "-" and "." and must not start with "." or "-"']],
        ['project.yaml', 'project: true\njobs:\n  - id: a\n    file: gone.py\n', ['project.yaml:4:11: "jobs.0.file" gone.py names no file in the project folder']],
      ];
      for (const [name, text, lines] of cases) {
        const yaml = tmp.write(`bad/${name}`, text);
        for (const args of [['validate', yaml], ['submit', yaml, '--dry-run']]) {
          const r = await cluster.cli(args);
          expect(r.code, `${args.join(' ')}: ${r.stdout}`).toBe(2);
          expect(r.stderr).toBe(lines.map((line) => `titan: ${tmp.file('bad/')}${line}\n`).join(''));
          expect(r.stdout).toBe('');
        }
      }
    });
  });

  describe('the data bus commands', () => {
    it('incr adds and prints the result', async () => {
      expect((await cluster.cli(['store', 'incr', 'bus:n'])).stdout).toBe('1\n');
      expect(JSON.parse((await cluster.cli(['store', 'incr', 'bus:n', '--by', '-5', '--json'])).stdout)).toMatchObject({ key: 'bus:n', value: -4 });
      await cluster.cli(['store', 'set', 'bus:word', 'hello']);
      const notInt = await cluster.cli(['store', 'incr', 'bus:word']);
      expect(notInt.code).toBe(1);
      expect((await cluster.cli(['store', 'incr', 'bus:n', '--by', '1.5'])).code).toBe(2);
    });

    it('cas swaps only from the expected value, creates with --absent and deletes with --delete', async () => {
      await cluster.cli(['store', 'set', 'bus:state', 'idle']);
      const swap = await cluster.cli(['store', 'cas', 'bus:state', 'idle', 'busy']);
      expect(swap.code, swap.stderr).toBe(0);
      expect(swap.stdout).toMatch(/^set bus:state \(version \d+\)\n$/);
      const stale = await cluster.cli(['store', 'cas', 'bus:state', 'idle', 'busy']);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toBe('titan: bus:state was not changed: it holds "busy", not "idle"\n');
      expect((await cluster.cli(['store', 'cas', 'bus:lock', 'me', '--absent'])).code).toBe(0);
      const taken = await cluster.cli(['store', 'cas', 'bus:lock', 'you', '--absent', '--json']);
      expect(taken.code).toBe(1);
      expect(JSON.parse(taken.stdout)).toMatchObject({ key: 'bus:lock', swapped: false, value: 'me' });
      expect((await cluster.cli(['store', 'cas', 'bus:lock', 'me', '--delete'])).stdout).toBe('deleted bus:lock\n');
      expect((await cluster.cli(['store', 'get', 'bus:lock'])).code).toBe(1);
      const wrong = await cluster.cli(['store', 'cas', 'bus:lock', 'a', 'b', 'c']);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toBe('titan: 3 value(s) after the key; the form is: titan store cas KEY EXPECTED NEW\n');
    });

    it('sadd, srem and smembers keep a set', async () => {
      expect((await cluster.cli(['store', 'sadd', 'bus:seen', 'a.csv', 'b.csv', 'c.csv'])).stdout).toBe('added 3 of 3 member(s) to bus:seen\n');
      expect(JSON.parse((await cluster.cli(['store', 'sadd', 'bus:seen', 'a.csv', 'd.csv', '--json'])).stdout)).toMatchObject({ key: 'bus:seen', added: 1 });
      expect((await cluster.cli(['store', 'srem', 'bus:seen', 'a.csv', 'zzz'])).stdout).toBe('removed 1 of 2 member(s) from bus:seen\n');
      expect((await cluster.cli(['store', 'smembers', 'bus:seen'])).stdout.split('\n').filter(Boolean).sort()).toEqual(['b.csv', 'c.csv', 'd.csv']);
      expect((await cluster.cli(['store', 'smembers', 'bus:none'])).stdout).toBe('');
      const empty = await cluster.cli(['store', 'sadd', 'bus:seen', '']);
      expect(empty.code).toBe(2);
      expect(empty.stderr).toBe('titan: bad member "": a set member must not be empty\n');
    });

    it('wait returns at the next change with the value, and exits 1 when the timeout passes first', async () => {
      const waiter = launch(['store', 'wait', 'bus:ready', '--timeout', '30'], env());
      try {
        const exited = new Promise<number | null>((resolve) => waiter.child.once('exit', (code) => resolve(code)));
        // The waiter is registered once its connection is up; a set before that would be missed, so set until it returns.
        for (let i = 0; waiter.child.exitCode === null && i < 100; i++) {
          await cluster.cli(['store', 'set', 'bus:ready', `go ${i}`]);
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(await exited).toBe(0);
        expect(waiter.output()).toMatch(/^go \d+\n$/);
      } finally {
        await kill(waiter, 'SIGKILL');
      }
      const already = await cluster.cli(['store', 'wait', 'bus:ready', '--since', '0']);
      expect(already.code).toBe(0);
      expect(already.stdout).toMatch(/^go \d+\n$/);
      const late = await cluster.cli(['store', 'wait', 'bus:quiet', '--timeout', '0.5']);
      expect(late.code).toBe(1);
      expect(late.stderr).toBe('titan: bus:quiet did not change within 0.5 s\n');
    });
  });
});
