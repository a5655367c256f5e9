import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.js';

describe('a real cluster', () => {
  const cluster = new Cluster();
  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
  });
  afterAll(() => cluster.stop());

  it('runs a python script with its arguments and returns its output', async () => {
    const client = cluster.client();
    const { runId, jobId } = await client.runScript({ name: 'hello.py', content: 'import sys\nprint("hi", sys.argv[1:])\n' }, ['a', 'two words']);
    const job = await client.waitForJob(`${runId}/${jobId}`);
    expect(job.status).toBe('COMPLETED');
    expect(await client.logs(`${runId}/${jobId}`)).toBe("hi ['a', 'two words']\n");
  });
});
