import { describe, expect, it } from 'vitest';
import type { WorkerState } from './model.js';
import type { Placement } from './routing.js';
import { placementWait, waitingReason, withAhead, withoutAhead, type WorkerStatus } from './waiting-reason.js';

const worker = (id: string, capabilities: string[], o: { slots?: number; running?: number; state?: WorkerState } = {}): WorkerStatus => {
  const state = o.state ?? 'connected';
  return { id, capabilities: new Set(capabilities), slots: o.slots ?? 4, running: o.running ?? 0, state, accepting: state === 'connected' };
};
const needs = (requirement: string, affinity: Placement['affinity'] = 'none', preferredWorker: string | null = null): Placement => ({ requirement, affinity, preferredWorker });

describe('waitingReason', () => {
  it('is null when a worker can take the job now', () => {
    expect(waitingReason(needs('GENERAL'), [worker('a', ['GENERAL'])])).toBeNull();
    expect(waitingReason(needs('GPU'), [worker('a', ['GENERAL']), worker('b', ['GENERAL', 'GPU'], { running: 3 })])).toBeNull();
    // Soft affinity to a full worker: any other capable worker takes it.
    expect(waitingReason(needs('GENERAL', 'soft', 'a'), [worker('a', ['GENERAL'], { running: 4 }), worker('b', ['GENERAL'])])).toBeNull();
  });

  it('names the capability no connected worker offers, and what is connected instead', () => {
    expect(waitingReason(needs('GENERAL'), [])).toBe('no worker is connected');
    expect(waitingReason(needs('GENERAL'), [worker('g', ['GPU'])])).toBe('no connected worker offers GENERAL; 1 GPU worker is connected');
    expect(waitingReason(needs('GENERAL'), [worker('g1', ['GPU']), worker('g2', ['GPU'])])).toBe('no connected worker offers GENERAL; 2 GPU workers are connected');
    expect(waitingReason(needs('GENERAL'), [worker('g1', ['GPU']), worker('g2', ['HIGH_MEM', 'GPU']), worker('g3', ['GPU'])])).toBe(
      'no connected worker offers GENERAL; 3 workers are connected: 2 GPU, 1 GPU,HIGH_MEM',
    );
    // A disconnected worker of another pool is not "connected".
    expect(waitingReason(needs('GENERAL'), [worker('g', ['GPU'], { state: 'disconnected' })])).toBe('no worker is connected');
    // Capabilities match exactly, as placement does.
    expect(waitingReason(needs('gpu'), [worker('g', ['GPU'])])).toBe('no connected worker offers gpu; 1 GPU worker is connected');
  });

  it('says when the capable workers are draining or gone', () => {
    expect(waitingReason(needs('GENERAL'), [worker('a', ['GENERAL'], { state: 'draining' }), worker('g', ['GPU'])])).toBe('the only GENERAL worker is draining');
    expect(waitingReason(needs('GENERAL'), [worker('a', ['GENERAL'], { state: 'disconnected' })])).toBe('the only GENERAL worker is disconnected');
    expect(waitingReason(needs('GENERAL'), [worker('a', ['GENERAL'], { state: 'draining' }), worker('b', ['GENERAL'], { state: 'draining' })])).toBe('all 2 GENERAL workers are draining');
    expect(waitingReason(needs('GENERAL'), [worker('a', ['GENERAL'], { state: 'disconnected' }), worker('b', ['GENERAL'], { state: 'disconnected' })])).toBe('all 2 GENERAL workers are disconnected');
    expect(waitingReason(needs('GENERAL'), [worker('a', ['GENERAL'], { state: 'draining' }), worker('b', ['GENERAL'], { state: 'disconnected' })])).toBe('no GENERAL worker takes work: 1 draining, 1 disconnected');
  });

  it('says the slots are busy when that is all there is to it, counting only workers that take work', () => {
    const full = (id: string, slots: number): WorkerStatus => worker(id, ['GENERAL'], { slots, running: slots });
    expect(waitingReason(needs('GENERAL'), [full('a', 4)])).toBe('all 4 GENERAL slots are busy');
    expect(waitingReason(needs('GENERAL'), [full('a', 1)])).toBe('the only GENERAL slot is busy');
    expect(waitingReason(needs('GENERAL'), [full('a', 2), full('b', 2), worker('c', ['GENERAL'], { state: 'draining' })])).toBe('all 4 GENERAL slots are busy');
    // A reconnected worker may report more attempts than slots.
    expect(waitingReason(needs('GENERAL'), [worker('a', ['GENERAL'], { slots: 2, running: 3 })])).toBe('all 2 GENERAL slots are busy');
  });

  it('waits for the worker of a required affinity, whatever the rest of the pool does', () => {
    const free = worker('b', ['GENERAL']);
    expect(waitingReason(needs('GENERAL', 'required', 'a'), [free])).toBe('waiting for its affinity worker a, which is not connected');
    expect(waitingReason(needs('GENERAL', 'required', 'a'), [worker('a', ['GENERAL'], { state: 'disconnected' }), free])).toBe('waiting for its affinity worker a, which is not connected');
    expect(waitingReason(needs('GENERAL', 'required', 'a'), [worker('a', ['GENERAL'], { state: 'draining' }), free])).toBe('its affinity worker a is draining');
    expect(waitingReason(needs('GENERAL', 'required', 'a'), [worker('a', ['GPU']), free])).toBe('its affinity worker a does not offer GENERAL');
    expect(waitingReason(needs('GENERAL', 'required', 'a'), [worker('a', ['GENERAL'], { running: 4 }), free])).toBe('all 4 slots of its affinity worker a are busy');
    expect(waitingReason(needs('GENERAL', 'required', 'a'), [worker('a', ['GENERAL'], { slots: 1, running: 1 })])).toBe('the only slot of its affinity worker a is busy');
    expect(waitingReason(needs('GENERAL', 'required', 'a'), [worker('a', ['GENERAL'])])).toBeNull();
    // No target yet (the parent ran nowhere): any capable worker.
    expect(waitingReason(needs('GENERAL', 'required', null), [worker('g', ['GPU'])])).toBe('no connected worker offers GENERAL; 1 GPU worker is connected');
  });

  it("names a service's fixed port when it is taken on every worker that could run it", () => {
    const workers = [worker('a', ['GENERAL']), worker('b', ['GENERAL'], { running: 4 })];
    expect(waitingReason(needs('GENERAL'), workers, { port: 8080, takenOn: new Set(['a']) })).toBe('port 8080 is taken on every GENERAL worker with a free slot');
    expect(waitingReason(needs('GENERAL'), workers, { port: 8080, takenOn: new Set(['b']) })).toBeNull();
    expect(waitingReason(needs('GENERAL'), [worker('g', ['GPU'])], { port: 8080, takenOn: new Set() })).toBe('no connected worker offers GENERAL; 1 GPU worker is connected');
  });

  it('tells busy slots from every other reason, and adds the place in line only to busy slots', () => {
    const full = worker('a', ['GENERAL'], { slots: 4, running: 4 });
    const wait = placementWait(needs('GENERAL'), [full]);
    expect(wait).toEqual({ text: 'all 4 GENERAL slots are busy', slotsBusy: true });
    if (wait === null) throw new Error('expected a reason');
    expect(withAhead(wait, 1587)).toBe('all 4 GENERAL slots are busy; 1,587 jobs ahead of it');
    expect(withAhead(wait, 1)).toBe('all 4 GENERAL slots are busy; 1 job ahead of it');
    expect(withAhead(wait, 0)).toBe('all 4 GENERAL slots are busy; it is next in line');
    expect(withAhead(wait, null)).toBe('all 4 GENERAL slots are busy');
    const affinity = placementWait(needs('GENERAL', 'required', 'a'), [full]);
    expect(affinity?.slotsBusy).toBe(true);
    const nobody = placementWait(needs('GPU'), [full]);
    expect(nobody).toEqual({ text: 'no connected worker offers GPU; 1 GENERAL worker is connected', slotsBusy: false });
    if (nobody === null) throw new Error('expected a reason');
    expect(withAhead(nobody, 12)).toBe(nobody.text);
    expect(placementWait(needs('GENERAL'), [worker('a', ['GENERAL'], { state: 'draining' })])?.slotsBusy).toBe(false);
    expect(placementWait(needs('GENERAL'), [worker('a', ['GENERAL'])], { port: 80, takenOn: new Set(['a']) })?.slotsBusy).toBe(false);
  });

  it('takes the place in line off a reason, so jobs waiting for the same slots share one', () => {
    expect(withoutAhead('all 4 GENERAL slots are busy; 1,587 jobs ahead of it')).toBe('all 4 GENERAL slots are busy');
    expect(withoutAhead('the only GENERAL slot is busy; 1 job ahead of it')).toBe('the only GENERAL slot is busy');
    expect(withoutAhead('all 4 GENERAL slots are busy; it is next in line')).toBe('all 4 GENERAL slots are busy');
    expect(withoutAhead('no worker is connected')).toBe('no worker is connected');
  });
});
