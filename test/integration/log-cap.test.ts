/**
 * `--max-log-mb`: a job that prints more than the cap completes, and the master keeps only the
 * first MiB of its output with a note saying the rest was dropped. `--max-logs-mb`: past the cap
 * on all stored output, the oldest finished run's logs go, and `titan logs` says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.js';
import { py, waitJob, waitRunStatus } from '../helpers/scripts.js';
import { eventually } from '../helpers/cluster.js';

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

const HALF_MIB = py('import sys\nsys.stdout.write(("y" * 1023 + "\\n") * 600)\n', 'half.py');

describe('the cap on all stored output', () => {
  const cluster = new Cluster(['--max-logs-mb', '1']);
  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
  });
  afterAll(() => cluster.stop());

  it("removes the oldest finished run's output first, and titan logs says why and exits 1", async () => {
    const client = cluster.client();
    const first = await client.submit({ name: 'first', jobs: [{ id: 'talk', script: HALF_MIB }] });
    await waitRunStatus(client, first.runId, 'COMPLETED');
    const second = await client.submit({ name: 'second', jobs: [{ id: 'talk', script: HALF_MIB }] });
    await waitRunStatus(client, second.runId, 'COMPLETED');
    const removed = await eventually(async () => {
      const r = await cluster.cli(['logs', `${first.runId}/talk`]);
      return r.code === 1 ? r : null;
    }, 10_000, 'the first run\'s output to be removed');
    expect(removed.stdout).toBe('');
    expect(removed.stderr).toContain('the output of this run was removed to keep stored logs under --max-logs-mb (1 MiB)');
    const kept = await cluster.cli(['logs', `${second.runId}/talk`]);
    expect(kept.code).toBe(0);
    expect(kept.stdout.length).toBe(600 * 1024);
    expect(cluster.master?.output()).toContain('removed the stored output of 1 finished run');
  });
});
