import { describe, expect, it } from 'vitest';
import { TitanError } from '../../core/errors.js';
import type { Master } from '../../master/master.js';
import { ACCESS } from '../../protocol/access.js';
import { params } from '../../protocol/methods.js';
import { CLUSTER, type Gatekeeper } from '../gatekeeper.js';
import { checkParams, COMMANDS, perform } from './table.js';

describe('the command table', () => {
  it('has exactly one entry for every method of the access table, and none besides', () => {
    expect(Object.keys(COMMANDS).sort()).toEqual(Object.keys(ACCESS).sort());
  });

  it('names each entry by its method and takes its access and schema from the one definition', () => {
    for (const [method, entry] of Object.entries(COMMANDS)) {
      expect(entry.method).toBe(method);
      expect(entry.access).toBe(ACCESS[method as keyof typeof ACCESS]);
      expect(entry.params).toBe(params[method as keyof typeof params]);
    }
  });

  it('refuses bad parameters with BAD_REQUEST naming the field, before the handler runs', async () => {
    let called = false;
    const master = { getRun: () => (called = true) } as unknown as Master;
    const ctx = { master, gate: {} as Gatekeeper, principal: CLUSTER, origin: {} };
    const refused = await perform('run.get', ctx, { runId: 42 }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(TitanError);
    expect((refused as TitanError).code).toBe('BAD_REQUEST');
    expect((refused as TitanError).message).toMatch(/^invalid parameters for run\.get: runId: /);
    expect(called).toBe(false);
  });

  it('names an unknown field and lets a door word the refusal its own way', () => {
    expect(() => checkParams('kv.get', { key: 'a', extra: 1 })).toThrow(/invalid parameters for kv\.get: .*extra/);
    expect(() => checkParams('schedule.pause', { name: '' }, (issues) => `invalid schedule name: ${issues}`)).toThrow(/^invalid schedule name: name: /);
  });

  it('hands the handler the parameters with their defaults', async () => {
    const seen: unknown[] = [];
    const master = { listRuns: async (q: unknown) => (seen.push(q), { runs: [], next: null }) } as unknown as Master;
    await perform('runs.list', { master, gate: {} as Gatekeeper, principal: CLUSTER, origin: {} }, undefined);
    expect(seen).toEqual([{ limit: 50 }]);
  });
});
