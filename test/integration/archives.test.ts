/**
 * Project mode end to end (Titan's `proj.zip/src/main.py`): a zip uploaded as a blob, its entries
 * run by a real worker from the entry's own folder inside the unpacked archive, as jobs and as a
 * service; a missing entry and a zip-slip archive fail at once with a message that says why.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, pidAlive } from '../helpers/cluster.js';
import { jobOf, waitJob, waitRun, waitRunStatus } from '../helpers/scripts.js';

/** Prints its arguments, its working directory and a data file next to it, and writes an output file. */
const MAIN_PY = `import os, sys
print("args", sys.argv[1:], flush=True)
print("cwd", os.getcwd(), flush=True)
with open("data.txt") as f:
    print("data", f.read().strip(), flush=True)
print("helper", open(os.path.join("lib", "helper.txt")).read().strip(), flush=True)
with open(os.path.join(os.environ["TITAN_OUTPUT_DIR"], "result.txt"), "w") as f:
    f.write("done")
`;

/** Another entry in another folder, reading its own sibling. */
const REPORT_PY = `import os
print("cwd", os.getcwd(), flush=True)
print("config", open("config.ini").read().strip(), flush=True)
`;

/** A service from the archive: serves a file next to it on $PORT. */
const SERVE_PY = `import http.server, os
body = open("index.html", "rb").read()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
`;

/** A dependent of the service, from the same archive. */
const FETCH_PY = `import os, urllib.request
with urllib.request.urlopen(f"http://{os.environ['TITAN_SERVICE_WEB']}/", timeout=10) as res:
    print("fetched", res.read().decode(), flush=True)
`;

const PROJECT = Buffer.from(
  zipSync({
    src: { 'main.py': strToU8(MAIN_PY), 'data.txt': strToU8('hello from data.txt\n'), lib: { 'helper.txt': strToU8('nested helper') } },
    tools: { 'report.py': strToU8(REPORT_PY), 'config.ini': strToU8('mode=report') },
    web: { 'serve.py': strToU8(SERVE_PY), 'index.html': strToU8('<h1>archived</h1>'), 'fetch.py': strToU8(FETCH_PY) },
    'README.md': strToU8('a project'),
  }),
);

/** A zip-slip archive: its second entry climbs out of the extraction folder. */
const EVIL = Buffer.from(zipSync({ 'main.py': strToU8('print("never runs")\n'), '../evil.txt': strToU8('escaped') }));

/** Uploads content as a blob, as the SDK does for scripts, and returns its sha256. */
async function uploadBlob(client: TitanClient, content: Buffer): Promise<string> {
  const sha256 = createHash('sha256').update(content).digest('hex');
  const { missing } = await client.call('blob.missing', { hashes: [sha256] });
  // The test archives are far below one chunk (BLOB_CHUNK_BYTES).
  if (missing.includes(sha256)) await client.call('blob.put', { sha256, offset: 0, data: content.toString('base64'), final: true });
  return sha256;
}

/** Every file name under `dir`, recursively. */
function namesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split('/').pop() as string);
}

describe('archives (project mode)', () => {
  const cluster = new Cluster();
  let client: TitanClient;
  let project: string;
  let workDir: string;
  const servicePids = new Set<number>();

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 4 });
    client = cluster.client();
    project = await uploadBlob(client, PROJECT);
    // The worker reports its cwd resolved; compare against the resolved path.
    workDir = join(realpathSync(cluster.dir), 'worker-0');
  });

  afterAll(async () => {
    for (const pid of servicePids) {
      if (!pidAlive(pid)) continue;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await cluster.stop();
  });

  it('runs entries from their own folder inside the unpacked archive, with their arguments', async () => {
    const { runId } = await client.submit({
      name: 'project',
      jobs: [
        { id: 'main', archive: { name: 'proj.zip', sha256: project, entry: 'src/main.py' }, args: ['a', 'two words'] },
        { id: 'report', archive: { name: 'proj.zip', sha256: project, entry: 'tools/report.py' } },
      ],
    });
    const view = await waitRunStatus(client, runId, 'COMPLETED');
    expect(jobOf(view, 'main').attempt).toBe(1);

    const attemptDir = join(workDir, 'runs', runId, 'main.1');
    // The worker appends a note on the output file it published.
    expect(await client.logs(`${runId}/main`)).toBe(
      [`args ['a', 'two words']`, `cwd ${join(attemptDir, 'archive', 'src')}`, 'data hello from data.txt', 'helper nested helper', `[titan: published 1 output file (4 bytes) as artifacts under runs/${runId}/main/1/]`, ''].join('\n'),
    );
    expect(await client.logs(`${runId}/report`)).toBe(`cwd ${join(workDir, 'runs', runId, 'report.1', 'archive', 'tools')}\nconfig mode=report\n`);

    // Each attempt has its own copy, beside (not inside) its output folder, which was published.
    expect(existsSync(join(attemptDir, 'archive', 'README.md'))).toBe(true);
    expect(existsSync(join(attemptDir, 'archive', 'out'))).toBe(false);
    expect(existsSync(join(attemptDir, 'out', 'result.txt'))).toBe(true);
    const artifacts = await client.listArtifacts({ runId });
    expect(artifacts.map((a) => a.key).filter((k) => k.endsWith('result.txt'))).toHaveLength(1);
    // The zip itself sits once in the worker's cache.
    expect(existsSync(join(workDir, 'cache', project, 'proj.zip'))).toBe(true);
  });

  it('fails a missing entry at once, naming the entry and the archive', async () => {
    const { runId } = await client.submit({ name: 'missing-entry', jobs: [{ id: 'nope', archive: { name: 'proj.zip', sha256: project, entry: 'src/nope.py' }, retries: 3 }] });
    const job = await waitJob(client, `${runId}/nope`, ['DEAD', 'COMPLETED']);
    expect(job.status).toBe('DEAD');
    expect(job.error).toBe('entry src/nope.py not found in archive proj.zip');
    // Not retried: the same archive would fail the same way.
    expect(job.attempt).toBe(1);
    expect((await waitRun(client, runId)).run.status).toBe('FAILED');
  });

  it('refuses a zip-slip archive with BAD_ARCHIVE at once, writing nothing outside the extraction folder', async () => {
    const evil = await uploadBlob(client, EVIL);
    const { runId } = await client.submit({ name: 'zip-slip', jobs: [{ id: 'slip', archive: { name: 'evil.zip', sha256: evil, entry: 'main.py' }, retries: 3 }] });
    const job = await waitJob(client, `${runId}/slip`, ['DEAD', 'COMPLETED']);
    expect(job.status).toBe('DEAD');
    expect(job.error).toBe('cannot unpack evil.zip: archive entry "../evil.txt" is not a relative path inside the archive');
    expect(job.attempt).toBe(1);
    expect(await client.logs(`${runId}/slip`)).toBe('');
    expect(namesUnder(cluster.dir)).not.toContain('evil.txt');
    // The archive was refused whole: not even its harmless entry was written.
    const attemptDir = join(workDir, 'runs', runId, 'slip.1');
    if (existsSync(attemptDir)) expect(namesUnder(attemptDir)).not.toContain('main.py');
  });

  it('fails an archive that is not a zip with BAD_ARCHIVE', async () => {
    const junk = await uploadBlob(client, Buffer.from('this is not a zip file at all\n'));
    const { runId } = await client.submit({ name: 'not-a-zip', jobs: [{ id: 'junk', archive: { name: 'junk.zip', sha256: junk, entry: 'main.py' } }] });
    const job = await waitJob(client, `${runId}/junk`, ['DEAD', 'COMPLETED']);
    expect(job.status).toBe('DEAD');
    expect(job.error).toMatch(/^cannot unpack junk\.zip: the archive is not a valid zip file/);
    expect(job.attempt).toBe(1);
  });

  it('runs a service from an archive, and a dependent from the same archive reaches it', async () => {
    const { runId } = await client.submit({
      name: 'archived-service',
      jobs: [
        { id: 'web', kind: 'service', archive: { name: 'proj.zip', sha256: project, entry: 'web/serve.py' }, service: { readiness: '/', readyTimeoutMs: 20_000 } },
        { id: 'fetch', archive: { name: 'proj.zip', sha256: project, entry: 'web/fetch.py' }, dependsOn: ['web'], retries: 0 },
      ],
    });
    const fetched = await waitJob(client, `${runId}/fetch`, ['COMPLETED', 'DEAD', 'SKIPPED']);
    expect(fetched.status, fetched.error ?? '').toBe('COMPLETED');
    expect(await client.logs(`${runId}/fetch`)).toBe('fetched <h1>archived</h1>\n');
    const web = (await client.getJob(`${runId}/web`)).job;
    if (web.service?.pid) servicePids.add(web.service.pid);
    expect(web.status).toBe('RUNNING');
    await client.stopService(`${runId}/web`);
    await waitRunStatus(client, runId, 'COMPLETED');
  });
});
