import { afterEach, describe, expect, it, vi } from 'vitest';
import { TitanError } from '../../core/errors.js';
import type { Effect, RunState } from '../../core/run-state.js';
import { createRun } from '../../core/run-transitions.js';
import { jobSpec } from '../../../test/helpers/records.js';
import { masterResources, type TestResources } from '../../../test/helpers/master-resources.js';
import { Commands } from './commands.js';
import { EffectApplier } from './effects.js';

let t: TestResources;
afterEach(() => t.close());

/** Commands over real resources, counting what reaches the effects system and the bus. */
async function setup(): Promise<{ commands: Commands; state: RunState; applied: (readonly Effect[])[]; heard: string[] }> {
  t = masterResources();
  const effects = new EffectApplier(t.r, t.flow);
  const applied: (readonly Effect[])[] = [];
  const commands = new Commands(t.r, {
    apply: (state, e) => {
      applied.push(e);
      effects.apply(state, e);
    },
  });
  const { state, effects: created } = createRun('r1', { name: 'two', jobs: [jobSpec('a'), jobSpec('b')] }, t.clock.now());
  t.r.runs.adopt(state);
  for (const job of state.jobs.values()) t.r.committer.newJob(job);
  effects.apply(state, created);
  await t.r.committer.flushed();
  const heard: string[] = [];
  t.r.bus.on('jobs', (views, runId) => heard.push(`jobs ${runId}: ${views.map((v) => `${v.spec.id} ${v.status}`).join(', ')}`));
  t.r.bus.on('run', (run) => heard.push(`run ${run.runId} ${run.status}`));
  return { commands, state, applied, heard };
}

describe('Commands.change', () => {
  it('applies a decision, adopts nothing new, and answers once it is durable', async () => {
    const { commands, state, applied, heard } = await setup();
    const view = await commands.cancelJob('r1/a');
    expect(view.status).toBe('CANCELLED');
    expect(applied).toHaveLength(1);
    expect(t.r.runs.get('r1')).toBe(state);
    expect((await t.store.findJob('a', 'r1'))?.status).toBe('CANCELLED');
    expect(heard).toEqual(['jobs r1: a CANCELLED']);
  });

  it('a store that cannot take commits refuses before the core decides: nothing changes, nothing is published', async () => {
    const { commands, state, applied, heard } = await setup();
    vi.spyOn(t.r.committer, 'checkAvailable').mockImplementation((what) => {
      throw new TitanError('UNAVAILABLE', `${what}: the store is away`);
    });
    const decide = vi.fn(() => null);
    await expect(commands.change({ refused: 'nothing was done', decide })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'nothing was done: the store is away' });
    await expect(commands.cancelJob('r1/a')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'the job was not cancelled: the store is away' });
    expect(decide).not.toHaveBeenCalled();
    expect(state.jobs.get('a')?.status).toBe('QUEUED');
    expect(applied).toEqual([]);
    await t.r.committer.flushed();
    expect((await t.store.findJob('a', 'r1'))?.status).toBe('QUEUED');
    expect(heard).toEqual([]);
  });

  it('a decision the run does not allow is a CONFLICT: nothing applied, published or adopted', async () => {
    const { commands, applied, heard } = await setup();
    await commands.cancelJob('r1/a');
    applied.length = 0;
    heard.length = 0;
    await expect(commands.cancelJob('r1/a')).rejects.toMatchObject({ code: 'CONFLICT', message: 'job r1/a is already CANCELLED' });
    const { state: other } = createRun('r2', { name: 'other', jobs: [jobSpec('c')] }, t.clock.now());
    await expect(commands.change({ refused: 'r2 was not changed', decide: () => null, conflict: () => 'r2 allows nothing' })).rejects.toMatchObject({ code: 'CONFLICT', message: 'r2 allows nothing' });
    await expect(commands.change({ refused: 'r2 was not changed', decide: () => null })).rejects.toMatchObject({ code: 'CONFLICT', message: 'r2 was not changed' });
    expect(t.r.runs.has(other.run.runId)).toBe(false);
    expect(applied).toEqual([]);
    await t.r.committer.flushed();
    expect(heard).toEqual([]);
  });

  it('a run the change is about that is not in memory is adopted, and its staged records go with it', async () => {
    const { commands, applied } = await setup();
    const { state, effects } = createRun('r3', { name: 'new', jobs: [jobSpec('d')] }, t.clock.now());
    const staged = vi.fn((s: RunState) => {
      for (const job of s.jobs.values()) t.r.committer.newJob(job);
    });
    await commands.change({ refused: 'no', decide: () => ({ state, effects }), stage: staged });
    expect(t.r.runs.get('r3')).toBe(state);
    expect(staged).toHaveBeenCalledWith(state);
    expect(applied).toEqual([effects]);
    expect((await t.store.getRun('r3'))?.name).toBe('new');
    expect((await t.store.findJob('d', 'r3'))?.status).toBe('QUEUED');
  });
});
