/**
 * A leader cut off from its PostgreSQL store by a network fault: a proxy between them stops
 * passing bytes (a blackhole: connections stay open, nothing arrives), while the standby reaches
 * the store directly. The standby takes over; the old leader starts no job and acknowledges no
 * submission while cut off. Having seen the standby up, it steps aside once its lease may have
 * expired, so that its workers find the new leader while the network is still down; when the
 * network heals nothing it held is written. Required in CI like the other PostgreSQL tests.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { TitanClient } from '../../src/sdk/client.js';
import { LOST_LEADERSHIP_EXIT } from '../../src/server/leadership.js';
import { APPEND_SCRIPT, notExactlyOnce, readLines, sleep, waitRunDone } from '../helpers/faults.js';
import { health, leadsWithin, type TwoMasters, twoMasters } from '../helpers/ha.js';
import { describeOnPostgres } from '../helpers/postgres.js';

/** A TCP proxy on a free loopback port whose traffic can be held (both ways) and let through again. */
class HoldingProxy {
  private held = false;
  private readonly queued: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<HoldingProxy> {
    let proxy: HoldingProxy | null = null;
    const server = createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    proxy = new HoldingProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }

  private accept(client: Socket, targetPort: number): void {
    const upstream = createConnection(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const pass = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        const send = (): void => void to.write(chunk);
        if (this.held) this.queued.push(send);
        else send();
      });
    };
    pass(client, upstream);
    pass(upstream, client);
  }

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    for (const send of this.queued.splice(0)) send();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let pair: TwoMasters | null = null;
let proxy: HoldingProxy | null = null;
const clients: TitanClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await pair?.stop();
  pair = null;
  await proxy?.close();
  proxy = null;
});

describeOnPostgres('a leader cut off from PostgreSQL', (server) => {
  it('steps aside: its workers run the new leader\'s jobs while it is still cut off, and it stored nothing late', { timeout: 120_000 }, async () => {
    const pg = server();
    await pg.query('postgres', 'CREATE DATABASE cut_off');
    proxy = await HoldingProxy.start(pg.port);
    const viaProxy = pg.urlOf('cut_off').replace(`:${pg.port}/`, `:${proxy.port}/`);
    pair = await twoMasters(viaProxy, pg.urlOf('cut_off'));
    const { c, tcp, http } = pair;
    const old = c.master ?? expect.unreachable('no master');
    const both = ['--master', `127.0.0.1:${c.port},127.0.0.1:${tcp}`];
    await c.startWorker({ args: both });
    await c.startWorker({ args: both });
    const appendFile = join(c.dir, 'append.txt');
    const toOld = c.client();
    clients.push(toOld);
    const first = await toOld.submit({ name: 'before', jobs: [{ id: 'before', script: APPEND_SCRIPT, args: ['before', '0', appendFile] }] });
    expect((await waitRunDone(toOld, first.runId, 30_000)).run.status).toBe('COMPLETED');
    const exited = new Promise<number | null>((resolve) => {
      if (old.child.exitCode !== null) resolve(old.child.exitCode);
      else old.child.once('exit', (code) => resolve(code));
    });

    // The network between the leader and PostgreSQL fails; the standby still reaches it.
    proxy.hold();
    const cut = Date.now();
    const late = Promise.race([
      toOld.submit({ name: 'late', jobs: [{ id: 'late', script: APPEND_SCRIPT, args: ['late', '0', appendFile] }] }).then(
        () => 'acknowledged',
        (err: Error) => err.message,
      ),
      sleep(15_000).then(() => 'no answer'),
    ]);
    const tookMs = await leadsWithin(http, cut, 15_000);
    expect(tookMs, 'takeover after the cut').toBeLessThanOrEqual(5_000);

    // Still cut off, the old leader steps aside: it saw the standby up at its last renewal.
    expect(await Promise.race([exited, sleep(10_000).then(() => 'still running')])).toBe(LOST_LEADERSHIP_EXIT);
    expect(old.output()).toMatch(/lost the leadership \(the lease was not renewed for 4000 ms .*: stepping aside\)/);

    // Both of its workers go round their address list to the new leader, which runs a job on them.
    const toNew = new TitanClient({ host: '127.0.0.1', port: tcp, token: c.token });
    clients.push(toNew);
    const after = await toNew.submit({ name: 'after', jobs: [{ id: 'after', script: APPEND_SCRIPT, args: ['after', '0', appendFile] }] });
    while (!readLines(appendFile).includes('after')) {
      if (Date.now() - cut > 30_000) throw new Error('the new leader ran nothing within 30 s of the cut');
      await sleep(50);
    }
    const ranMs = Date.now() - cut;
    expect(ranMs, 'from the cut to the first job run by the new leader').toBeLessThanOrEqual(10_000);
    expect((await waitRunDone(toNew, after.runId, 30_000)).run.status).toBe('COMPLETED');
    expect(await late).not.toBe('acknowledged');
    await expect.poll(async () => (await toNew.workers()).filter((w) => w.state === 'connected').length, { timeout: 15_000 }).toBe(2);

    // The network heals: nothing the old leader held is written.
    proxy.release();
    await sleep(1_000);
    expect(await pg.query('cut_off', "SELECT name FROM runs ORDER BY created_at")).toEqual([{ name: 'before' }, { name: 'after' }]);
    expect(notExactlyOnce(['before', 'after'], readLines(appendFile))).toEqual({});
    expect(readLines(appendFile)).not.toContain('late');
    expect(await health(http)).toMatchObject({ role: 'leader' });
    expect((await pg.query('cut_off', 'SELECT epoch FROM leader_lease')).map((row) => Number(row.epoch))).toEqual([2]);
  });
});
