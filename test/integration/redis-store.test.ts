/**
 * A master on a Redis store (`--store redis://…`), with real processes: the master killed -9
 * mid-run and restarted recovers from Redis alone; redis-server killed -9 mid-run and restarted
 * (AOF, appendfsync always) loses nothing and the run completes; Redis stopped while idle makes
 * submissions fail with an error naming it, and once it is back everything acknowledged before is
 * still there. Every job appends its id to a file as its last act, so the file tells how often each
 * job's work was done. Required in CI: without redis-server these tests fail instead of skipping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobInput, TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually, runCli } from '../helpers/cluster.js';
import { APPEND_SCRIPT, killNine, notExactlyOnce, readLines, sleep, waitRunDone } from '../helpers/faults.js';
import { RedisServer, redisServerBinary } from '../helpers/redis.js';
import { freePort } from '../helpers/scripts.js';

const available = redisServerBinary() !== null;
const required = process.env.CI === 'true' || process.env.CI === '1';

if (!available && required) {
  describe('master on a Redis store', () => {
    it('runs in CI', () => {
      throw new Error('redis-server is not installed: the Redis store tests are required in CI (.ci/run installs redis-server)');
    });
  });
}

let cluster: Cluster | null = null;
let redis: RedisServer | null = null;

afterEach(async () => {
  await cluster?.stop();
  cluster = null;
  await redis?.remove();
  redis = null;
});

/** A private redis-server and a master on it with `workers` 4-slot workers. */
async function redisCluster(workers: number, masterArgs: string[] = []): Promise<{ c: Cluster; r: RedisServer }> {
  const r = await RedisServer.start();
  redis = r;
  const c = new Cluster(['--store', r.url, ...masterArgs]);
  cluster = c;
  await c.startMaster();
  for (let i = 0; i < workers; i++) await c.startWorker({ slots: 4 });
  return { c, r };
}

/** `layers` × `width` jobs; each waits for two jobs of the layer before. */
function layeredDag(layers: number, width: number, appendFile: string): JobInput[] {
  const id = (l: number, i: number): string => `L${l}-${i}`;
  const jobs: JobInput[] = [];
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      const seconds = (0.05 + ((l * 37 + i * 61) % 101) / 1000).toFixed(3);
      jobs.push({ id: id(l, i), script: APPEND_SCRIPT, args: [id(l, i), seconds, appendFile], dependsOn: l === 0 ? [] : [...new Set([id(l - 1, i), id(l - 1, (i + 1) % width)])] });
    }
  }
  return jobs;
}

async function expectAllOnce(client: TitanClient, runId: string, jobs: readonly JobInput[], appendFile: string, context: () => string): Promise<void> {
  const final = await waitRunDone(client, runId, 90_000);
  const ids = jobs.map((j) => j.id);
  expect(notExactlyOnce(ids, readLines(appendFile)), context()).toEqual({});
  expect(final.jobs.filter((j) => j.status !== 'COMPLETED').map((j) => `${j.spec.id}:${j.status}`)).toEqual([]);
  expect(final.run.status).toBe('COMPLETED');
}

describe('titan master --store', () => {
  it.each([
    ['http://127.0.0.1:6379', /must be sqlite or a Redis URL/],
    ['redis://127.0.0.1:6379/zero', /the Redis database in the URL must be a number/],
  ])('refuses %s before starting anything', async (value, message) => {
    const { code, stderr } = await runCli(['master', '--store', value, '--port', '0', '--http-port', '0']);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('names the Redis server it cannot reach, without its password, in one line, and exits 3 (unavailable)', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'titan-store-'));
    try {
      const { code, stderr } = await runCli(['master', '--store', `redis://:hunter2@127.0.0.1:${port}/0`, '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--token', 't']);
      expect(code).toBe(3);
      expect(stderr).toMatch(new RegExp(`^titan: cannot reach the Redis store at redis://127\\.0\\.0\\.1:${port}/0: .*ECONNREFUSED.*\\n$`));
      expect(stderr).not.toContain('hunter2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(available)('master on a Redis store', () => {
  it('finishes a DAG exactly once when the master is killed -9 mid-run and restarted from Redis alone', { timeout: 120_000 }, async () => {
    const { c } = await redisCluster(2, ['--reclaim-grace', '5']);
    const appendFile = join(c.dir, 'append.txt');
    const jobs = layeredDag(10, 6, appendFile);
    const client = c.client();
    const { runId } = await client.submit({ name: 'master-kill', jobs });

    await eventually(() => readLines(appendFile).length >= 15, 60_000, 'a quarter of the jobs to complete');
    const first = c.master ?? expect.unreachable('no master');
    await killNine(first.child);
    expect(readLines(appendFile).length).toBeLessThan(jobs.length);
    client.close();
    await sleep(500);
    // The master keeps nothing but logs on its disk: its state comes back from Redis.
    await c.startMaster();
    const after = c.client();
    await expectAllOnce(after, runId, jobs, appendFile, () => `first master:\n${first.output()}\nsecond master:\n${c.master?.output()}`);
    expect((await after.listRuns({ limit: 100 })).map((r) => r.runId)).toContain(runId);
  });

  it('finishes a run exactly once when redis-server is killed -9 mid-run and restarted (AOF)', { timeout: 120_000 }, async () => {
    const { c, r } = await redisCluster(2);
    const appendFile = join(c.dir, 'append.txt');
    const jobs = layeredDag(8, 6, appendFile);
    const client = c.client();
    const { runId } = await client.submit({ name: 'redis-kill', jobs });

    await eventually(() => readLines(appendFile).length >= 10, 60_000, 'some jobs to complete');
    await r.stop('SIGKILL');
    // Jobs keep finishing on the workers; their results wait for the store.
    await sleep(1_500);
    expect(readLines(appendFile).length).toBeLessThan(jobs.length);
    await r.start();
    await expectAllOnce(client, runId, jobs, appendFile, () => `master:\n${c.master?.output()}\nredis:\n${r.output()}`);
    const out = c.master?.output() ?? '';
    expect(out).toMatch(/lost the connection to the Redis store at redis:\/\/127\.0\.0\.1:\d+\/0/);
    expect(out).toMatch(/reconnected to the Redis store/);
    // Work went on during the outage: a commit was held and went through afterwards.
    expect(out).toMatch(/holding the commit in flight/);
    expect(out).toMatch(/the store is back: the held commit went through/);
    // The master held on through the outage: it never exited.
    expect(c.master?.child.exitCode).toBeNull();
  });

  it('refuses submissions while Redis is down, naming it, and keeps everything acknowledged before', { timeout: 120_000 }, async () => {
    const { c, r } = await redisCluster(1);
    const appendFile = join(c.dir, 'append.txt');
    const client = c.client();
    const acknowledged: string[] = [];
    for (let i = 0; i < 3; i++) acknowledged.push((await client.submit({ name: `before-${i}`, jobs: [{ id: 'j', script: APPEND_SCRIPT, args: [`before-${i}`, '0', appendFile] }] })).runId);
    for (const runId of acknowledged) await waitRunDone(client, runId, 30_000);
    expect((await c.cli(['store', 'set', 'user:greeting', 'hello'])).code).toBe(0);

    await r.stop('SIGTERM');
    await eventually(() => /lost the connection to the Redis store/.test(c.master?.output() ?? ''), 10_000, 'the master to notice');
    const refused = await client.submit({ name: 'during', jobs: [{ id: 'j', script: APPEND_SCRIPT, args: ['during', '0', appendFile] }] }).catch((e: unknown) => e as Error & { code?: string });
    expect(refused).toBeInstanceOf(Error);
    expect((refused as { code?: string }).code).toBe('UNAVAILABLE');
    expect((refused as Error).message).toMatch(/the submission was not accepted: the Redis store at redis:\/\/127\.0\.0\.1:\d+\/0 is unreachable/);
    const cliRefused = await c.cli(['store', 'set', 'user:k', 'v']);
    expect(cliRefused.code).not.toBe(0);
    expect(cliRefused.stderr).toMatch(/Redis store at redis:\/\/127\.0\.0\.1:\d+\/0 is unreachable/);
    expect(c.master?.child.exitCode).toBeNull();

    await r.start();
    const { runId } = await eventually(
      () => client.submit({ name: 'after', jobs: [{ id: 'j', script: APPEND_SCRIPT, args: ['after', '0', appendFile] }] }),
      20_000,
      'a submission to be accepted again',
    );
    expect((await waitRunDone(client, runId, 30_000)).run.status).toBe('COMPLETED');
    const listed = (await client.listRuns({ limit: 100 })).map((x) => x.runId);
    for (const id of acknowledged) {
      expect(listed).toContain(id);
      expect((await client.getRun(id)).jobs.map((j) => j.status)).toEqual(['COMPLETED']);
    }
    expect((await c.cli(['store', 'get', 'user:greeting'])).stdout.trim()).toBe('hello');
    // The refused submission left nothing behind.
    expect(readLines(appendFile).sort()).toEqual(['after', 'before-0', 'before-1', 'before-2']);
    expect((await client.listRuns({ limit: 100 })).filter((x) => x.name === 'during')).toEqual([]);
  });
});
