/**
 * Notifications out against a real master and worker and a local HTTP receiver: a run's success
 * (through the cluster's URL, set with the CLI) and failure (through the run's own `on`) arrive
 * signed with the key from the secrets store and carry Slack-compatible text; a gate's carries the
 * link to the dashboard's approval page (`--public-url`); a receiver that is down at first gets
 * the notification once it is up, the tries recorded; a missing signing key fails the delivery
 * with that reason and sends nothing; a bad URL in a pipeline file is refused naming the field; a
 * delivery pending when the master is killed (-9) is sent by the restarted master.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotifyBody } from '../../src/core/notify-spec.js';
import type { DeliveryView } from '../../src/protocol/notify-methods.js';
import type { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually, runCli } from '../helpers/cluster.js';
import { killNine } from '../helpers/faults.js';
import { freePort, sh, waitJob } from '../helpers/scripts.js';

const KEY = 'notify-test-signing-key';
const PUBLIC = 'http://titan.example.test:8080';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: NotifyBody;
}

/** A receiver recording every POST, answering 200. */
function receiver(received: Received[]): Server {
  return createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw) as NotifyBody });
      res.end('ok');
    });
  });
}

const listen = (server: Server, port = 0): Promise<number> =>
  new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));

/** The signature a receiver checks: HMAC-SHA256 of "timestamp.body" with the shared key. */
const expected = (r: Received): string => `sha256=${createHmac('sha256', KEY).update(`${String(r.headers['x-titan-timestamp'])}.${r.raw}`).digest('hex')}`;

describe('notifications out', () => {
  const cluster = new Cluster(['--notify-retry-base', '0.3', '--notify-timeout', '2', '--public-url', PUBLIC]);
  const received: Received[] = [];
  const server = receiver(received);
  let hook = '';
  let client: TitanClient;
  const cli = (args: string[]) => cluster.cli(args);
  const setSecret = async (name: string, value: string): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${cluster.httpPort}/api/secrets/${name}`, { method: 'PUT', headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ value }) });
    expect(res.status).toBe(200);
  };
  const arrived = (path: string): Promise<Received> => eventually(() => received.find((r) => r.path === path), 20_000, `a POST to ${path}`);

  beforeAll(async () => {
    hook = `http://127.0.0.1:${await listen(server)}`;
    await cluster.startMaster();
    await cluster.startWorker();
    client = cluster.client();
    await setSecret('NOTIFY_SIGNING_KEY', KEY);
  }, 60_000);

  afterAll(async () => {
    await cluster.stop();
    server.close();
  });

  it('sends a signed success notification to the cluster URL and a failure one to the run URL, with Slack text', async () => {
    const set = await cli(['notifications', 'set', 'success', `${hook}/cluster-success`]);
    expect(set.code, set.stderr).toBe(0);
    const ls = await cli(['notifications', 'ls']);
    expect(ls.stdout).toContain(`${hook}/cluster-success`);
    expect(ls.stdout).toContain('signed with the secret NOTIFY_SIGNING_KEY');

    const ok = await client.submit({ name: 'nightly <ok>', on: { failure: `${hook}/never` }, jobs: [{ id: 'a', script: sh('exit 0\n') }] });
    const success = await arrived('/cluster-success');
    expect(success.headers['x-titan-signature-256']).toBe(expected(success));
    expect(success.headers['x-titan-delivery']).toMatch(/^n-/);
    expect(success.headers['content-type']).toBe('application/json');
    expect(success.body).toMatchObject({ event: 'success', run: { id: ok.runId, name: 'nightly <ok>', status: 'COMPLETED', url: `${PUBLIC}/runs/${ok.runId}` } });
    expect(success.body.text).toBe(`Titan: run <${PUBLIC}/runs/${ok.runId}|nightly &lt;ok&gt;> (${ok.runId}) completed`);

    const bad = await client.submit({ name: 'broken', on: { failure: `${hook}/run-failure` }, jobs: [{ id: 'boom', script: sh('exit 3\n'), retries: 0 }] });
    const failure = await arrived('/run-failure');
    expect(failure.headers['x-titan-signature-256']).toBe(expected(failure));
    expect(failure.body).toMatchObject({ event: 'failure', run: { id: bad.runId, status: 'FAILED' }, job: { id: 'boom', status: 'DEAD', exitCode: 3 } });
    expect(failure.body.text).toMatch(/^Titan: run <.*\|broken> \(.*\) failed \(job boom DEAD/);
    // The cluster's success URL heard the success only, and nothing went to the run's unused URL.
    expect(received.filter((r) => r.path === '/never')).toEqual([]);
    const deliveries = await client.notifications.deliveries({ runId: bad.runId });
    expect(deliveries).toMatchObject([{ event: 'failure', state: 'delivered', tries: 1, lastStatus: 200, url: `${hook}/…` }]);
    expect((await cli(['notifications', 'rm', 'success'])).stdout).toContain('success: URL removed');
  });

  it('sends a gate notification with the link to the approval page', async () => {
    const { runId } = await client.submit({ name: 'ship', on: { gate: `${hook}/gate` }, jobs: [{ id: 'ship', kind: 'approval', message: 'Ship it?' }] });
    const gate = await arrived('/gate');
    expect(gate.headers['x-titan-signature-256']).toBe(expected(gate));
    expect(gate.body).toMatchObject({ event: 'gate', run: { id: runId }, job: { id: 'ship', status: 'WAITING_APPROVAL', message: 'Ship it?', approvalUrl: `${PUBLIC}/approvals` } });
    expect(gate.body.text).toContain(`<${PUBLIC}/approvals|approve or reject>`);
    await client.gate.reject(`${runId}/ship`);
  });

  it('retries while the receiver is down and delivers once it is up, recording the tries', async () => {
    const port = await freePort();
    const { runId } = await client.submit({ name: 'late', on: { success: `http://127.0.0.1:${port}/late` }, jobs: [{ id: 'a', script: sh('exit 0\n') }] });
    const failing = await eventually(async () => (await client.notifications.deliveries({ runId })).find((d) => d.tries >= 2), 20_000, 'two failed tries');
    expect(failing).toMatchObject({ state: 'pending', lastStatus: null });
    expect(failing.lastError).toMatch(/ECONNREFUSED/);
    const late: Received[] = [];
    const up = receiver(late);
    await listen(up, port);
    try {
      const done = await eventually(async () => (await client.notifications.deliveries({ runId })).find((d) => d.state === 'delivered'), 20_000, 'the delivery');
      expect(done.tries).toBeGreaterThan(2);
      expect(late).toHaveLength(1);
      expect(late[0]?.headers['x-titan-delivery']).toBe(done.id);
      const shown = await cli(['notifications', 'deliveries', '--run', runId]);
      expect(shown.stdout).toMatch(new RegExp(`${done.id}.*success.*delivered\\s+${done.tries}\\s+200`));
    } finally {
      up.close();
    }
  });

  it('records a delivery failed, sending nothing, when the signing key secret is missing', async () => {
    expect((await cli(['notifications', 'key', 'NO_SUCH_KEY'])).code).toBe(0);
    try {
      const { runId } = await client.submit({ name: 'unsigned', on: { success: `${hook}/unsigned` }, jobs: [{ id: 'a', script: sh('exit 0\n') }] });
      await waitJob(client, `${runId}/a`, 'COMPLETED');
      const d: DeliveryView = await eventually(async () => (await client.notifications.deliveries({ runId })).find((x) => x.state === 'failed'), 20_000, 'the failed delivery');
      expect(d.lastError).toContain('NO_SUCH_KEY is not set');
      expect(received.filter((r) => r.path === '/unsigned')).toEqual([]);
    } finally {
      await cli(['notifications', 'key', 'NOTIFY_SIGNING_KEY']);
    }
  });

  it('refuses a pipeline file whose notification URL is not http or https, naming the field', async () => {
    const file = join(cluster.dir, 'bad-notify.yaml');
    writeFileSync(file, 'name: p\non:\n  failure: file:///etc/passwd\njobs:\n  - id: a\n    file: a.sh\n');
    const r = await runCli(['validate', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('bad-notify.yaml:3:12: "on.failure" must be an http or https URL, not file:');
  });

  it('resumes a pending delivery after the master is killed and restarted', async () => {
    const port = await freePort();
    const { runId } = await client.submit({ name: 'resumed', on: { success: `http://127.0.0.1:${port}/resumed` }, jobs: [{ id: 'a', script: sh('exit 0\n') }] });
    const pending = await eventually(async () => (await client.notifications.deliveries({ runId })).find((d) => d.tries >= 1 && d.state === 'pending'), 20_000, 'a failed first try');
    await killNine((cluster.master ?? expect.unreachable('no master')).child);
    client.close();
    const late: Received[] = [];
    const up = receiver(late);
    await listen(up, port);
    try {
      await cluster.startMaster();
      client = cluster.client();
      const done = await eventually(async () => (await client.notifications.deliveries({ runId })).find((d) => d.state === 'delivered'), 20_000, 'the resumed delivery');
      expect(done.id).toBe(pending.id);
      expect(late.map((r) => r.headers['x-titan-delivery'])).toContain(pending.id);
      expect(late[0]?.headers['x-titan-signature-256']).toBe(expected(late[0] as Received));
    } finally {
      up.close();
    }
  });
});
