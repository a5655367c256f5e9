/**
 * Tokens derived from the cluster token: a worker token registers workers and nothing else (and a
 * worker holding it still gives its jobs working job tokens); a read token reads over TCP and
 * HTTP and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobToken, readToken, workerToken } from '../../src/protocol/derived-tokens.js';
import { TitanClient } from '../../src/sdk/client.js';
import { Cluster } from '../helpers/cluster.js';
import { py, refusal, waitJob, waitRunStatus } from '../helpers/scripts.js';

describe('worker and read tokens', () => {
  const cluster = new Cluster();
  beforeAll(() => cluster.startMaster());
  afterAll(() => cluster.stop());

  const as = (token: string): TitanClient => {
    const c = new TitanClient({ host: '127.0.0.1', port: cluster.port, token });
    afterAll(() => c.close());
    return c;
  };

  it('titan token --role prints the derived tokens', async () => {
    const worker = await cluster.cli(['token', '--role', 'worker']);
    expect(worker.stdout.trim()).toBe(workerToken(cluster.token));
    const read = await cluster.cli(['token', '--role', 'read', '--json']);
    expect(JSON.parse(read.stdout)).toEqual({ token: readToken(cluster.token), role: 'read' });
    const twice = await cluster.cli(['token', '--role', 'read'], { env: { TITAN_TOKEN: workerToken(cluster.token) } });
    expect(twice.code).toBe(2);
  });

  it('a worker with the worker token joins and runs jobs whose SDK works, but the token is no client', async () => {
    // The later --token wins: this worker holds only the worker token.
    await cluster.startWorker({ capabilities: ['TOKENS'], port: 8401, args: ['--token', workerToken(cluster.token)] });
    const client = cluster.client();
    const { runId } = await client.submit({
      name: 'worker-token',
      jobs: [{ id: 'sdk', requirement: 'TOKENS', script: py('from titan_sdk import TitanClient\nc = TitanClient()\nc.store_put("wt", "ok")\nprint("sdk", c.store_get("wt"))\n', 'sdk.py') }],
    });
    await waitRunStatus(client, runId, 'COMPLETED');
    expect(await client.logs(`${runId}/sdk`)).toContain('sdk ok');

    const refused = await refusal(as(workerToken(cluster.token)).workers());
    expect(refused.code).toBe('UNAUTHORIZED');
    expect(refused.message).toMatch(/the worker token only registers workers/);
    // Nor can it be turned into a job's token: those are minted by the master only. The run is
    // still running, so the master's own token for it is accepted and the forged one is not.
    const held = await client.submit({ name: 'held', jobs: [{ id: 'hold', requirement: 'TOKENS', script: { name: 'hold.sh', content: 'sleep 60\n' } }] });
    await waitJob(client, `${held.runId}/hold`, 'RUNNING');
    const attempt = { runId: held.runId, jobId: 'hold', attempt: 1 };
    expect(Array.isArray(await as(jobToken(cluster.token, attempt)).workers())).toBe(true);
    const minted = await refusal(as(jobToken(workerToken(cluster.token), attempt)).workers());
    expect(minted.code).toBe('UNAUTHORIZED');
    await client.cancelRun(held.runId);
  });

  it('a read token reads over TCP and HTTP and is refused every change', async () => {
    const reader = as(readToken(cluster.token));
    expect(Array.isArray(await reader.workers())).toBe(true);
    expect((await reader.stats()).totals.submitted).toBeGreaterThanOrEqual(0);
    const submit = await refusal(reader.submit({ name: 'nope', jobs: [{ id: 'x', script: py('print(1)\n', 'x.py') }] }));
    expect(submit.code).toBe('FORBIDDEN');
    expect(submit.message).toMatch(/a read token cannot call it/);
    expect((await refusal(reader.storePut('k', 'v'))).code).toBe('FORBIDDEN');

    const base = `http://127.0.0.1:${cluster.httpPort}`;
    const headers = { authorization: `Bearer ${readToken(cluster.token)}` };
    expect((await fetch(`${base}/api/stats`, { headers })).status).toBe(200);
    expect((await fetch(`${base}/api/runs/none/cancel`, { method: 'POST', headers })).status).toBe(403);
    expect((await fetch(`${base}/api/stats`, { headers: { authorization: `Bearer ${workerToken(cluster.token)}` } })).status).toBe(401);
  });
});
