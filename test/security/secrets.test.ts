/**
 * Secrets against a real master and worker: a value set through the CLI's standard input reaches
 * the job that declares it (the job checks it against a hash it was given) and no other; it is
 * masked in the stored and streamed log, even split across two chunks of output; it is refused on
 * the command line; and it never comes back: not in any API answer (v2 and HTTP, raw JSON, with
 * the cluster token), not in any CLI output, not in the audit log (which records the hand-out),
 * not in the store's files. A job naming a secret that does not exist is refused; one whose
 * secret was removed before its dispatch fails, saying which. A job's token and the read token
 * list, set and remove nothing, and a job's token starts no job declaring a secret its own job
 * did not declare (the one that did passes it on).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/protocol/access-methods.js';
import { jobToken, readToken } from '../../src/protocol/derived-tokens.js';
import { TitanClient } from '../../src/sdk/client.js';
import { CLI, Cluster, eventually, runCli } from '../helpers/cluster.js';
import { refusal, sh, waitJob, waitRunStatus } from '../helpers/scripts.js';

const VALUE = `sk-test-${createHash('sha256').update(String(process.pid)).digest('hex').slice(0, 24)}`;
const HASH = createHash('sha256').update(VALUE).digest('hex');
/** Prints the value whole, then in two halves with a pause between (two chunks of output), and checks it against the hash it is given. */
const USES = sh(
  `echo "key=$API_KEY"
printf 'split=%s' "\${API_KEY:0:10}"
sleep 0.5
printf '%s\\n' "\${API_KEY:10}"
[ "$(printf %s "$API_KEY" | sha256sum | cut -d' ' -f1)" = "$1" ] || { echo "wrong value" >&2; exit 3; }
echo "value checked"
`,
  'uses.sh',
);
const OTHER = sh('echo "other sees ${API_KEY:-nothing}"\n', 'other.sh');

/** Every file below `dir`. */
const filesBelow = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesBelow(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));

describe('secrets', () => {
  const cluster = new Cluster();
  let admin: TitanClient;
  let runId = '';
  const opened: TitanClient[] = [];
  const url = (path: string): string => `http://127.0.0.1:${cluster.httpPort}${path}`;
  const get = async (path: string): Promise<string> => {
    const res = await fetch(url(path), { headers: { authorization: `Bearer ${cluster.token}` } });
    const text = await res.text();
    expect(res.status, `${path}: ${text}`).toBeLessThan(400);
    return text;
  };

  /** `titan secrets set NAME` with `input` on standard input. */
  const setViaStdin = (args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolvePromise) => {
      const child = spawn(process.execPath, [CLI, 'secrets', 'set', ...args], {
        cwd: cluster.dir,
        env: { ...process.env, NO_COLOR: '1', TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port), TITAN_TOKEN: cluster.token },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
      child.stdin.end(input);
    });

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
    admin = cluster.client();
    const set = await setViaStdin(['API_KEY'], `${VALUE}\n`);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('secret API_KEY set');
    ({ runId } = await admin.submit({
      name: 'secrets',
      jobs: [
        { id: 'uses', script: USES, args: [HASH], secrets: ['API_KEY'], retries: 0 },
        { id: 'other', script: OTHER, retries: 0 },
      ],
    }));
    await waitRunStatus(admin, runId, 'COMPLETED');
  }, 60_000);
  afterAll(async () => {
    for (const c of opened) c.close();
    await cluster.stop();
  });

  it('refuses a value on the command line, and sets nothing', async () => {
    const out = await cluster.cli(['secrets', 'set', 'ARGV_KEY', 'do-not-take-me']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('never given on the command line');
    expect(out.stderr).not.toContain('do-not-take-me');
    expect((await admin.call('secrets.list', {})).secrets.map((s) => s.name)).not.toContain('ARGV_KEY');
  });

  it('the declaring job receives the right value; the stored log shows the mask, even of a value split across chunks', async () => {
    const logs = await cluster.cli(['logs', `${runId}/uses`]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('key=***\n');
    expect(logs.stdout).toContain('split=***\n');
    expect(logs.stdout).toContain('value checked');
    expect(logs.stdout).not.toContain(VALUE);
    expect(logs.stdout).not.toContain(VALUE.slice(10));
    // The log file on the master's disk holds the mask too.
    const files = filesBelow(join(cluster.dir, 'data', 'logs'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(f, 'utf8')).not.toContain(VALUE.slice(10));
  });

  it('a job that did not declare it does not receive it', async () => {
    const logs = await cluster.cli(['logs', `${runId}/other`]);
    expect(logs.stdout).toContain('other sees nothing');
  });

  it('a submission declaring a secret that does not exist is refused, naming it', async () => {
    const err = await refusal(admin.submit({ name: 'missing', jobs: [{ id: 'a', script: OTHER, secrets: ['API_KEY', 'NO_SUCH_KEY'] }] }));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toContain('NO_SUCH_KEY');
    expect(err.message).not.toContain('API_KEY,');
  });

  it('a secret removed before the dispatch fails the attempt, saying which', async () => {
    const set = await setViaStdin(['SHORT_LIVED'], 'short-lived-value');
    expect(set.code, set.stderr).toBe(0);
    // Dispatched once its parent ends, which is when the test has removed the secret.
    const go = join(cluster.dir, 'go');
    const gate = sh(`while [ ! -e '${go}' ]; do sleep 0.1; done\n`, 'gate.sh');
    const { runId: late } = await admin.submit({ name: 'late', jobs: [{ id: 'first', script: gate }, { id: 'late', script: OTHER, secrets: ['SHORT_LIVED'], dependsOn: ['first'] }] });
    const rm = await cluster.cli(['secrets', 'rm', 'SHORT_LIVED']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toContain('secret SHORT_LIVED removed');
    writeFileSync(go, '');
    const job = await waitJob(admin, `${late}/late`, 'DEAD');
    expect(job.error).toContain('SHORT_LIVED');
    expect(job.error).toContain('removed');
    const again = await cluster.cli(['secrets', 'rm', 'SHORT_LIVED']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no secret named SHORT_LIVED');
  });

  it('no token reads a value back: no method returns one, and only an admin lists names', async () => {
    const operator = cluster.client(await cluster.namedToken('op', ['operator']));
    expect((await refusal(operator.call('secrets.list', {}))).code).toBe('FORBIDDEN');
    expect((await refusal(operator.call('secret.set', { name: 'API_KEY', value: 'overwritten' }))).code).toBe('FORBIDDEN');
    const res = await fetch(url('/api/secrets/API_KEY'), { headers: { authorization: `Bearer ${cluster.token}` } });
    expect(res.status).toBe(404);
  });

  it("a job's token lists, sets or removes no secret, and starts no job with a secret its own job did not declare", async () => {
    const HOLD = sh('sleep 120\n', 'hold.sh');
    const { runId: held } = await admin.submit({
      name: 'holders',
      jobs: [
        { id: 'declares', script: HOLD, secrets: ['API_KEY'], retries: 0 },
        { id: 'plain', script: HOLD, retries: 0 },
      ],
    });
    await Promise.all(['declares', 'plain'].map((id) => waitJob(admin, `${held}/${id}`, 'RUNNING')));
    const as = (jobId: string): TitanClient => {
      const c = new TitanClient({ host: '127.0.0.1', port: cluster.port, token: jobToken(cluster.token, { runId: held, jobId, attempt: 1 }) });
      opened.push(c);
      return c;
    };
    const plain = as('plain');
    for (const call of [() => plain.call('secrets.list', {}), () => plain.call('secret.set', { name: 'API_KEY', value: 'overwritten' }), () => plain.call('secret.remove', { name: 'API_KEY' })]) {
      expect((await refusal(call())).code).toBe('FORBIDDEN');
    }
    // Through a job it starts, in a run of its own or added to its run: the child would print the value in a form no mask knows.
    const leak = { id: 'leak', script: sh('echo "$API_KEY" | base64\n', 'leak.sh'), secrets: ['API_KEY'] };
    for (const attempt of [() => plain.submit({ name: 'leak', jobs: [leak] }), () => plain.extendRun([leak], held)]) {
      const err = await refusal(attempt());
      expect(err.code).toBe('FORBIDDEN');
      expect(err.message).toContain('API_KEY');
      expect(err.message).toContain(`${held}/plain did not declare`);
    }
    expect((await admin.getRun(held)).jobs.map((j) => j.spec.id).sort()).toEqual(['declares', 'plain']);
    // What it may read of its sibling that holds the secret holds no value.
    for (const answer of [await plain.call('job.get', { ref: `${held}/declares` }), await plain.call('run.get', { runId: held })]) expect(JSON.stringify(answer)).not.toContain(VALUE);
    // The job that declared it passes it on, unchanged, to a job it starts.
    const { runId: child } = await as('declares').submit({ name: 'child', jobs: [{ id: 'uses', script: USES, args: [HASH], secrets: ['API_KEY'], retries: 0 }] });
    await waitRunStatus(admin, child, 'COMPLETED');
    expect((await admin.call('job.get', { ref: `${child}/uses` })).job.spec.secrets).toEqual(['API_KEY']);
    await admin.call('run.cancel', { runId: held });
  });

  it('a read token lists, sets or removes no secret and reads no value', async () => {
    const reader = new TitanClient({ host: '127.0.0.1', port: cluster.port, token: readToken(cluster.token) });
    opened.push(reader);
    for (const call of [() => reader.call('secrets.list', {}), () => reader.call('secret.set', { name: 'API_KEY', value: 'overwritten' }), () => reader.call('secret.remove', { name: 'API_KEY' })]) {
      expect((await refusal(call())).code).toBe('FORBIDDEN');
    }
    const answers = [await reader.call('job.get', { ref: `${runId}/uses` }), await reader.call('run.get', { runId }), await reader.call('logs.get', { ref: `${runId}/uses` })].map((a) => JSON.stringify(a));
    for (const path of ['/api/secrets', '/api/secrets/API_KEY']) {
      const res = await fetch(url(path), { headers: { authorization: `Bearer ${readToken(cluster.token)}` } });
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      answers.push(await res.text());
    }
    for (const path of [`/api/runs/${runId}`, `/api/runs/${runId}/jobs/uses`, `/api/runs/${runId}/jobs/uses/logs`]) {
      const res = await fetch(url(path), { headers: { authorization: `Bearer ${readToken(cluster.token)}` } });
      expect(res.status, path).toBe(200);
      answers.push(await res.text());
    }
    for (const answer of answers) {
      expect(answer).not.toContain(VALUE);
      expect(answer).not.toContain(VALUE.slice(10));
    }
  });

  it('the value is in no API answer, CLI output or audit entry, even for the cluster token', async () => {
    const answers: string[] = [];
    for (const path of [
      '/api/stats',
      '/api/runs',
      `/api/runs/${runId}`,
      `/api/runs/${runId}/jobs/uses`,
      `/api/runs/${runId}/jobs/uses/logs`,
      `/api/runs/${runId}/jobs/uses/logs/download`,
      `/api/runs/${runId}/jobs/other`,
      '/api/secrets',
      '/api/audit',
      '/api/workers',
      '/api/services',
      '/api/gates',
      '/api/agent-runs',
      '/api/schedules',
      '/api/limits',
      '/api/metrics/history',
    ])
      answers.push(await get(path));
    answers.push(
      JSON.stringify(await admin.call('run.get', { runId })),
      JSON.stringify(await admin.call('job.get', { ref: `${runId}/uses` })),
      JSON.stringify(await admin.call('logs.get', { ref: `${runId}/uses` })),
      JSON.stringify(await admin.call('runs.list', {})),
      JSON.stringify(await admin.call('stats', {})),
      JSON.stringify(await admin.call('secrets.list', {})),
      JSON.stringify(await admin.call('audit.list', { limit: 1000 })),
      JSON.stringify(await admin.call('workers.list', {})),
    );
    for (const args of [['status', runId], ['status', `${runId}/uses`], ['status', `${runId}/uses`, '--json'], ['runs', '--json'], ['secrets', 'ls'], ['secrets', 'ls', '--json'], ['audit', '--json', '-n', '1000'], ['logs', `${runId}/uses`]]) {
      const out = await cluster.cli(args);
      expect(out.code, `${args.join(' ')}: ${out.stderr}`).toBe(0);
      answers.push(out.stdout, out.stderr);
    }
    for (const answer of answers) {
      expect(answer).not.toContain(VALUE);
      expect(answer).not.toContain(VALUE.slice(10));
    }
    const listed = (await admin.call('secrets.list', {})).secrets.find((s) => s.name === 'API_KEY');
    expect(Object.keys(listed ?? {}).sort()).toEqual(['createdAt', 'name', 'updatedAt']);
  });

  it('the audit log records each hand-out: the job, which names, the worker', async () => {
    const entries = await eventually(async () => {
      const { entries: all } = await admin.call('audit.list', { limit: 1000 });
      return all.some((e) => e.action === 'secrets.read') ? all : null;
    });
    const reads = entries.filter((e: AuditEntry) => e.action === 'secrets.read' && e.who.startsWith(`${runId}/`));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ who: `${runId}/uses#1`, kind: 'job', target: 'API_KEY', ok: true });
    expect(entries.filter((e) => e.action === 'secret.set').map((e) => e.target)).toEqual(expect.arrayContaining(['API_KEY', 'SHORT_LIVED']));
  });

  it('the store holds no plaintext, and the key file is private', async () => {
    const data = join(cluster.dir, 'data');
    for (const f of ['titan.db', 'titan.db-wal'].map((n) => join(data, n)).filter((p) => existsSync(p))) {
      const bytes = readFileSync(f);
      expect(bytes.includes(Buffer.from(VALUE))).toBe(false);
      expect(bytes.includes(Buffer.from('short-lived-value'))).toBe(false);
    }
    expect(statSync(join(data, 'secrets.key')).mode & 0o777).toBe(0o600);
  });

  it('a master whose key file others may read refuses to start', async () => {
    const data = join(cluster.dir, 'open-data');
    mkdirSync(data, { mode: 0o700 });
    writeFileSync(join(data, 'secrets.key'), readFileSync(join(cluster.dir, 'data', 'secrets.key')));
    chmodSync(join(data, 'secrets.key'), 0o644);
    const out = await runCli(['master', '--data-dir', data, '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--token', cluster.token]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('may be read by others (mode 644)');
    expect(out.stderr).not.toMatch(/^\s+at /m);
    // Refused, not quietly closed: the key may have been read and must be rotated.
    expect(statSync(join(data, 'secrets.key')).mode & 0o777).toBe(0o644);
  });
});
