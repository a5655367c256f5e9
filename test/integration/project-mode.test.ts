/**
 * Project mode from the YAML (`project: true`) on a real cluster: `titan submit` zips the
 * pipeline's folder, the jobs run from it with their string args split, what `.titanignore` and
 * the fixed list leave out never reaches the worker, and a second submission of the same files
 * uploads nothing (the master already has the zip's hash).
 */
import type { Connection } from '../../src/sdk/connection.js';
import { cpSync, existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadPipeline } from '../../src/cli/pipeline.js';
import { buildProjectZip } from '../../src/cli/project-zip.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, ROOT } from '../helpers/cluster.js';
import { jobOf, waitRunStatus } from '../helpers/scripts.js';

const EXAMPLE = join(ROOT, 'examples/project');

describe('project mode (project: true)', () => {
  const cluster = new Cluster();
  let client: TitanClient;
  let workDir: string;

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4 });
    client = cluster.client();
    workDir = join(realpathSync(cluster.dir), 'worker-0');
  });

  afterAll(() => cluster.stop());

  it('titan submit --wait runs the example from its zip, args split like a shell', async () => {
    const sha256 = buildProjectZip(EXAMPLE).sha256;
    expect((await client.call('blob.missing', { hashes: [sha256] })).missing).toEqual([sha256]);

    const res = await cluster.cli(['submit', join(EXAMPLE, 'pipeline.yaml'), '--wait', '--json']);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const view = JSON.parse(res.stdout) as { run: { runId: string; tags: string[] }; jobs: { spec: { id: string; archive?: { name: string; sha256: string; entry: string } } }[] };
    const runId = view.run.runId;
    expect(view.run.tags).toEqual(['example', 'project']);
    const main = view.jobs.find((j) => j.spec.id === 'main');
    expect(main?.spec.archive).toEqual({ name: 'project-demo.zip', sha256, entry: 'src/main.py' });

    const log = await client.logs(`${runId}/main`);
    expect(log).toContain('greeting: HELLO FROM THE PROJECT!\n');
    expect(log).toContain('row: Lisbon 545000\nrow: Porto 232000\nrow: Braga 193000\n');
    const files = /files: (.*)\n/.exec(log)?.[1]?.split(' ');
    expect(files).toEqual(['.titanignore', 'README.md', 'data/input.csv', 'pipeline.yaml', 'src/lib/__init__.py', 'src/lib/helpers.py', 'src/main.py', 'tools/report.py']);
    expect(log).toContain(`cwd: ${join(workDir, 'runs', runId, 'main.1', 'archive', 'src')}\n`);
    expect(await client.logs(`${runId}/report`)).toBe('report: 4 cities in data/input.csv\n');

    // On the worker's disk too: the attempt's copy has no scratch/.
    const unpacked = join(workDir, 'runs', runId, 'main.1', 'archive');
    expect(existsSync(join(unpacked, 'src', 'main.py'))).toBe(true);
    expect(existsSync(join(unpacked, 'scratch'))).toBe(false);
    expect((await client.call('blob.missing', { hashes: [sha256] })).missing).toEqual([]);
  });

  it('leaves secrets and junk out, so a copy with them is the same zip and uploads nothing', async () => {
    const copy = join(cluster.dir, 'project-copy');
    cpSync(EXAMPLE, copy, { recursive: true });
    writeFileSync(join(copy, '.env'), 'API_KEY=secret\n');
    writeFileSync(join(copy, 'notes.tmp'), 'temp');
    mkdirSync(join(copy, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(copy, 'node_modules', 'dep', 'index.js'), '');
    mkdirSync(join(copy, 'src', '__pycache__'), { recursive: true });
    writeFileSync(join(copy, 'src', '__pycache__', 'main.cpython-311.pyc'), 'bytecode');
    mkdirSync(join(copy, '.git'), { recursive: true });
    writeFileSync(join(copy, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(copy, 'data', 'dump.raw'), 'raw');
    expect(buildProjectZip(copy).sha256).toBe(buildProjectZip(EXAMPLE).sha256);

    // Submitted through the SDK as titan submit does: the only blob call asks what is missing.
    // Every request leaves through the client's connection, sent once (call) or again until answered (resend).
    const run = loadPipeline(join(copy, 'pipeline.yaml'));
    const connection = (client as unknown as { connection: Pick<Connection, 'call' | 'resend'> }).connection;
    const spies = [vi.spyOn(connection, 'call'), vi.spyOn(connection, 'resend')];
    const { runId } = await client.submit(run);
    const methods = spies.flatMap((s) => s.mock.calls.map((c) => c[0]));
    for (const s of spies) s.mockRestore();
    expect(methods).toContain('blob.missing');
    expect(methods).not.toContain('blob.put');

    const view = await waitRunStatus(client, runId, 'COMPLETED');
    expect(jobOf(view, 'main').status).toBe('COMPLETED');
    const unpacked = join(workDir, 'runs', runId, 'main.1', 'archive');
    const names = readdirSync(unpacked, { recursive: true }) as string[];
    for (const left of ['.env', 'notes.tmp', 'node_modules', '.git', 'dump.raw', 'scratch']) expect(names.some((n) => n.split('/').includes(left)), left).toBe(false);
    // Python may write its own __pycache__ for lib/ while running; the one from the folder never came.
    expect(existsSync(join(unpacked, 'src', '__pycache__', 'main.cpython-311.pyc'))).toBe(false);
  });

  it('refuses a job file that .titanignore leaves out before anything is sent', async () => {
    const copy = join(cluster.dir, 'project-bad');
    cpSync(EXAMPLE, copy, { recursive: true });
    writeFileSync(join(copy, 'pipeline.yaml'), 'name: bad\nproject: true\njobs:\n  - id: notes\n    file: scratch/notes.md\n');
    const res = await cluster.cli(['submit', join(copy, 'pipeline.yaml')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(`titan: ${join(copy, 'pipeline.yaml')}:5:11: "jobs.0.file" scratch/notes.md is left out of the project zip (by .titanignore, or as .git, .env, node_modules or __pycache__, or as not a regular file)\n`);
  });
});
