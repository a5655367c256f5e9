import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AccessStore, AuditBatch } from '../store/access-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { AuditLog, type AuditRecord } from './audit-log.js';

const dir = mkdtempSync(join(tmpdir(), 'titan-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});
const storeAt = (name: string): SqliteStore => {
  const s = SqliteStore.open(join(dir, name));
  stores.push(s);
  return s;
};

const action = (n: number): AuditRecord => ({ who: 'ana', kind: 'user', via: 'http', from: '127.0.0.1', action: 'run.cancel', target: `r${n}`, ok: true });

/** The store, with appends that fail while `down` says why, or that apply and then lose their reply. */
function flaky(store: AccessStore): { store: AccessStore; down: Error | null; loseReply: boolean; appends: AuditBatch[] } {
  const state = {
    down: null as Error | null,
    loseReply: false,
    appends: [] as AuditBatch[],
    store: {
      auditAppend: async (batch: AuditBatch): Promise<void> => {
        state.appends.push(batch);
        if (state.down) throw state.down;
        await store.auditAppend(batch);
        if (state.loseReply) throw new Error('connection reset before the reply');
      },
      auditList: (limit: number, before?: number) => store.auditList(limit, before),
      identityList: () => store.identityList(),
      identityAdd: (identity: Parameters<AccessStore['identityAdd']>[0]) => store.identityAdd(identity),
      identityRemove: (kind: 'token' | 'user', name: string) => store.identityRemove(kind, name),
    },
  };
  return state;
}

describe('AuditLog', () => {
  it('writes every entry once, in batches off the caller’s path, and lists the newest first from the store, as another master on it does', async () => {
    const store = storeAt('one.db');
    const log = new AuditLog(store);
    for (let n = 1; n <= 5; n++) log.record(action(n));
    // Recording returned at once: nothing is in the store until the batch is written.
    expect(await store.auditList(10)).toEqual([]);
    await log.flushed();
    expect((await store.auditList(10)).map((e) => e.target)).toEqual(['r5', 'r4', 'r3', 'r2', 'r1']);
    expect((await log.list(2)).map((e) => e.target)).toEqual(['r5', 'r4']);

    const next = new AuditLog(store);
    next.record(action(6));
    const listed = await next.list(10);
    expect(listed.map((e) => e.target)).toEqual(['r6', 'r5', 'r4', 'r3', 'r2', 'r1']);
    expect(listed.map((e) => e.seq)).toEqual([6, 5, 4, 3, 2, 1].map((i) => (listed[5]?.seq ?? 0) + i - 1));
    expect((await next.list(10, listed[3]?.seq)).map((e) => e.target)).toEqual(['r2', 'r1']);
  });

  it('keeps what it could not write, says so once, and writes it with the next entry', async () => {
    const f = flaky(storeAt('flaky.db'));
    const said: string[] = [];
    const log = new AuditLog(f.store, Date.now, (line) => said.push(line));
    f.down = new Error('the disk is full');
    log.record(action(1));
    log.record(action(2));
    await log.flushed();
    log.record(action(3));
    await log.flushed();
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/could not be written \(the disk is full\)/);
    f.down = null;
    log.record(action(4));
    expect((await log.list(10)).map((e) => e.target)).toEqual(['r4', 'r3', 'r2', 'r1']);
  });

  it('sends a batch whose reply was lost again under its id, so the store has each entry once', async () => {
    const f = flaky(storeAt('lost.db'));
    const log = new AuditLog(f.store);
    f.loseReply = true;
    log.record(action(1));
    await log.flushed();
    f.loseReply = false;
    log.record(action(2));
    await log.flushed();
    expect((await log.list(10)).map((e) => e.target)).toEqual(['r2', 'r1']);
    const [first, second] = f.appends;
    expect(second?.id).toBe(first?.id);
  });
});
