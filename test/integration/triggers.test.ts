/**
 * Triggers on real processes (one master and one worker for the file): a signed delivery to
 * POST /hooks/NAME starts a run whose job reads the payload file and the TITAN_TRIGGER_
 * variables; each attack is refused with its clear error (a bad or missing signature, a body
 * over the limit, a replayed idempotency key, a flood beyond the rate, an unknown trigger, a
 * wrong bearer token, a body that is not JSON); two quick deliveries to a singleton pipeline
 * start one run; the CLI creates, lists, shows and removes triggers, and the audit log records
 * who created and removed them; after kill -9 and a restart of the master, its triggers and their
 * idempotency keys are still served from the store.
 */
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { killNine, waitRunDone } from '../helpers/faults.js';

const KEY = 'hook-signing-key-0123456789';
let cluster: Cluster;
let client: TitanClient;

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startMaster();
  await cluster.startWorker({ slots: 4 });
  client = cluster.client();
  await client.call('secret.set', { name: 'HOOK_KEY', value: KEY });
}, 60_000);

afterAll(async () => {
  await cluster.stop();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** A raw POST to the master's HTTP port (undici would not let a test lie about Content-Length or stream a body). */
function post(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: cluster.httpPort, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) }));
    });
    // A body refused part-way may find the connection closed under it: the answer is what counts.
    req.on('error', reject);
    req.end(body);
  });
}

const sign = (body: string, key = KEY): string => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;

function pipelineFile(name: string, yaml: string): string {
  const path = join(cluster.dir, `${name}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

describe('a signed webhook', () => {
  it('starts a run whose job reads the payload file and the TITAN_TRIGGER_ variables; the run names its trigger and delivery', { timeout: 60_000 }, async () => {
    writeFileSync(join(cluster.dir, 'show.sh'), 'echo "payload=$(cat "$TITAN_TRIGGER_PAYLOAD")"\necho "name=$TITAN_TRIGGER_NAME delivery=$TITAN_TRIGGER_DELIVERY event=$TITAN_TRIGGER_EVENT"\n');
    const file = pipelineFile('gh', 'name: on-push\njobs:\n  - id: show\n    file: show.sh\n');
    const created = await cluster.cli(['triggers', 'create', 'gh', '--pipeline', file, '--secret', 'HOOK_KEY', '--max-body', '1KiB', '--url', `http://127.0.0.1:${cluster.httpPort}`]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain(`trigger gh created: POST http://127.0.0.1:${cluster.httpPort}/hooks/gh`);

    const body = JSON.stringify({ ref: 'refs/heads/main', commits: [{ id: 'abc' }] });
    const started = Date.now();
    const answer = await post('/hooks/gh', body, { 'x-hub-signature-256': sign(body), 'x-github-event': 'push', 'x-github-delivery': 'gh-1' });
    console.log(`signed delivery answered in ${Date.now() - started} ms`);
    expect(answer.status).toBe(202);
    const { runId, delivery } = answer.body as { runId: string; delivery: string };
    const done = await waitRunDone(client, runId, 30_000);
    expect(done.run.status).toBe('COMPLETED');
    expect(done.run.startedBy).toBe(`trigger:gh/${delivery}`);
    const log = (await client.call('logs.get', { ref: `${runId}/show` })).data;
    expect(log).toContain(`payload=${body}`);
    expect(log).toContain(`name=gh delivery=${delivery} event=push`);

    const status = await cluster.cli(['status', runId]);
    expect(status.stdout).toContain(`trigger gh, delivery ${delivery}`);
  });

  it('refuses a bad or missing signature, a body over the limit, a replayed key, a body that is not JSON and an unknown trigger, each with its reason', { timeout: 30_000 }, async () => {
    const body = JSON.stringify({ n: 1 });
    const forged = await post('/hooks/gh', body, { 'x-hub-signature-256': sign(body, 'not-the-key') });
    expect([forged.status, forged.body.message]).toEqual([401, 'the signature does not match the body: check that the sender signs with the same secret, over the raw body']);
    const unsigned = await post('/hooks/gh', body);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.message).toMatch(/^the request is not signed/);
    // Signed, but over a body of another length than the one sent.
    const tampered = await post('/hooks/gh', JSON.stringify({ n: 2 }), { 'x-hub-signature-256': sign(body) });
    expect(tampered.status).toBe(401);

    const big = JSON.stringify({ pad: 'x'.repeat(2000) });
    const declared = await post('/hooks/gh', big, { 'x-hub-signature-256': sign(big) });
    expect([declared.status, declared.body.message]).toEqual([413, "the body exceeds this trigger's limit of 1 KiB"]);
    const streamed = await post('/hooks/gh', big, { 'x-hub-signature-256': sign(big), 'transfer-encoding': 'chunked' });
    expect(streamed.status).toBe(413);

    const first = (await client.call('triggers.get', { name: 'gh', deliveries: 100 })).trigger.deliveries.find((d) => d.idempotencyKey === 'gh-1');
    const replay = await post('/hooks/gh', body, { 'x-hub-signature-256': sign(body), 'x-github-delivery': 'gh-1' });
    expect([replay.status, replay.body.message]).toEqual([409, `idempotency key "gh-1" was seen before: its first delivery started run ${first?.runId}`]);
    const viaHeader = await post('/hooks/gh', body, { 'x-hub-signature-256': sign(body), 'idempotency-key': 'gh-1' });
    expect(viaHeader.status).toBe(409);

    const notJson = 'ref=main';
    const text = await post('/hooks/gh', notJson, { 'x-hub-signature-256': sign(notJson) });
    expect(text.status).toBe(400);
    expect(text.body.message).toMatch(/^the body is not JSON/);

    const unknown = await post('/hooks/nope', body, { 'x-hub-signature-256': sign(body) });
    expect([unknown.status, unknown.body.message]).toEqual([404, 'no trigger nope']);

    // Every refusal is recorded with its reason, newest first.
    const shown = await cluster.cli(['triggers', 'show', 'gh']);
    expect(shown.stdout).toContain('401: the signature does not match the body');
    expect(shown.stdout).toContain("413: the body exceeds this trigger's limit of 1 KiB");
    expect(shown.stdout).toContain('409: idempotency key "gh-1" was seen before');
    const { deliveries } = (await client.call('triggers.get', { name: 'gh' })).trigger;
    expect(deliveries.filter((d) => d.outcome === 'accepted').map((d) => d.runId)).toEqual([first?.runId]);
  });
});

describe('a bearer trigger', () => {
  it('takes the token printed once, refuses a wrong one, and refuses deliveries beyond its rate with Retry-After', { timeout: 30_000 }, async () => {
    writeFileSync(join(cluster.dir, 'ok.sh'), 'exit 0\n');
    const file = pipelineFile('bearer', 'name: import\njobs:\n  - id: ok\n    file: ok.sh\n');
    const created = await cluster.cli(['triggers', 'create', 'imports', '--pipeline', file, '--bearer', '--rate', '2/minute', '--json']);
    const { token, url } = JSON.parse(created.stdout) as { token: string; url: string };
    expect(token).toMatch(/^tth_/);
    expect(url).toMatch(/\/hooks\/imports$/);
    expect(JSON.stringify(await client.call('triggers.list', {}))).not.toContain(token);

    const wrong = await post('/hooks/imports', '{}', { authorization: 'Bearer tth_guessed' });
    expect([wrong.status, wrong.body.message]).toEqual([401, "the bearer token is not this trigger's"]);
    const none = await post('/hooks/imports', '{}');
    expect(none.status).toBe(401);
    expect((await post('/hooks/imports', '{}', { authorization: `Bearer ${token}` })).status).toBe(202);
    expect((await post('/hooks/imports', '{}', { authorization: `Bearer ${token}` })).status).toBe(202);
    const limited = await post('/hooks/imports', '{}', { authorization: `Bearer ${token}` });
    expect(limited.status).toBe(429);
    expect(limited.body.message).toMatch(/^more than 2 deliveries a minute: try again in \d+ s$/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    const listed = await cluster.cli(['triggers', 'ls']);
    expect(listed.stdout).toMatch(/imports\s+http:\/\/127\.0\.0\.1:5000\/hooks\/imports\s+bearer token\s+import\s+2\/minute, 1 MiB/);
  });
});

describe('a singleton pipeline', () => {
  it('two quick deliveries start one run: the second is answered with the run that holds the key', { timeout: 30_000 }, async () => {
    writeFileSync(join(cluster.dir, 'slow.sh'), 'sleep 2\n');
    const file = pipelineFile('single', 'name: deploy\nsingleton: deploy\njobs:\n  - id: slow\n    file: slow.sh\n');
    expect((await cluster.cli(['triggers', 'create', 'deploy', '--pipeline', file, '--secret', 'HOOK_KEY'])).stdout).toContain('trigger deploy created');
    const [a, b] = ['{"n":1}', '{"n":2}'];
    const first = await post('/hooks/deploy', a, { 'x-hub-signature-256': sign(a) });
    const second = await post('/hooks/deploy', b, { 'x-hub-signature-256': sign(b) });
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ runId: first.body.runId, singleton: { key: 'deploy', heldBy: first.body.runId } });
    const runs = (await client.call('runs.list', { limit: 50 })).runs.filter((r) => r.name === 'deploy');
    expect(runs.map((r) => r.runId)).toEqual([first.body.runId]);
  });
});

describe('managing triggers', () => {
  it('removes a trigger (its URL then answers 404) and audits who created and removed it', { timeout: 30_000 }, async () => {
    expect((await cluster.cli(['triggers', 'rm', 'imports'])).stdout).toContain('trigger imports removed');
    expect((await post('/hooks/imports', '{}')).status).toBe(404);
    const reader = cluster.client(await cluster.namedToken('viewer', ['read']));
    expect((await reader.call('triggers.list', {})).triggers.map((t) => t.name)).toEqual(['deploy', 'gh']);
    await expect(reader.call('triggers.remove', { name: 'gh' })).rejects.toThrow(/triggers.remove administers the cluster/);
    await eventually(async () => {
      const { entries } = await client.call('audit.list', { limit: 100 });
      const actions = entries.filter((e) => e.action.startsWith('triggers.') && e.ok).map((e) => `${e.action} ${e.target}`);
      return actions.includes('triggers.create imports') && actions.includes('triggers.remove imports');
    }, 10_000, 'the audit entries of triggers.create and triggers.remove');
  });
});

describe('after the master restarts', () => {
  it('serves its triggers from the store: a signed delivery starts a run, a replayed key is still refused naming its first run', { timeout: 60_000 }, async () => {
    const firstRun = (await client.call('triggers.get', { name: 'gh', deliveries: 100 })).trigger.deliveries.find((d) => d.idempotencyKey === 'gh-1' && d.outcome === 'accepted')?.runId;
    await killNine((cluster.master ?? expect.unreachable('no master')).child);
    client.close();
    await cluster.startMaster();
    client = cluster.client();
    const body = JSON.stringify({ after: 'restart' });
    const replay = await post('/hooks/gh', body, { 'x-hub-signature-256': sign(body), 'x-github-delivery': 'gh-1' });
    expect([replay.status, replay.body.message]).toEqual([409, `idempotency key "gh-1" was seen before: its first delivery started run ${firstRun}`]);
    const fresh = await post('/hooks/gh', body, { 'x-hub-signature-256': sign(body), 'x-github-delivery': 'gh-2' });
    expect(fresh.status).toBe(202);
    expect((await waitRunDone(client, fresh.body.runId as string, 30_000)).run.status).toBe('COMPLETED');
  });
});
