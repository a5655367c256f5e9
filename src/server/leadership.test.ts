import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AcquireResult, FencedError, type LeaderLease, type LeaseState, type MasterAddress } from '../store/lease.js';
import { advertisedHost, Leadership, watchFenced } from './leadership.js';

const me: MasterAddress = { id: 'me', tcp: 'a:9090', http: 'http://a:5000' };
const other: MasterAddress = { id: 'other', tcp: 'b:9090', http: 'http://b:5000' };
const fast = { ttlMs: 300, renewEveryMs: 20, acquireEveryMs: 20 };
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A lease held in memory: `holder` is who has it; `failing` makes every call throw, `cut` makes
 * every call wait for ever (a blackholed connection); `up` are the masters whose presence it holds.
 */
class MemoryLease implements LeaderLease {
  holder: MasterAddress | null = other;
  epoch = 1;
  failing = false;
  cut = false;
  up: MasterAddress[] = [];
  calls: string[] = [];

  private async check(what: string): Promise<void> {
    this.calls.push(what);
    if (this.cut) await new Promise(() => undefined);
    if (this.failing) throw new Error('store unreachable');
  }
  async acquire(who: MasterAddress): Promise<AcquireResult> {
    await this.check('acquire');
    if (this.holder !== null && this.holder.id !== who.id) return { acquired: false, current: { holder: this.holder, epoch: this.epoch, expiresInMs: 100 } };
    this.holder = who;
    return { acquired: true, epoch: ++this.epoch };
  }
  async renew(who: MasterAddress, epoch: number): Promise<boolean> {
    await this.check('renew');
    return this.holder?.id === who.id && this.epoch === epoch;
  }
  async release(who: MasterAddress, epoch: number): Promise<void> {
    await this.check('release');
    if (this.holder?.id === who.id && this.epoch === epoch) this.holder = null;
  }
  async current(): Promise<LeaseState | null> {
    return this.holder && { holder: this.holder, epoch: this.epoch, expiresInMs: 100 };
  }
  fence(): void {}
  async heartbeat(who: MasterAddress): Promise<MasterAddress[]> {
    await this.check('heartbeat');
    return this.up.filter((m) => m.id !== who.id);
  }
}

describe('Leadership', () => {
  it('stands by while another master leads, saying who, and leads once the lease is free', async () => {
    const lease = new MemoryLease();
    const lines: string[] = [];
    const l = new Leadership(lease, me, (line) => lines.push(line), fast);
    const acquired = l.acquire();
    await wait(80);
    expect(l.leader()).toEqual(other);
    expect(l.leadingEpoch).toBe(0);
    // A standby records its presence at each try, so that a leader knows it can step aside.
    expect(lease.calls.filter((c) => c === 'heartbeat').length).toBeGreaterThan(1);
    lease.holder = null;
    expect(await acquired).toBe(2);
    expect(l.leader()).toEqual(me);
    // Said once while standing by, not at every try.
    expect(lines).toEqual(['standing by: the leader is at b:9090 (dashboard http://b:5000)', 'leading the cluster (epoch 2)']);
    await l.release();
    expect(lease.holder).toBeNull();
  });

  it('holds on while the store is unreachable, and loses the leadership once, when a renewal is refused', async () => {
    const lease = new MemoryLease();
    lease.holder = null;
    const lines: string[] = [];
    const l = new Leadership(lease, me, (line) => lines.push(line), fast);
    await l.acquire();
    const lost: string[] = [];
    l.keep((why) => lost.push(why));
    await wait(100);
    lease.failing = true;
    await wait(100);
    expect(lost).toEqual([]);
    lease.failing = false;
    await expect.poll(() => lines).toContain('renewed the leadership again');
    expect(lines.filter((line) => line.startsWith('cannot renew'))).toHaveLength(1);
    expect(lines).toContain('renewed the leadership again');
    lease.holder = other;
    lease.epoch++;
    await expect.poll(() => lost.length).toBe(1);
    expect(lost).toEqual(['another master acquired the lease (this one led at epoch 2)']);
    // Lost: it renews no more, and a fenced write after that tells nobody twice.
    const renewals = lease.calls.filter((c) => c === 'renew').length;
    l.lost('again');
    await wait(60);
    expect(lease.calls.filter((c) => c === 'renew').length).toBe(renewals);
    expect(lost).toHaveLength(1);
    await l.release();
    expect(lease.calls).not.toContain('release');
  });

  describe('cut off from the store', () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    const timing = { ttlMs: 3_000, renewEveryMs: 1_000, acquireEveryMs: 500 };

    /** A leader whose store goes silent 500 ms after a renewal; what it said and lost, and when. */
    async function cutOff(up: MasterAddress[]): Promise<{ lease: MemoryLease; lines: string[]; lost: string[]; lead: Leadership }> {
      vi.useFakeTimers();
      const lease = new MemoryLease();
      lease.holder = null;
      lease.up = up;
      const lines: string[] = [];
      const lead = new Leadership(lease, me, (line) => lines.push(line), timing);
      await lead.acquire();
      const lost: string[] = [];
      lead.keep((why) => lost.push(why));
      await vi.advanceTimersByTimeAsync(2_500);
      expect(lease.calls.filter((c) => c === 'renew')).toHaveLength(2);
      expect(lease.calls.slice(-4)).toEqual(['renew', 'heartbeat', 'renew', 'heartbeat']);
      lease.cut = true;
      return { lease, lines, lost, lead };
    }

    it('steps aside once the lease may have expired when another master was up to take over', async () => {
      const { lost, lead } = await cutOff([me, other]);
      // The last renewal was sent at 2 s: the lease lives until 5 s at least; then one renewal
      // period more is left for an answer on its way.
      await vi.advanceTimersByTimeAsync(3_499);
      expect(lost).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(lost).toEqual(['the lease was not renewed for 4000 ms (the store did not answer, or this process was paused) and another master that can lead was up (b:9090): stepping aside']);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(lost).toHaveLength(1);
      await lead.release();
    });

    it('goes by the store\'s answer when one comes before it steps aside: refused, another master leads', async () => {
      const { lease, lost, lead } = await cutOff([me, other]);
      // As after a pause: the renewal sent at 3 s reaches a store where another master took the lease.
      lease.cut = false;
      lease.holder = other;
      lease.epoch++;
      const refuse = lease.renew.bind(lease);
      lease.renew = async (who, epoch) => {
        await new Promise((r) => setTimeout(r, 2_500));
        return refuse(who, epoch);
      };
      await vi.advanceTimersByTimeAsync(3_600);
      expect(lost).toEqual(['another master acquired the lease (this one led at epoch 2)']);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(lost).toHaveLength(1);
      await lead.release();
    });

    it('holds on, as a single master does, when no other master was up at the last renewal', async () => {
      const { lease, lines, lost, lead } = await cutOff([me]);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(lost).toEqual([]);
      expect(lines).toContain('the lease was not renewed for 3000 ms and no other master was up at the last renewal: holding on until the store answers');
      // The store answers again (the hung calls stay hung, as on a dead connection): it keeps leading.
      lease.cut = false;
      lease.up = [me, other];
      await lead.release();
      expect(lease.holder).toBeNull();
    });

    it('goes by what it saw at its last renewal: a master that left since does not count', async () => {
      vi.useFakeTimers();
      const lease = new MemoryLease();
      lease.holder = null;
      lease.up = [other];
      const lead = new Leadership(lease, me, () => undefined, timing);
      await lead.acquire();
      const lost: string[] = [];
      lead.keep((why) => lost.push(why));
      await vi.advanceTimersByTimeAsync(1_500);
      // The standby stopped before the last renewal this leader made.
      lease.up = [me];
      await vi.advanceTimersByTimeAsync(1_000);
      lease.cut = true;
      await vi.advanceTimersByTimeAsync(20_000);
      expect(lost).toEqual([]);
      lease.cut = false;
      await lead.release();
    });

    it('keeps leading while each renewal comes within the lease, however slowly the store answers', async () => {
      vi.useFakeTimers();
      const lease = new MemoryLease();
      lease.holder = null;
      lease.up = [other];
      const slow = lease.renew.bind(lease);
      lease.renew = async (who, epoch) => {
        await new Promise((r) => setTimeout(r, 1_400));
        return slow(who, epoch);
      };
      const lead = new Leadership(lease, me, () => undefined, timing);
      await lead.acquire();
      const lost: string[] = [];
      lead.keep((why) => lost.push(why));
      await vi.advanceTimersByTimeAsync(30_000);
      expect(lost).toEqual([]);
      expect(lease.calls.filter((c) => c === 'renew').length).toBeGreaterThan(5);
      await lead.release();
    });
  });

  it('reports a write refused by fencing, and passes everything else through', async () => {
    const fenced: number[] = [];
    const store = {
      n: 1,
      read: async () => 'value',
      write: async () => {
        throw new FencedError(3);
      },
      fail: async () => {
        throw new Error('other');
      },
      sync(): number {
        return this.n;
      },
    };
    const watched = watchFenced(store, (err) => fenced.push(err.epoch));
    expect(await watched.read()).toBe('value');
    expect(watched.sync()).toBe(1);
    await expect(watched.fail()).rejects.toThrow('other');
    expect(fenced).toEqual([]);
    await expect(watched.write()).rejects.toBeInstanceOf(FencedError);
    expect(fenced).toEqual([3]);
  });

  it('advertises --advertise, else the listening host, else the machine name for a wildcard', () => {
    expect(advertisedHost('10.0.0.5', undefined)).toBe('10.0.0.5');
    expect(advertisedHost('0.0.0.0', 'titan-1.internal')).toBe('titan-1.internal');
    expect(advertisedHost('0.0.0.0', undefined)).not.toBe('0.0.0.0');
    expect(advertisedHost('::1', undefined)).toBe('[::1]');
  });
});
