/**
 * Masters sharing a store, as real processes: the cluster's master leads, a second one stands by on
 * its own ports and data directory. Both keep their files in one shared --blob-dir, as masters on
 * shared storage do, so that the next leader has the scripts of the runs it takes over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, kill, launch, type Proc, waitForOutput } from './cluster.js';
import { sleep } from './faults.js';
import { freePort } from './scripts.js';

export interface Health {
  role: 'leader' | 'standby';
  leader?: { tcp: string; http: string } | null;
  status?: string;
}

export const health = async (httpPort: number): Promise<Health> => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).json() as Promise<Health>;

/** Polls until the master on `httpPort` answers /healthz as leader; returns when, in ms since `since`. */
export async function leadsWithin(httpPort: number, since: number, timeoutMs: number): Promise<number> {
  for (;;) {
    const role = await health(httpPort).then(
      (h) => h.role,
      () => null,
    );
    if (role === 'leader') return Date.now() - since;
    if (Date.now() - since > timeoutMs) throw new Error(`the master on http port ${httpPort} did not lead within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export interface TwoMasters {
  /** The leader is `c.master`. */
  c: Cluster;
  /** The second master (replaced by the test when it starts it again). */
  standby: Proc;
  /** Its command line, to start it again with the same ports, data directory and store. */
  standbyArgs: string[];
  tcp: number;
  http: number;
  /** Kills both masters (`c.master` and `standby` as they are then) and their workers and removes their folders. */
  stop(): Promise<void>;
}

/** Starts a master that stands by (its command line), once it says who leads. */
export async function startStandby(args: string[]): Promise<Proc> {
  const proc = launch(args);
  await waitForOutput(proc, /standing by: the leader is at 127\.0\.0\.1:\d+/, 20_000);
  return proc;
}

/** `standbyStoreUrl`: the standby's way to the same store, when it differs from the leader's (a proxy in between). */
export async function twoMasters(storeUrl: string, standbyStoreUrl = storeUrl): Promise<TwoMasters> {
  const folder = mkdtempSync(join(tmpdir(), 'titan-ha-'));
  const shared = join(folder, 'files');
  const c = new Cluster(['--store', storeUrl, '--reclaim-grace', '3', '--blob-dir', shared]);
  const [tcp, http] = [await freePort(), await freePort()];
  const standbyArgs = ['master', '--store', standbyStoreUrl, '--data-dir', join(c.dir, 'data-b'), '--blob-dir', shared, '--host', '127.0.0.1', '--port', String(tcp), '--http-port', String(http), '--token', c.token, '--reclaim-grace', '3'];
  let pair: TwoMasters | null = null;
  let first: Proc | null = null;
  const stop = async (): Promise<void> => {
    const standby = pair?.standby ?? first;
    if (standby) await kill(standby, 'SIGKILL');
    await c.stop();
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    // The leader first, so that it is the one holding the lease when the standby starts.
    await c.startMaster();
    first = launch(standbyArgs);
    await waitForOutput(first, /standing by: the leader is at 127\.0\.0\.1:\d+/, 20_000);
  } catch (err) {
    await stop();
    throw err;
  }
  pair = { c, standby: first, standbyArgs, tcp, http, stop };
  return pair;
}
