/**
 * Job output keeps its streams: a job writing stdout and stderr in turn, run by a real worker,
 * is stored by the master as one text exactly as `titan logs` prints it, with the byte ranges
 * that came from stderr beside it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../helpers/cluster.js';
import { py, waitJob } from '../helpers/scripts.js';

/** Six lines to each stream in turn (pauses keep the order across the two pipes). */
const INTERLEAVED = py(
  `import sys, time
for i in range(6):
    sys.stdout.write(f"out {i} \u00e9\\n"); sys.stdout.flush(); time.sleep(0.03)
    sys.stderr.write(f"err {i}\\n"); sys.stderr.flush(); time.sleep(0.03)
`,
  'interleaved.py',
);

describe('stdout and stderr of a job', () => {
  const cluster = new Cluster();
  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
  });
  afterAll(() => cluster.stop());

  it('are stored as one text with the stderr ranges beside it; titan logs prints the text unchanged', async () => {
    const client = cluster.client();
    const { runId } = await client.submit({ name: 'streams', jobs: [{ id: 'write', script: INTERLEAVED }] });
    await waitJob(client, `${runId}/write`, 'COMPLETED');
    const dir = join(cluster.dir, 'data', 'logs', runId, 'write');
    const stored = readFileSync(join(dir, '1.log'));
    const expected = Array.from({ length: 6 }, (_, i) => `out ${i} é\nerr ${i}\n`).join('');
    expect(stored.toString('utf8')).toBe(expected);
    const ranges = readFileSync(join(dir, '1.stderr'), 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]);
    const stderrText = ranges.map(([s, l]) => stored.subarray(s, s + l).toString('utf8'));
    expect(stderrText.join('')).toBe(expected.split(/(?<=\n)/).filter((l) => l.startsWith('err')).join(''));
    let at = 0;
    const stdoutText: string[] = [];
    for (const [s, l] of ranges) {
      stdoutText.push(stored.subarray(at, s).toString('utf8'));
      at = s + l;
    }
    expect(stdoutText.join('') + stored.subarray(at).toString('utf8')).toBe(expected.split(/(?<=\n)/).filter((l) => l.startsWith('out')).join(''));
    const cli = await cluster.cli(['logs', `${runId}/write`]);
    expect(cli.stdout).toBe(expected);
  });
});
