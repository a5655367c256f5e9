/**
 * The Store conformance suite's part for the audit log and named identities, on every backend of
 * storeBackends() like store.test.ts: numbering by the store, newest-first listings and paging,
 * the trim to the newest entries, a retried append applied once, and identities that are added
 * once per name and survive a reopen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditDraft } from './access-store.js';
import type { Store } from './store.js';
import { storeBackends } from '../../test/helpers/stores.js';

const { factories, missing } = storeBackends();

let dir: string;
let opened: Store[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'titan-access-'));
  opened = [];
});

afterEach(async () => {
  for (const s of opened) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

if (missing !== null) {
  describe('Store conformance (audit and identities): server backends', () => {
    it('runs in CI', () => {
      throw new Error(missing);
    });
  });
}

const draft = (n: number, more: Partial<AuditDraft> = {}): AuditDraft => ({ at: 1_700_000_000_000 + n, who: 'ana', kind: 'token', via: 'tcp', from: '127.0.0.1', action: 'run.cancel', target: `r${n}`, ok: true, ...more });
const targets = (entries: { target: string | null }[]): (string | null)[] => entries.map((e) => e.target);

describe.each(factories)('Store conformance (audit and identities): $name', (factory) => {
  beforeAll(async () => {
    await factory.setup?.();
  }, 60_000);

  afterAll(async () => {
    await factory.teardown?.();
  });

  const open = async (): Promise<Store> => {
    const s = await factory.open(dir);
    opened.push(s);
    return s;
  };

  it('numbers appended entries in order and lists them newest first, with every field equal', async () => {
    const store = await open();
    expect(await store.auditList(10)).toEqual([]);
    const refused = draft(3, { ok: false, error: 'run.cancel changes runs: the token ana cannot call it', target: null, via: 'http', kind: 'user' });
    await store.auditAppend({ id: 'b1', entries: [draft(1), draft(2)], keep: 100 });
    await store.auditAppend({ id: 'b2', entries: [refused], keep: 100 });
    const all = await store.auditList(10);
    expect(all.map((e) => e.seq)).toEqual([3, 2, 1].map((i) => (all[2]?.seq ?? 0) + i - 1));
    expect(all[0]).toStrictEqual({ seq: all[0]?.seq, ...refused });
    expect(all[2]).toStrictEqual({ seq: all[2]?.seq, ...draft(1) });
    expect(targets(await store.auditList(2))).toEqual([null, 'r2']);
  });

  it('pages back with `before` and a limit', async () => {
    const store = await open();
    await store.auditAppend({ id: 'b', entries: [1, 2, 3, 4, 5].map((n) => draft(n)), keep: 100 });
    const [, second] = await store.auditList(5);
    const older = await store.auditList(2, second?.seq);
    expect(targets(older)).toEqual(['r3', 'r2']);
    expect(targets(await store.auditList(10, older[1]?.seq))).toEqual(['r1']);
    expect(await store.auditList(0)).toEqual([]);
  });

  it('applies a retried append once, whatever else came between', async () => {
    const store = await open();
    const batch = { id: 'master-a-1', entries: [draft(1), draft(2)], keep: 100 };
    await store.auditAppend(batch);
    await store.auditAppend({ id: 'master-a-2', entries: [draft(3)], keep: 100 });
    await store.auditAppend(batch);
    expect(targets(await store.auditList(10))).toEqual(['r3', 'r2', 'r1']);
  });

  it('keeps only the newest entries, and numbers on past the ones it deleted', async () => {
    const store = await open();
    await store.auditAppend({ id: 'b1', entries: [1, 2, 3].map((n) => draft(n)), keep: 4 });
    await store.auditAppend({ id: 'b2', entries: [4, 5, 6].map((n) => draft(n)), keep: 4 });
    const kept = await store.auditList(10);
    expect(targets(kept)).toEqual(['r6', 'r5', 'r4', 'r3']);
    await store.auditAppend({ id: 'b3', entries: [draft(7)], keep: 4 });
    const after = await store.auditList(10);
    expect(targets(after)).toEqual(['r7', 'r6', 'r5', 'r4']);
    expect(after[0]?.seq).toBe((kept[0]?.seq ?? 0) + 1);
  });

  it('keeps entries and their numbering across a reopen', async () => {
    const first = await open();
    await first.auditAppend({ id: 'b1', entries: [draft(1), draft(2)], keep: 100 });
    const before = await first.auditList(10);
    await first.close();
    opened.splice(opened.indexOf(first), 1);
    const again = await open();
    expect(await again.auditList(10)).toEqual(before);
    await again.auditAppend({ id: 'b2', entries: [draft(3)], keep: 100 });
    expect((await again.auditList(1))[0]?.seq).toBe((before[0]?.seq ?? 0) + 1);
  });

  it('adds an identity once per kind and name, lists tokens then users by name, removes it, and keeps them across a reopen', async () => {
    const store = await open();
    expect(await store.identityList()).toEqual([]);
    expect(await store.identityAdd({ kind: 'user', name: 'zoe', body: '{"u":1}' })).toBe(true);
    expect(await store.identityAdd({ kind: 'token', name: 'ci', body: '{"t":1}' })).toBe(true);
    expect(await store.identityAdd({ kind: 'token', name: 'Bot', body: '{"t":2}' })).toBe(true);
    // The same name is another identity when its kind differs; not when it is the same.
    expect(await store.identityAdd({ kind: 'user', name: 'ci', body: '{"u":2}' })).toBe(true);
    expect(await store.identityAdd({ kind: 'token', name: 'ci', body: '{"t":3}' })).toBe(false);
    const listed = [
      { kind: 'token', name: 'Bot', body: '{"t":2}' },
      { kind: 'token', name: 'ci', body: '{"t":1}' },
      { kind: 'user', name: 'ci', body: '{"u":2}' },
      { kind: 'user', name: 'zoe', body: '{"u":1}' },
    ];
    expect(await store.identityList()).toEqual(listed);
    expect(await store.identityRemove('token', 'ci')).toBe(true);
    expect(await store.identityRemove('token', 'ci')).toBe(false);
    await store.close();
    opened.splice(opened.indexOf(store), 1);
    const again = await open();
    expect(await again.identityList()).toEqual(listed.filter((i) => !(i.kind === 'token' && i.name === 'ci')));
  });
});
