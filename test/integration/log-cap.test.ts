/**
 * `--max-log-mb`: a job that prints more than the cap completes, and the master keeps only the
 * first MiB of its output with a note saying the rest was dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.js';
import { py, waitJob } from '../helpers/scripts.js';

const CHATTY = py('import sys\nline = "x" * 1023 + "\\n"\nfor _ in range(3 * 1024):\n    sys.stdout.write(line)\nprint("the end")\n', 'chatty.py');

describe('the per-attempt output cap', () => {
  const cluster = new Cluster(['--max-log-mb', '1']);
  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
  });
  afterAll(() => cluster.stop());

  it('keeps the first MiB of a 3 MiB output, says it was truncated, and the job still completes', async () => {
    const client = cluster.client();
    const { runId } = await client.submit({ name: 'chatty', jobs: [{ id: 'talk', script: CHATTY }] });
    await waitJob(client, `${runId}/talk`, 'COMPLETED');
    const out = await client.logs(`${runId}/talk`);
    expect(out.length).toBeLessThan(1024 * 1024 + 200);
    expect(out.startsWith('x'.repeat(1023))).toBe(true);
    expect(out).toMatch(/\[titan: output truncated: an attempt keeps at most 1048576 bytes on the master \(--max-log-mb\)\]\n$/);
    expect(out).not.toContain('the end');
  });
});
