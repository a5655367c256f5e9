/**
 * The cluster's leadership in Redis: the key `titan:lease` holds the holder and its epoch and
 * expires by the server's clock (PX), and `titan:lease:epoch` counts the epochs granted (INCR),
 * so an epoch only rises. Each operation is one script (redis-lua/lease-*.lua). A renewal after
 * the lease expired still succeeds while no other master acquired it since (the counter says so).
 * The masters that are up renew a field each of the hash `titan:masters`, with an expiry by the
 * server's clock (TIME).
 * Fencing is the write scripts' own check of that counter (redis-lua/includes/fence.lua), made atomically with
 * the write.
 */
import { z } from 'zod';
import type { AcquireResult, LeaderLease, LeaseState, MasterAddress } from './lease.js';
import type { RedisConnection } from './redis-connection.js';

const AddressSchema = z.object({ tcp: z.string(), http: z.string() });

/** `<epoch> <holder id> <address JSON>` and the milliseconds it has left, as the scripts return them. */
function toState(value: string, ttl: number): LeaseState | null {
  const m = /^(\d+) (\S+) (.*)$/s.exec(value);
  if (!m) return null;
  let address: { tcp: string; http: string };
  try {
    address = AddressSchema.parse(JSON.parse(m[3] as string));
  } catch {
    return null; // not written by this store: nobody Titan knows holds it
  }
  return { holder: { id: m[2] as string, ...address }, epoch: Number(m[1]), expiresInMs: Math.max(0, ttl) };
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};

/** Holder ids go into the lease's text as one word. */
const checkId = (me: MasterAddress): string => {
  if (!/^\S+$/.test(me.id)) throw new Error(`a master's id must be one word, got ${JSON.stringify(me.id)}`);
  return me.id;
};

export class RedisLease implements LeaderLease {
  constructor(
    private readonly c: RedisConnection,
    /** Fences the store this lease belongs to. */
    private readonly onFence: (epoch: number) => void,
  ) {}

  async acquire(me: MasterAddress, ttlMs: number): Promise<AcquireResult> {
    const reply = (await this.c.script('titanLeaseAcquire', [checkId(me), JSON.stringify({ tcp: me.tcp, http: me.http }), Math.ceil(ttlMs)])) as [number, string | number, number?];
    if (reply[0] === 1) return { acquired: true, epoch: Number(reply[1]) };
    return { acquired: false, current: toState(String(reply[1]), reply[2] ?? 0) };
  }

  async renew(me: MasterAddress, epoch: number, ttlMs: number): Promise<boolean> {
    return (await this.c.script('titanLeaseRenew', [checkId(me), String(epoch), JSON.stringify({ tcp: me.tcp, http: me.http }), Math.ceil(ttlMs)])) === 1;
  }

  async release(me: MasterAddress, epoch: number): Promise<void> {
    await this.c.script('titanLeaseRelease', [checkId(me), String(epoch)]);
  }

  async current(): Promise<LeaseState | null> {
    const reply = (await this.c.script('titanLeaseCurrent', [])) as [string, number] | null;
    return reply === null ? null : toState(reply[0], reply[1]);
  }

  async heartbeat(me: MasterAddress, ttlMs: number): Promise<MasterAddress[]> {
    const reply = (await this.c.script('titanMasterHeartbeat', [checkId(me), JSON.stringify({ tcp: me.tcp, http: me.http }), Math.ceil(ttlMs)])) as string[];
    const others: MasterAddress[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const address = AddressSchema.safeParse(parseJson(reply[i + 1] as string));
      if (address.success) others.push({ id: reply[i] as string, ...address.data });
    }
    return others.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  fence(epoch: number): void {
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new Error(`a fencing epoch is a positive integer, got ${epoch}`);
    this.onFence(epoch);
  }
}
