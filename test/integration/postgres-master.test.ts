/**
 * A master on a PostgreSQL store (`--store postgres://…`), with real processes and a private
 * PostgreSQL server: a pipeline runs to completion, the master is killed -9 and restarted on the
 * same database, and everything the run produced is there. A bad URL is refused before anything
 * starts; an unreachable server is one line without its password, exit 3. Required in CI: without
 * PostgreSQL these tests fail instead of skipping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster, runCli } from '../helpers/cluster.js';
import { APPEND_SCRIPT, killNine, readLines, sleep, waitRunDone } from '../helpers/faults.js';
import { postgresAvailable, PostgresServer } from '../helpers/postgres.js';
import { freePort } from '../helpers/scripts.js';

const available = postgresAvailable('master on a PostgreSQL store');

let cluster: Cluster | null = null;
let postgres: PostgresServer | null = null;

afterEach(async () => {
  await cluster?.stop();
  cluster = null;
  await postgres?.remove();
  postgres = null;
}, 60_000);

describe('titan master --store postgres://…', () => {
  it('refuses a URL that names no database before starting anything', async () => {
    const { code, stderr } = await runCli(['master', '--store', 'postgres://titan:hunter2@127.0.0.1:5432', '--port', '0', '--http-port', '0']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/must name one database/);
    expect(stderr).not.toContain('hunter2');
  });

  it('names the PostgreSQL server it cannot reach, without its password, in one line, and exits 3 (unavailable)', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'titan-store-'));
    try {
      const { code, stderr } = await runCli(['master', '--store', `postgresql://titan:hunter2@127.0.0.1:${port}/titan`, '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--token', 't']);
      expect(code).toBe(3);
      expect(stderr).toMatch(new RegExp(`^titan: cannot reach the PostgreSQL store at postgres://titan@127\\.0\\.0\\.1:${port}/titan: .*ECONNREFUSED.*\\n$`));
      expect(stderr).not.toContain('hunter2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(available)('master on a PostgreSQL store', () => {
  it('runs a pipeline to completion, and after a kill -9 and a restart on the same database its results are all there', { timeout: 180_000 }, async () => {
    postgres = await PostgresServer.start();
    const c = new Cluster(['--store', postgres.url]);
    cluster = c;
    await c.startMaster();
    expect(c.master?.output()).toMatch(/state is kept in the PostgreSQL store at postgres:\/\/titan@127\.0\.0\.1:\d+\/titan/);
    await c.startWorker({ slots: 2 });
    const appendFile = join(c.dir, 'append.txt');
    const step = (id: string, dependsOn: string[] = []) => ({ id, script: APPEND_SCRIPT, args: [id, '0.05', appendFile], dependsOn });
    const jobs = [step('fetch'), step('build', ['fetch']), step('test', ['fetch']), step('ship', ['build', 'test'])];
    const client = c.client();
    const { runId } = await client.submit({ name: 'pg-pipeline', jobs, tags: ['pg'] });
    const done = await waitRunDone(client, runId, 60_000);
    expect(done.run.status).toBe('COMPLETED');
    expect((await c.cli(['store', 'set', 'release:version', '1.2.3'])).code).toBe(0);
    const before = await client.getRun(runId);

    const first = c.master ?? expect.unreachable('no master');
    await killNine(first.child);
    client.close();
    await sleep(300);
    await c.startMaster();
    const after = c.client();

    const again = await after.getRun(runId);
    expect(again.run).toEqual(before.run);
    expect(again.jobs.map((j) => [j.spec.id, j.status, j.attempt])).toEqual(before.jobs.map((j) => [j.spec.id, 'COMPLETED', 1]));
    expect((await after.listRuns({ limit: 10, tag: 'pg' })).map((r) => r.runId)).toEqual([runId]);
    expect((await c.cli(['store', 'get', 'release:version'])).stdout.trim()).toBe('1.2.3');
    // The work was done once: nothing ran again after the restart.
    expect(readLines(appendFile).sort()).toEqual(['build', 'fetch', 'ship', 'test']);
  });
});
