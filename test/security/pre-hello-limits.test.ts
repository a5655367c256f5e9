/**
 * Limits before trust on 9090, tried as an attacker without a token would against a real master.
 * A frame before HELLO may be at most 8 KiB: a bigger one is refused at its header with an error
 * naming the limit, and the connection closed. 800 tokenless connections that each announce a
 * 1 MiB frame and send as much of it as the master accepts, and then 800 that each hold the
 * largest frame allowed unfinished, move the master's memory (VmRSS) by less than 100 MB, while a
 * client with the token, connecting in the middle of it, submits a job that runs to completion;
 * the held connections are closed at the HELLO deadline. A connection the master refused (Titan's v1
 * when it is off, an unknown version) is dropped soon after the answer even if its peer keeps it
 * open. The per-address connection cap is raised
 * for this test so that all 800 reach the frame decoder rather than being turned away at the door.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder, HEADER_SIZE, V1, V2 } from '../../src/protocol/frame.js';
import { PRE_HELLO_MAX_PAYLOAD } from '../../src/protocol/peer.js';
import { LINGER_MS } from '../../src/server/limits.js';
import { OP } from '../../src/protocol/v2.js';
import { Cluster, eventually } from '../helpers/cluster.js';
import { RawConnection, sh, waitRunStatus } from '../helpers/scripts.js';

const ATTACKERS = 800;
const MIB = 1024 * 1024;
const BUDGET = 100 * 1000 * 1000;
/** One buffer that every attacker sends slices of, so the test itself stays small. */
const PAYLOAD = Buffer.alloc(MIB, 0x7b);

function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/** The highest RSS of `pid` seen until stop() (sampled every 20 ms). */
function watchPeak(pid: number): { stop(): number } {
  let peak = rss(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rss(pid));
    },
  };
}

const header = (length: number): Buffer => {
  const h = Buffer.alloc(HEADER_SIZE);
  h[0] = V2;
  h[1] = OP.HELLO;
  h.writeUInt32BE(length, 4);
  return h;
};

/** A tokenless connection: the frame header, then up to `send` bytes of its payload, as fast as the master reads them. */
class Attacker {
  readonly replies: { code: string; message: string }[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(private readonly socket: Socket) {
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) this.replies.push((JSON.parse(f.payload.toString('utf8')) as { error: { code: string; message: string } }).error);
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => (this.isClosed = true));
  }

  static async open(port: number, announced: number, send: number): Promise<Attacker> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const a = new Attacker(socket);
    void a.pour(announced, send);
    return a;
  }

  private async pour(announced: number, send: number): Promise<void> {
    this.socket.write(header(announced));
    // A master that refuses the header answers it: wait a while for that answer (bytes sent into
    // a closing socket would reset the connection and lose it), then pour while the master reads.
    await Promise.race([this.closed, new Promise((r) => this.socket.once('data', r)), new Promise((r) => setTimeout(r, 2_000))]);
    for (let sent = 0; sent < send && !this.isClosed; ) {
      const n = Math.min(64 * 1024, send - sent);
      sent += n;
      if (!this.socket.write(PAYLOAD.subarray(0, n))) await Promise.race([new Promise((r) => this.socket.once('drain', r)), this.closed]);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Opens `count` attackers, a hundred at a time (the listen backlog is finite). */
async function flood(port: number, count: number, announced: number, send: number): Promise<Attacker[]> {
  const all: Attacker[] = [];
  for (let i = 0; i < count; i += 100) all.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => Attacker.open(port, announced, send)))));
  return all;
}

describe('limits before HELLO', () => {
  const cluster = new Cluster(['--max-connections-per-ip', String(ATTACKERS + 200)]);
  const attackers: Attacker[] = [];
  let pid = 0;
  /** Submits a small job on a new connection with the token and waits for it to complete. */
  async function served(name: string): Promise<void> {
    const client = cluster.client();
    const { runId } = await client.submit({ name, jobs: [{ id: 'small', script: sh('echo served\n') }] });
    await waitRunStatus(client, runId, 'COMPLETED', 20_000);
    expect(await client.logs(`${runId}/small`)).toBe('served\n');
    client.close();
  }

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker();
    pid = cluster.master?.child.pid ?? expect.unreachable('no master pid');
    // Warm: the code paths of a session and a job have run once before the baseline is taken.
    await served('warm-up');
  });
  afterAll(async () => {
    for (const a of attackers) a.destroy();
    await cluster.stop();
  });

  it('refuses a frame over 8 KiB before HELLO at its header, with an error naming the limit, and closes', async () => {
    const c = await RawConnection.open(cluster.port);
    c.send(header(MIB));
    expect(await c.nextResponse()).toEqual({ id: null, ok: false, error: { code: 'BAD_FRAME', message: `a frame before HELLO may be at most ${PRE_HELLO_MAX_PAYLOAD} bytes; this one announces ${MIB}` } });
    expect(await c.closesWithin(5_000)).toBe(true);
    // A HELLO with the token is well within the limit.
    const ok = await RawConnection.open(cluster.port);
    expect(await ok.hello(cluster.token)).toMatchObject({ ok: true });
    ok.end();
  });

  it('drops refused connections whose peers keep their side open after the answer', { timeout: 30_000 }, async () => {
    const fds = (): number => readdirSync(`/proc/${pid}/fd`).length;
    const before = fds();
    const sockets: Socket[] = [];
    // Titan's v1 (not enabled here), and a version nobody speaks: each is answered, then dropped.
    for (const first of [Buffer.from([V1, 0x01, 0, 0, 0, 0, 0, 0]), Buffer.from([9])]) {
      for (let i = 0; i < 50; i++) {
        // Half-open allowed: this side does not end when the master does.
        const socket = connect({ host: '127.0.0.1', port: cluster.port, allowHalfOpen: true });
        socket.on('error', () => undefined);
        let answer = '';
        socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
        const ended = new Promise((resolve) => socket.once('end', resolve));
        socket.write(first);
        await ended;
        expect(answer).toMatch(first[0] === V1 ? /not enabled on this master/ : /unsupported protocol version 9/);
        sockets.push(socket);
      }
    }
    // The master holds them for a while after its answer, then lets them go.
    expect(fds() - before).toBeGreaterThanOrEqual(90);
    await eventually(() => fds() - before <= 5, LINGER_MS + 5_000, 'the master to drop the connections it answered');
    for (const s of sockets) s.destroy();
  });

  it("800 tokenless connections of 1 MiB each move the master's memory by less than 100 MB, and a real client is served throughout", { timeout: 90_000 }, async ({ annotate }) => {
    const baseline = rss(pid);
    const peak = watchPeak(pid);
    // Each announces 1 MiB and sends all but its last byte: the frame is never finished.
    const opening = flood(cluster.port, ATTACKERS, MIB, MIB - 1);
    await served('during-1mib-frames');
    const big = await opening;
    attackers.push(...big);
    await Promise.all(big.map((a) => a.closed));
    const bigPeak = peak.stop();
    expect(bigPeak - baseline, `master RSS ${mb(baseline)} MB at rest, ${mb(bigPeak)} MB at most under ${ATTACKERS} announced 1 MiB frames`).toBeLessThan(BUDGET);
    // Each was read and refused by the master, none turned away by a cap.
    const refusals = big.filter((a) => a.replies[0]?.code === 'BAD_FRAME' && a.replies[0].message.includes(`announces ${MIB}`));
    expect(refusals).toHaveLength(ATTACKERS);

    // The same number holding the largest frame allowed before HELLO, unfinished.
    const heldPeak = watchPeak(pid);
    const held = await flood(cluster.port, ATTACKERS, PRE_HELLO_MAX_PAYLOAD, PRE_HELLO_MAX_PAYLOAD - 1);
    attackers.push(...held);
    await served('during-held-frames');
    expect(held.filter((a) => a.isClosed)).toHaveLength(0);
    const heldMax = heldPeak.stop();
    await eventually(() => held.every((a) => a.isClosed), 20_000, 'the HELLO deadline to close every held connection');
    expect(held.every((a) => a.replies[0]?.code === 'UNAUTHORIZED' && /no HELLO within/.test(a.replies[0].message))).toBe(true);

    const figures = `master RSS ${mb(baseline)} MB at rest; at most ${mb(bigPeak)} MB under ${ATTACKERS} announced 1 MiB frames, ${mb(heldMax)} MB under ${ATTACKERS} held ${PRE_HELLO_MAX_PAYLOAD}-byte frames`;
    await annotate(figures);
    expect(heldMax - baseline, figures).toBeLessThan(BUDGET);
    // The master is alive and well afterwards.
    await served('after');
  });
});

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
