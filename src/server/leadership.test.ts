import { describe, expect, it } from 'vitest';
import { type AcquireResult, FencedError, type LeaderLease, type LeaseState, type MasterAddress } from '../store/lease.js';
import { advertisedHost, Leadership, watchFenced } from './leadership.js';

const me: MasterAddress = { id: 'me', tcp: 'a:9090', http: 'http://a:5000' };
const other: MasterAddress = { id: 'other', tcp: 'b:9090', http: 'http://b:5000' };
const fast = { ttlMs: 300, renewEveryMs: 20, acquireEveryMs: 20 };
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A lease held in memory: `holder` is who has it; `failing` makes every call throw. */
class MemoryLease implements LeaderLease {
  holder: MasterAddress | null = other;
  epoch = 1;
  failing = false;
  calls: string[] = [];

  private check(what: string): void {
    this.calls.push(what);
    if (this.failing) throw new Error('store unreachable');
  }
  async acquire(who: MasterAddress): Promise<AcquireResult> {
    this.check('acquire');
    if (this.holder !== null && this.holder.id !== who.id) return { acquired: false, current: { holder: this.holder, epoch: this.epoch, expiresInMs: 100 } };
    this.holder = who;
    return { acquired: true, epoch: ++this.epoch };
  }
  async renew(who: MasterAddress, epoch: number): Promise<boolean> {
    this.check('renew');
    return this.holder?.id === who.id && this.epoch === epoch;
  }
  async release(who: MasterAddress, epoch: number): Promise<void> {
    this.check('release');
    if (this.holder?.id === who.id && this.epoch === epoch) this.holder = null;
  }
  async current(): Promise<LeaseState | null> {
    return this.holder && { holder: this.holder, epoch: this.epoch, expiresInMs: 100 };
  }
  fence(): void {}
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
