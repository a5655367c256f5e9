/**
 * The user's journey through the `titan` command against a real cluster: run a script, submit a
 * pipeline, look at jobs, runs, workers and stats, follow and cancel work.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttemptRecord, DEFAULT_CAPABILITY, DEFAULT_PRIORITY, DEFAULT_RETRIES } from '../../src/core/model.js';
import type { JobView, RunSummary, Stats, WorkerView } from '../../src/protocol/methods.js';
import { Cluster, kill, launch, runCli, waitForOutput } from '../helpers/cluster.js';
import { readPid, TempDir, waitJob, waitRunStatus } from '../helpers/scripts.js';

const GATED = `import os, sys, time
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
print("waiting", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
print("released", flush=True)
`;

describe('the titan CLI', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-cli-');
  const refOf = (stdout: string): string => {
    const ref = stdout.trim();
    expect(ref).toMatch(/^r[0-9a-z]+\/[A-Za-z0-9_.-]+$/);
    return ref;
  };

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
    await cluster.startWorker();
    tmp.write('hello.py', 'import sys\nprint("hello", sys.argv[1:])\n');
    tmp.write('exit3.py', 'print("about to fail", flush=True)\nraise SystemExit(3)\n');
    tmp.write('gated.py', GATED);
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  describe('titan run', () => {
    it('prints the output of a script with its arguments and exits 0', async () => {
      const r = await cluster.cli(['run', tmp.file('hello.py'), '--', 'arg1', 'two words']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("hello ['arg1', 'two words']\n");
      expect(r.stderr).toMatch(/submitted r[0-9a-z]+\/hello\.py/);
      expect(r.stderr).toMatch(/COMPLETED \(exit code 0\)/);
    });

    it("exits with the script's own exit code when it fails", async () => {
      const r = await cluster.cli(['run', '--retries', '0', tmp.file('exit3.py')]);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('about to fail\n');
      expect(r.stderr).toMatch(/DEAD \(exit code 3\)/);
    });

    it('shows every attempt of a retried script, and passes --env', async () => {
      const marker = tmp.file('run-flaky.marker');
      const script = tmp.write('flaky.py', `import os, sys\nprint("attempt", os.environ["TITAN_ATTEMPT"], os.environ["MODE"], os.environ["LEVEL"], flush=True)\nif not os.path.exists(sys.argv[1]):\n    open(sys.argv[1], "w").close()\n    sys.exit(1)\n`);
      const r = await cluster.cli(['run', '--env', 'MODE=fast', '--env', 'LEVEL=2', '--retries', '1', script, '--', marker]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('attempt 1 fast 2\nattempt 2 fast 2\n');
      expect(r.stderr).toContain('--- attempt 2 ---');
    });

    it('exits non-zero and names the timeout when --timeout kills the script', async () => {
      const script = tmp.write('sleepy.sh', 'echo sleeping\nsleep 300\n');
      const r = await cluster.cli(['run', '--retries', '0', '--timeout', '1', script]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('sleeping\n');
      expect(r.stderr).toMatch(/DEAD.*timed out/);
    });

    it('--detach prints the job reference and returns at once', async () => {
      const gate = tmp.file('detach.release');
      const r = await cluster.cli(['run', '--detach', tmp.file('gated.py'), '--', tmp.file('detach.pid'), gate]);
      expect(r.code).toBe(0);
      const ref = refOf(r.stdout);
      const client = cluster.client();
      expect(['QUEUED', 'RUNNING']).toContain((await client.getJob(ref)).job.status);
      writeFileSync(gate, 'go');
      expect((await waitJob(client, ref, 'COMPLETED')).status).toBe('COMPLETED');
    });
  });

  describe('titan submit', () => {
    it('--wait runs a whole pipeline, prints one line per change and exits 0', async () => {
      const dir = join(tmp.path, 'journey');
      const out = join(dir, 'out.txt');
      tmp.write('journey/scripts/prepare.py', `import json, sys\nprint(json.dumps(sys.argv[1:]))\nopen(${JSON.stringify(out)}, "a").write("prepare\\n")\n`);
      tmp.write('journey/scripts/train.sh', `echo "training on $MODEL"\necho train >> ${JSON.stringify(out)}\n`);
      tmp.write('journey/report.js', `require('fs').appendFileSync(${JSON.stringify(out)}, 'report\\n');\nconsole.log('report done');\n`);
      const yaml = tmp.write(
        'journey/pipeline.yaml',
        `name: journey
project: false
jobs:
  - id: prepare
    file: scripts/prepare.py
    args: [--day, "2026-11-24", "two words", 7]
    retries: 0
  - id: train
    file: scripts/train.sh
    depends_on: prepare
    requirement: GENERAL
    priority: 5
    delay: 0.5
    retries: 1
    timeout: 30
    env: {MODEL: tiny}
  - id: report
    file: report.js
    depends_on: [train, prepare]
`,
      );
      const r = await cluster.cli(['submit', yaml, '--wait'], { cwd: tmp.path });
      expect(r.code, r.stderr).toBe(0);
      const runId = /run (r[0-9a-z]+) \(journey\): 3 jobs/.exec(r.stderr)?.[1];
      expect(runId).toBeDefined();
      // One line per change after the first snapshot (a job may already be running in it).
      const completedAt = ['prepare', 'train', 'report'].map((id) => {
        expect(r.stdout).toMatch(new RegExp(`^${id}\\s+COMPLETED\\s+1\\s`, 'm'));
        const line = new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${id} COMPLETED$`, 'm').exec(r.stderr);
        expect(line, `a "${id} COMPLETED" line`).not.toBeNull();
        return line?.index ?? -1;
      });
      expect([...completedAt].sort((a, b) => a - b)).toEqual(completedAt);
      expect(r.stderr).toMatch(/^\d\d:\d\d:\d\d report RUNNING \(attempt 1 on 127\.0\.0\.1:\d+\)$/m);
      expect(r.stderr).toMatch(new RegExp(`run ${runId} COMPLETED in `));
      expect(tmp.read('journey/out.txt')).toBe('prepare\ntrain\nreport\n');

      // The YAML's fields reached the job specs.
      const status = await cluster.cli(['status', `${runId}/train`, '--json']);
      expect(status.code).toBe(0);
      const { job, attempts } = JSON.parse(status.stdout) as { job: JobView; attempts: AttemptRecord[] };
      expect(job.spec).toMatchObject({ id: 'train', dependsOn: ['prepare'], requirement: 'GENERAL', priority: 5, delayMs: 500, retries: 1, timeoutMs: 30_000, env: { MODEL: 'tiny' } });
      expect(job.status).toBe('COMPLETED');
      expect(attempts).toHaveLength(1);
      const prepareLogs = await cluster.cli(['logs', `${runId}/prepare`]);
      expect(JSON.parse(prepareLogs.stdout)).toEqual(['--day', '2026-11-24', 'two words', '7']);
      expect((await cluster.cli(['logs', `${runId}/train`])).stdout).toBe('training on tiny\n');
      // A bare job id means that job in its latest run; Titan's "DAG-<id>" spelling finds it too.
      expect((await cluster.cli(['logs', 'train'])).stdout).toBe('training on tiny\n');
      const legacy = JSON.parse((await cluster.cli(['status', 'DAG-train', '--json'])).stdout) as { job: JobView };
      expect(legacy.job.ref).toBe(`${runId}/train`);
    });

    it('--wait exits 1 when a job dies, showing DEAD and SKIPPED', async () => {
      tmp.write('dies/fail.py', 'import sys\nsys.exit(4)\n');
      tmp.write('dies/never.py', 'print("never")\n');
      const yaml = tmp.write(
        'dies/pipeline.yaml',
        `name: dies
project: false
jobs:
  - id: fail
    file: fail.py
    retries: 0
  - id: after
    file: never.py
    depends_on: [fail]
`,
      );
      const r = await cluster.cli(['submit', yaml, '--wait']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^fail\s+DEAD\s+1\s.*exit code 4/m);
      expect(r.stdout).toMatch(/^after\s+SKIPPED\s+0\s.*upstream job fail is DEAD/m);
      expect(r.stderr).toMatch(/^\d\d:\d\d:\d\d fail DEAD: exit code 4$/m);
      expect(r.stderr).toMatch(/run r[0-9a-z]+ FAILED in /);
    });

    it('without --wait prints the run id, and --json prints it as JSON', async () => {
      const yaml = tmp.write('quick.yaml', 'name: quick\nproject: false\njobs:\n  - id: only\n    file: hello.py\n    args: [x]\n');
      const plain = await cluster.cli(['submit', yaml]);
      expect(plain.code).toBe(0);
      expect(plain.stdout).toMatch(/^submitted run r[0-9a-z]+ \(quick\) with 1 jobs\n$/);
      const asJson = await cluster.cli(['submit', yaml, '--json']);
      expect(asJson.code).toBe(0);
      const parsed = JSON.parse(asJson.stdout) as { runId: string; jobs: string[] };
      expect(parsed.jobs).toEqual(['only']);
      await waitRunStatus(cluster.client(), parsed.runId, 'COMPLETED');
    });
  });

  describe('looking at work', () => {
    let ref = '';
    let runId = '';

    beforeAll(async () => {
      const r = await cluster.cli(['run', '--detach', tmp.file('hello.py'), '--', 'look']);
      ref = refOf(r.stdout);
      runId = ref.split('/')[0] as string;
      await waitJob(cluster.client(), ref, 'COMPLETED');
    });

    it('titan status shows the job, its spec and attempts', async () => {
      const r = await cluster.cli(['status', ref]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(ref);
      expect(r.stdout).toMatch(new RegExp(`^${ref}\\s+COMPLETED$`, 'm'));
      expect(r.stdout).toContain('hello.py "look"');
      expect(r.stdout).toMatch(new RegExp(`requires\\s+${DEFAULT_CAPABILITY}\\s+priority ${DEFAULT_PRIORITY}\\s+retries ${DEFAULT_RETRIES}`));
      expect(r.stdout).toMatch(/exit code\s+0/);
      expect(r.stdout).toMatch(/^ATTEMPT\s+WORKER/m);
      expect(r.stdout).toMatch(/^1\s+127\.0\.0\.1:\d+\s.*COMPLETED/m);
    });

    it('titan status --json is the job and its attempts', async () => {
      const r = await cluster.cli(['status', ref, '--json']);
      expect(r.code).toBe(0);
      const parsed = JSON.parse(r.stdout) as { job: JobView; attempts: AttemptRecord[] };
      expect(parsed.job.ref).toBe(ref);
      expect(parsed.job.status).toBe('COMPLETED');
      expect(parsed.job.spec.args).toEqual(['look']);
      expect(parsed.attempts.map((a) => [a.attempt, a.outcome, a.exitCode])).toEqual([[1, 'COMPLETED', 0]]);
    });

    it('titan logs prints the output of the latest or of a given attempt', async () => {
      const r = await cluster.cli(['logs', ref]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("hello ['look']\n");
      const byAttempt = await cluster.cli(['logs', ref, '--attempt', '1']);
      expect(byAttempt.stdout).toBe("hello ['look']\n");
      const noAttempt = await cluster.cli(['logs', ref, '--attempt', '2']);
      expect(noAttempt.code).toBe(1);
    });

    it('titan runs lists runs, and --json parses', async () => {
      const r = await cluster.cli(['runs']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^RUN\s+NAME\s+STATUS\s+JOBS/m);
      expect(r.stdout).toMatch(new RegExp(`^${runId}\\s+hello\\.py\\s+COMPLETED\\s+1 COMPLETED \\(1\\)`, 'm'));
      const asJson = await cluster.cli(['runs', '--json', '--limit', '1000']);
      expect(asJson.code).toBe(0);
      const runs = JSON.parse(asJson.stdout) as RunSummary[];
      const mine = runs.find((x) => x.runId === runId);
      expect(mine).toMatchObject({ runId, name: 'hello.py', status: 'COMPLETED', total: 1, counts: { COMPLETED: 1 } });
      const failed = JSON.parse((await cluster.cli(['runs', '--json', '--status', 'FAILED'])).stdout) as RunSummary[];
      for (const x of failed) expect(x.status).toBe('FAILED');
      expect(failed.map((x) => x.runId)).not.toContain(runId);
    });

    it('titan workers lists both workers, and --json parses', async () => {
      const r = await cluster.cli(['workers']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^WORKER\s+STATE\s+CAPABILITIES\s+LOAD/m);
      const asJson = await cluster.cli(['workers', '--json']);
      const workers = JSON.parse(asJson.stdout) as WorkerView[];
      expect(workers).toHaveLength(2);
      for (const w of workers) {
        expect(w).toMatchObject({ state: 'connected', capabilities: ['GENERAL'], slots: 4 });
        expect(r.stdout).toMatch(new RegExp(`^${w.id.replace(/\./g, '\\.')}\\s+connected\\s+GENERAL\\s+\\d+/4`, 'm'));
      }
    });

    it('titan stats summarises the cluster, and --json parses', async () => {
      const r = await cluster.cli(['stats']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^workers\s+2 connected of 2, \d+\/8 slots busy$/m);
      expect(r.stdout).toMatch(/^totals\s+\d+ submitted, \d+ completed, \d+ dead, \d+ attempts/m);
      const stats = JSON.parse((await cluster.cli(['stats', '--json'])).stdout) as Stats;
      expect(stats.workers).toMatchObject({ total: 2, connected: 2, slots: 8 });
      expect(stats.totals.submitted).toBeGreaterThan(0);
      expect(stats.totals.completed).toBeGreaterThan(0);
    });
  });

  describe('following and cancelling', () => {
    it('titan logs -f streams a running job until it ends', async () => {
      const gate = tmp.file('follow.release');
      const pidFile = tmp.file('follow.pid');
      const ref = refOf((await cluster.cli(['run', '--detach', tmp.file('gated.py'), '--', pidFile, gate])).stdout);
      await readPid(pidFile, 'the followed job to start');
      const follower = launch(['logs', ref, '-f'], { TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port), TITAN_TOKEN: cluster.token });
      try {
        await waitForOutput(follower, /waiting/, 20_000);
        // Still following: the job has not ended.
        expect(follower.child.exitCode).toBeNull();
        expect(follower.output()).not.toContain('released');
        const exited = new Promise<number | null>((resolve) => follower.child.once('exit', (code) => resolve(code)));
        writeFileSync(gate, 'go');
        await waitForOutput(follower, /\[job COMPLETED\]/, 20_000);
        expect(await exited).toBe(0);
        expect(follower.output()).toMatch(/waiting\nreleased\n/);
      } finally {
        writeFileSync(gate, 'go');
        await kill(follower, 'SIGKILL');
      }
    });

    it('titan cancel <job> cancels a running job', async () => {
      const pidFile = tmp.file('cancel.pid');
      const ref = refOf((await cluster.cli(['run', '--detach', tmp.file('gated.py'), '--', pidFile, tmp.file('cancel.never')])).stdout);
      await readPid(pidFile, 'the job to start');
      const r = await cluster.cli(['cancel', ref]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${ref} CANCELLED\n`);
      expect((await cluster.client().getJob(ref)).job.status).toBe('CANCELLED');
      const again = await cluster.cli(['cancel', ref]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already CANCELLED/);
    });

    it('titan cancel --run <runId> cancels a whole run', async () => {
      tmp.write('cancelrun/gated.py', GATED);
      const yaml = tmp.write(
        'cancelrun/pipeline.yaml',
        `name: to-cancel
jobs:
  - id: one
    file: gated.py
    args: [${JSON.stringify(tmp.file('cancelrun.one.pid'))}, ${JSON.stringify(tmp.file('cancelrun.never'))}]
  - id: two
    file: gated.py
    args: [${JSON.stringify(tmp.file('cancelrun.two.pid'))}, ${JSON.stringify(tmp.file('cancelrun.never'))}]
`,
      );
      const submitted = await cluster.cli(['submit', yaml]);
      const runId = /submitted run (r[0-9a-z]+)/.exec(submitted.stdout)?.[1] ?? '';
      expect(runId).not.toBe('');
      await readPid(tmp.file('cancelrun.one.pid'));
      await readPid(tmp.file('cancelrun.two.pid'));
      const r = await cluster.cli(['cancel', '--run', runId]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`cancelled 2 jobs of run ${runId}\n`);
      const view = await waitRunStatus(cluster.client(), runId, 'CANCELLED');
      expect(view.jobs.map((j) => j.status)).toEqual(['CANCELLED', 'CANCELLED']);
      const runs = JSON.parse((await cluster.cli(['runs', '--json', '--status', 'CANCELLED'])).stdout) as RunSummary[];
      expect(runs.map((x) => x.runId)).toContain(runId);
    });
  });

  describe('titan token', () => {
    it('prints the token this CLI would use', async () => {
      const r = await cluster.cli(['token', '--data-dir', join(cluster.dir, 'data')]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${cluster.token}\n`);
    });

    it('falls back to the token file of the data directory', async () => {
      // A master started without --token generates a token and keeps it in its data directory.
      const home = join(tmp.path, 'home');
      const dataDir = join(home, 'titan-data');
      const master = launch(['master', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--http-port', '0'], { TITAN_TOKEN: '' });
      try {
        const port = Number((await waitForOutput(master, /listening on 127\.0\.0\.1:(\d+)/, 20_000))[1]);
        const token = (await waitForOutput(master, /token: (\S+) \(new; saved in the data directory\)/, 20_000))[1] ?? '';
        expect(token.length).toBeGreaterThan(16);
        const noEnv = { TITAN_TOKEN: '', TITAN_HOST: '127.0.0.1', TITAN_PORT: String(port) };
        const byFlag = await runCli(['token', '--data-dir', dataDir], { env: noEnv });
        expect(byFlag.code).toBe(0);
        expect(byFlag.stdout).toBe(`${token}\n`);
        // In the folder that holds titan-data, nothing needs to be given at all.
        const byCwd = await runCli(['token'], { cwd: home, env: noEnv });
        expect(byCwd.stdout).toBe(`${token}\n`);
        const stats = await runCli(['stats', '--json'], { cwd: home, env: noEnv });
        expect(stats.code, stats.stderr).toBe(0);
        expect((JSON.parse(stats.stdout) as Stats).workers.total).toBe(0);
        const none = await runCli(['token'], { cwd: tmp.path, env: noEnv });
        expect(none.code).toBe(2);
        expect(none.stderr).toMatch(/no token/);
      } finally {
        await kill(master, 'SIGKILL');
      }
    });
  });
});
