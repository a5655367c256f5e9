import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { masterResources, type TestResources } from '../../../test/helpers/master-resources.js';
import { keyIdOf } from '../secret-box.js';
import { Secrets, SECRETS_META } from './secrets.js';

let t: TestResources;
const KEY = randomBytes(32);
afterEach(() => t.close());

const stored = async (): Promise<{ secrets: Record<string, { sealed: { key: string } }> }> => JSON.parse((await t.store.getMeta(SECRETS_META)) ?? '{}') as { secrets: Record<string, { sealed: { key: string } }> };

describe('Secrets', () => {
  it('keeps values sealed in the store, lists names and dates, and a new master reads them', async () => {
    t = masterResources();
    const key = randomBytes(32);
    const secrets = new Secrets(t.r, { current: () => key, previous: null });
    expect(await secrets.set('API_KEY', 'v1')).toMatchObject({ created: true, secret: { name: 'API_KEY', createdAt: 1_000, updatedAt: 1_000 } });
    t.clock.advance(500);
    expect(await secrets.set('API_KEY', 'v2')).toMatchObject({ created: false, secret: { createdAt: 1_000, updatedAt: 1_500 } });
    expect(secrets.list()).toEqual([{ name: 'API_KEY', createdAt: 1_000, updatedAt: 1_500 }]);
    expect(await t.store.getMeta(SECRETS_META)).not.toContain('v2');
    const next = new Secrets(t.r, { current: () => key, previous: null });
    await next.load();
    expect(next.handOut(['API_KEY'], { runId: 'r', jobId: 'j', attempt: 1 }, 'w')).toEqual({ env: { API_KEY: 'v2' } });
  });

  it('refuses jobs that declare secrets that do not exist, naming them', async () => {
    t = masterResources();
    const secrets = new Secrets(t.r, { current: () => KEY, previous: null });
    await secrets.set('A', 'x');
    expect(() => secrets.checkDeclared([{ id: 'ok', secrets: ['A'] }, { id: 'job', secrets: ['A', 'B', 'C'] }])).toThrow('job job declares secrets that do not exist: B, C');
    expect(() => secrets.checkDeclared([{ id: 'none' }])).not.toThrow();
  });

  it('reports each hand-out, and refuses one whose secret was removed', async () => {
    t = masterResources();
    const secrets = new Secrets(t.r, { current: () => KEY, previous: null });
    const heard: unknown[] = [];
    secrets.onHandOut((out) => heard.push(out));
    await secrets.set('A', 'x');
    secrets.handOut(['A'], { runId: 'r', jobId: 'j', attempt: 2 }, 'w1');
    expect(heard).toEqual([{ attempt: { runId: 'r', jobId: 'j', attempt: 2 }, names: ['A'], workerId: 'w1' }]);
    expect(await secrets.remove('A')).toEqual({ removed: true });
    expect(secrets.handOut(['A'], { runId: 'r', jobId: 'j', attempt: 3 }, 'w1')).toEqual({ error: expect.stringContaining('secret A declared by the job was removed') });
    expect(heard).toHaveLength(1);
  });

  it('re-encrypts every value with the new key when started with the previous one', async () => {
    t = masterResources();
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = new Secrets(t.r, { current: () => oldKey, previous: null });
    await before.set('A', 'alpha');
    await before.set('B', 'beta');
    const rotating = new Secrets(t.r, { current: () => newKey, previous: oldKey });
    await rotating.load();
    expect(Object.values((await stored()).secrets).map((s) => s.sealed.key)).toEqual([keyIdOf(newKey), keyIdOf(newKey)]);
    expect(t.logged.some((l) => l.includes('re-encrypted 2 secrets'))).toBe(true);
    const after = new Secrets(t.r, { current: () => newKey, previous: null });
    await after.load();
    expect(after.handOut(['A', 'B'], { runId: 'r', jobId: 'j', attempt: 1 }, 'w')).toEqual({ env: { A: 'alpha', B: 'beta' } });
    // A master still on the old key says so rather than handing out garbage.
    const stale = new Secrets(t.r, { current: () => oldKey, previous: null });
    await stale.load();
    expect(stale.handOut(['A'], { runId: 'r', jobId: 'j', attempt: 1 }, 'w')).toEqual({ error: expect.stringContaining('encrypted with another key') });
  });

  it('leaves the secrets as they were when the store refuses a change', async () => {
    t = masterResources();
    const secrets = new Secrets(t.r, { current: () => KEY, previous: null });
    await secrets.set('A', 'x');
    const setMeta = t.store.setMeta.bind(t.store);
    t.store.setMeta = () => Promise.reject(new Error('disk full'));
    await expect(secrets.set('B', 'y')).rejects.toThrow('the secrets were not changed: disk full');
    expect(secrets.list().map((s) => s.name)).toEqual(['A']);
    t.store.setMeta = setMeta;
  });
});
