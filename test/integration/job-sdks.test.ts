/**
 * Both SDKs are usable from inside a job with nothing installed and nothing configured: the
 * worker puts its Python SDK on PYTHONPATH and names its TypeScript SDK in TITAN_SDK, and the
 * job's TITAN_* variables lead either one back to the master.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.js';
import { js, py, waitRun } from '../helpers/scripts.js';

describe('SDKs inside jobs', () => {
  const cluster = new Cluster();
  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
  });
  afterAll(() => cluster.stop());

  it('a Python job imports titan_sdk and a Node job imports the TypeScript SDK, each writing to the data bus', async () => {
    const pyJob = py('from titan_sdk import TitanClient\nimport os\nprint(TitanClient().store_put("sdk:py", os.environ["TITAN_JOB_ID"]))\n', 'from_python.py');
    const jsJob = js('const { TitanClient } = await import(process.env.TITAN_SDK);\nconst c = new TitanClient();\nawait c.set("sdk:js", process.env.TITAN_JOB_ID);\nc.close();\n', 'from_node.mjs');
    const client = cluster.client();
    const { runId } = await client.submit({ name: 'sdks', jobs: [{ id: 'p', script: pyJob, retries: 0 }, { id: 'n', script: jsJob, retries: 0 }] });
    const view = await waitRun(client, runId);
    expect(view.jobs.map((j) => [j.spec.id, j.status, j.error])).toEqual([
      ['p', 'COMPLETED', null],
      ['n', 'COMPLETED', null],
    ]);
    expect(await client.logs(`${runId}/p`)).toContain('OK');
    expect(await client.get('sdk:py')).toBe('p');
    expect(await client.get('sdk:js')).toBe('n');
  });
});
