/**
 * Artifacts on a real cluster: a 50 MB round trip with sha256, the output files of a job on a
 * second worker reaching the master before the job completes, the CLI, and every refusal.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactInfo } from '../../src/core/data.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { py, TempDir, waitRunStatus, refusal } from '../helpers/scripts.js';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const MiB = 1024 * 1024;

describe('artifacts', () => {
  const cluster = new Cluster(['--max-artifact-mb', '60']);
  const tmp = new TempDir('titan-artifacts-');
  let remoteWorker = '';

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
    // The second worker: jobs that require REMOTE run only there, in their own work directory.
    await cluster.startWorker({ capabilities: ['REMOTE'], slots: 2 });
    remoteWorker = (await cluster.client().workers()).find((w) => w.capabilities.includes('REMOTE'))?.id ?? '';
  });
  afterAll(async () => {
    await cluster.stop();
    tmp.remove();
  });

  it('uploads and downloads 50 MB with a matching sha256, from a buffer and from a file', async () => {
    const c = cluster.client();
    const content = randomBytes(50 * MiB);
    const file = tmp.file('big.bin');
    writeFileSync(file, content);
    const published = await c.publishArtifact('big/fifty.bin', file);
    expect(published).toMatchObject({ key: 'big/fifty.bin', size: content.length, sha256: sha256(content), runId: null });

    const back = await c.getArtifact('big/fifty.bin');
    expect(back.length).toBe(content.length);
    expect(sha256(back)).toBe(sha256(content));
    const dest = tmp.file('fetched.bin');
    const fetched = await c.fetchArtifact('big/fifty.bin', dest);
    expect(fetched.sha256).toBe(sha256(readFileSync(dest)));
    expect(existsSync(`${dest}.part`)).toBe(false);

    // The same content under another key is stored once on the master.
    await c.publishArtifact('big/copy.bin', content);
    const folder = join(cluster.dir, 'data', 'artifacts', published.sha256.slice(0, 2));
    expect(readdirSync(folder)).toEqual([published.sha256]);
    expect(await c.deleteArtifact('big/copy.bin')).toBe(true);
    expect(existsSync(join(folder, published.sha256))).toBe(true);
    expect(await c.deleteArtifact('big/fifty.bin')).toBe(true);
    expect(existsSync(join(folder, published.sha256))).toBe(false);
    expect(await c.deleteArtifact('big/fifty.bin')).toBe(false);

    // An empty file is an artifact too.
    expect(await c.publishArtifact('big/empty', Buffer.alloc(0))).toMatchObject({ size: 0, sha256: sha256('') });
    expect((await c.getArtifact('big/empty')).length).toBe(0);
  });

  it("publishes a job's output files from a second worker before the job completes, for the CLI to download", async () => {
    const c = cluster.client();
    const job = py(
      `import json, os
out = os.environ["TITAN_OUTPUT_DIR"]
with open(os.path.join(out, "report.txt"), "w") as f:
    f.write("accuracy 0.97\\n")
os.makedirs(os.path.join(out, "nested"))
with open(os.path.join(out, "nested", "data.json"), "w") as f:
    json.dump({"job": os.environ["TITAN_JOB_ID"], "attempt": os.environ["TITAN_ATTEMPT"]}, f)
os.symlink("/etc/hostname", os.path.join(out, "link"))
with open(os.path.join(out, "odd:name.txt"), "w") as f:
    f.write("x")
print("wrote outputs", flush=True)
`,
      'outputs.py',
    );
    const { runId } = await c.submit({ name: 'outputs', jobs: [{ id: 'train', script: job, requirement: 'REMOTE', retries: 0 }] });
    const view = await waitRunStatus(c, runId, 'COMPLETED');
    expect(view.jobs[0]?.workerId).toBe(remoteWorker);

    // Listed as soon as the job is COMPLETED: no waiting.
    const listed = await cluster.cli(['artifacts', 'list', '--run', runId, '--json']);
    expect(listed.code).toBe(0);
    const artifacts = JSON.parse(listed.stdout) as ArtifactInfo[];
    const base = `runs/${runId}/train/1/`;
    expect(artifacts.map((a) => a.key)).toEqual([`${base}nested/data.json`, `${base}report.txt`]);
    for (const a of artifacts) expect(a).toMatchObject({ runId, jobId: 'train', attempt: 1 });

    const target = tmp.file('report.txt');
    const got = await cluster.cli(['artifacts', 'get', `${base}report.txt`, '-o', target]);
    expect(got.code).toBe(0);
    expect(got.stderr).toMatch(/^saved .*report\.txt to .* \(14 B, sha256 [0-9a-f]{12}… verified\)\n$/);
    expect(readFileSync(target, 'utf8')).toBe('accuracy 0.97\n');
    const data = await cluster.cli(['artifacts', 'get', `${base}nested/data.json`, '-o', '-']);
    expect(JSON.parse(data.stdout)).toEqual({ job: 'train', attempt: '1' });

    // What was left out is said in the job's output, with the reason.
    const logs = await c.logs(`${runId}/train`);
    expect(logs).toContain('wrote outputs\n');
    expect(logs).toContain('[titan: output file not published: link: not a regular file (symbolic links are not followed)]');
    expect(logs).toContain(`[titan: output file not published: odd:name.txt: artifact key "${base}odd:name.txt" may contain only`);
    expect(logs).toContain(`[titan: published 2 output files (${artifacts.reduce((n, a) => n + a.size, 0)} bytes) as artifacts under ${base}]`);
  });

  it('titan artifacts put, list, get and rm, with their exit codes', async () => {
    const cwd = new TempDir('titan-artifacts-cli-');
    try {
      const src = cwd.write('notes.md', '# notes\n');
      const put = await cluster.cli(['artifacts', 'put', 'docs/notes.md', src]);
      expect(put).toMatchObject({ code: 0, stdout: `published docs/notes.md (8 B, sha256 ${sha256('# notes\n')})\n` });
      const list = await cluster.cli(['artifacts', 'list', 'docs/']);
      expect(list.stdout).toMatch(/^KEY\s+SIZE\s+SHA256\s+FROM\s+CREATED\ndocs\/notes\.md\s+8 B\s+[0-9a-f]{12}\s+-\s+\d{4}-/);
      // Without -o the file is named after the key, in the current folder, and never overwritten.
      const fresh = new TempDir('titan-artifacts-get-');
      try {
        expect((await cluster.cli(['artifacts', 'get', 'docs/notes.md'], { cwd: fresh.path })).code).toBe(0);
        expect(fresh.read('notes.md')).toBe('# notes\n');
        const again = await cluster.cli(['artifacts', 'get', 'docs/notes.md'], { cwd: fresh.path });
        expect(again.code).toBe(2);
        expect(again.stderr).toContain('already exists; choose where to write with -o');
      } finally {
        fresh.remove();
      }
      expect(await cluster.cli(['artifacts', 'rm', 'docs/notes.md'])).toMatchObject({ code: 0, stdout: 'deleted docs/notes.md\n' });
      expect(await cluster.cli(['artifacts', 'rm', 'docs/notes.md'])).toMatchObject({ code: 1, stderr: 'titan: no artifact "docs/notes.md"\n' });
      const missing = await cluster.cli(['artifacts', 'get', 'docs/notes.md', '-o', cwd.file('x')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no artifact "docs/notes.md"');
      expect((await cluster.cli(['artifacts', 'put', '../escape', src])).code).toBe(2);
      expect((await cluster.cli(['artifacts', 'put', 'ok', cwd.file('absent')])).code).toBe(2);
    } finally {
      cwd.remove();
    }
  });

  it('refuses traversal keys, a wrong hash, oversized and malformed uploads with clear errors', async () => {
    const c = cluster.client();
    const keys: [string, string][] = [
      ['../etc/passwd', 'must not contain "." or ".." segments'],
      ['runs/../../x', 'must not contain "." or ".." segments'],
      ['/etc/passwd', 'must be relative (no leading "/")'],
      ['a//b', 'has an empty segment'],
      ['dir/', 'has an empty segment'],
      ['back\\slash', 'may contain only letters'],
      ['', 'must not be empty'],
    ];
    for (const [key, message] of keys) {
      const e = await refusal(c.publishArtifact(key, Buffer.from('x')));
      expect(e.code).toBe('BAD_REQUEST');
      expect(e.message).toContain(message);
    }

    const begin = (size: number) => c.call('artifact.put.begin', { key: 'bad/upload', size });
    const wrongHash = await begin(5);
    await c.call('artifact.put.part', { uploadId: wrongHash.uploadId, offset: 0, data: Buffer.from('hello').toString('base64') });
    const e = await refusal(c.call('artifact.put.commit', { uploadId: wrongHash.uploadId, sha256: sha256('world') }));
    expect(e.message).toBe(`upload of "bad/upload" does not match its sha256: expected ${sha256('world')}, got ${sha256('hello')}`);
    expect(await c.listArtifacts({ prefix: 'bad/' })).toEqual([]);

    expect((await refusal(begin(61 * MiB))).message).toBe(`artifact "bad/upload" is ${61 * MiB} bytes; this master accepts at most ${60 * MiB} (--max-artifact-mb)`);
    const overflow = await begin(3);
    expect((await refusal(c.call('artifact.put.part', { uploadId: overflow.uploadId, offset: 0, data: Buffer.from('12345').toString('base64') }))).message).toBe('upload of "bad/upload" sent more than the 3 bytes it announced');
    const gap = await begin(5);
    expect((await refusal(c.call('artifact.put.part', { uploadId: gap.uploadId, offset: 2, data: 'aGk=' }))).message).toBe('upload of "bad/upload" expected offset 0, got 2');
    expect((await refusal(c.call('artifact.put.commit', { uploadId: gap.uploadId, sha256: sha256('') }))).message).toBe('upload of "bad/upload" is incomplete: 0 of 5 bytes arrived');
    expect((await refusal(c.call('artifact.put.part', { uploadId: gap.uploadId, offset: 0, data: 'not base64!' }))).message).toContain('must be base64');
    expect((await refusal(c.getArtifact('bad/upload'))).code).toBe('NOT_FOUND');
  });

  it('discards an unfinished upload when its connection closes', async () => {
    const c = cluster.client();
    const { uploadId } = await c.call('artifact.put.begin', { key: 'cut/off', size: 10 });
    await c.call('artifact.put.part', { uploadId, offset: 0, data: Buffer.from('12345').toString('base64') });
    const uploads = join(cluster.dir, 'data', 'artifacts', 'uploads');
    expect(readdirSync(uploads)).toContain(uploadId);
    c.close();
    await eventually(() => !readdirSync(uploads).includes(uploadId), 5_000, 'the partial upload to be removed');
  });
});
