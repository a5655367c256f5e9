/**
 * `titan limits` on a real master and worker: a limit set from the CLI holds a pipeline's jobs
 * that declare its key to one at a time (the table shows the holder and the waiter), bad flags
 * exit 2 naming the flag, and removing the limit lets the waiter run. A pipeline whose key has a
 * placeholder the run cannot fill is refused by the master, and `titan submit` says why.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowKeyView } from '../../src/protocol/flow-methods.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { TempDir, waitRun } from '../helpers/scripts.js';

describe('titan limits', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-limits-');
  let client: TitanClient;

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4 });
    client = cluster.client();
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  const limitsJson = async (): Promise<FlowKeyView[]> => {
    const res = await cluster.cli(['limits', '--json']);
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout) as FlowKeyView[];
  };

  it('sets a limit that holds the jobs declaring its key, lists holders and waiters, and removes it', async () => {
    const empty = await cluster.cli(['limits']);
    expect([empty.code, empty.stdout]).toEqual([0, 'no limits set and no job holds or waits for a key\n']);

    const set = await cluster.cli(['limits', 'set', 'openai', '--concurrency', '1', '--rate', '600/minute', '--burst', '5']);
    expect([set.code, set.stderr, set.stdout]).toEqual([0, '', 'openai: 1 at once, 600/minute (burst 5)\n']);

    const release = join(cluster.dir, 'release');
    tmp.write('hold.sh', 'while [ ! -f "$RELEASE" ]; do sleep 0.1; done\necho "$TITAN_JOB_ID done"\n');
    // The pipeline's own limit (3) is overruled by the cluster's (1).
    const job = (id: string): string[] => [`  - id: ${id}`, '    file: hold.sh', `    env: {RELEASE: "${release}"}`, '    concurrency: {key: openai, limit: 3}', '    rate_limit: {key: openai, limit: 100, per: minute}'];
    tmp.write('pipeline.yaml', ['name: held', 'jobs:', ...job('a'), ...job('b'), ''].join('\n'));
    const submitted = await cluster.cli(['submit', tmp.file('pipeline.yaml'), '--json']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const { runId } = JSON.parse(submitted.stdout) as { runId: string };

    const openai = await eventually(async () => (await limitsJson()).find((k) => k.key === 'openai' && k.holders.length === 1 && k.waiters === 1), 20_000, 'one holder and one waiter');
    expect(openai.limit).toEqual({ key: 'openai', concurrency: 1, rate: { limit: 600, per: 'minute', burst: 5 } });
    const table = await cluster.cli(['limits', 'ls']);
    expect(table.code, table.stderr).toBe(0);
    const [header, row] = table.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['KEY', 'LIMIT', 'RUNNING', 'WAITING', 'NEXT TOKEN']);
    expect(row?.split(/\s{2,}/)).toEqual(['openai', '1 at once, 600/minute (burst 5)', '1/1', '1', '-']);

    const removed = await cluster.cli(['limits', 'rm', 'openai']);
    expect([removed.code, removed.stdout]).toEqual([0, 'openai: limit removed\n']);
    // The jobs' own limit of 3 applies again: both hold the key at once.
    await eventually(async () => (await limitsJson()).find((k) => k.key === 'openai' && k.holders.length === 2 && k.waiters === 0 && k.limit === null), 20_000, 'both jobs running');
    writeFileSync(release, '');
    const view = await waitRun(client, runId);
    expect(view.jobs.map((j) => j.status)).toEqual(['COMPLETED', 'COMPLETED']);

    const again = await cluster.cli(['limits', 'remove', 'openai']);
    expect([again.code, again.stdout]).toEqual([0, 'openai had no limit\n']);
  });

  it.each([
    [['set', 'openai'], 'titan: give --concurrency N, --rate N/second|minute|hour|day or --weight N for openai (to remove its limit: titan limits rm openai)\n'],
    [['set', 'openai', '--concurrency', '0'], 'titan: --concurrency: Too small: expected number to be >=1\n'],
    [['set', 'openai', '--rate', '5/fortnight'], 'titan: --rate is N/PERIOD with PERIOD one of second, minute, hour, day (e.g. 60/minute), got "5/fortnight"\n'],
    [['set', 'openai', '--burst', '2'], 'titan: --burst sizes a rate limit: give --rate N/PERIOD with it\n'],
    [['set', 'open ai', '--weight', '2'], /^titan: KEY: a key contains only letters, digits/],
    [['sett', 'openai'], /unknown command 'sett'/],
  ])('refuses limits %j with exit 2', async (args, message) => {
    const res = await cluster.cli(['limits', ...args]);
    expect(res.code).toBe(2);
    if (typeof message === 'string') expect(res.stderr).toBe(message);
    else expect(res.stderr).toMatch(message);
    expect((await client.limits.list()).filter((k) => k.limit !== null)).toEqual([]);
  });

  it("says why the master refuses a key whose placeholder the run cannot fill, and a bad flow field's job", async () => {
    tmp.write('echo.sh', 'echo hi\n');
    tmp.write('tenant.yaml', ['name: tenants', 'tags: [team=ml]', 'jobs:', '  - id: ask', '    file: echo.sh', '    concurrency: {key: "tenant-{tags.customer}", limit: 2}', ''].join('\n'));
    const refused = await cluster.cli(['submit', tmp.file('tenant.yaml')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('titan: job ask: concurrency key "tenant-{tags.customer}": {tags.customer} needs a tag "customer=<value>" on the run (its tags: team=ml) [BAD_REQUEST]\n');

    tmp.write('fortnight.yaml', ['jobs:', '  - id: ask', '    file: echo.sh', '    rate_limit: {key: openai, limit: 5, per: fortnight}', ''].join('\n'));
    const bad = await cluster.cli(['submit', tmp.file('fortnight.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`titan: ${tmp.file('fortnight.yaml')}:4:46: "jobs.0.rate_limit.per" (job "ask") Invalid option: expected one of "second"|"minute"|"hour"|"day"\n`);
  });
});
