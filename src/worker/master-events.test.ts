import { describe, expect, it, vi } from 'vitest';
import type { Dispatch } from '../protocol/methods.js';
import { handleMasterEvent, type MasterEventHandlers } from './master-events.js';

function handlers(spawnWorker?: MasterEventHandlers['spawnWorker']) {
  return { run: vi.fn(), cancel: vi.fn(), drain: vi.fn(), undrain: vi.fn(), shutdown: vi.fn(), spawnWorker, log: vi.fn() } satisfies MasterEventHandlers;
}

const peer = () => ({ notify: vi.fn() });

const dispatch = (jobId: string): Dispatch => ({
  runId: 'r1',
  jobId,
  attempt: 1,
  script: { name: 'job.sh', sha256: 'a'.repeat(64) },
  args: [],
  env: {},
  timeoutMs: null,
  token: 'job-token',
});

describe('handleMasterEvent', () => {
  it('tells the master a dispatch arrived (its attempts by id only), then runs each attempt', () => {
    const on = handlers();
    const p = peer();
    const attempts = [dispatch('a'), dispatch('b')];
    handleMasterEvent(p, 'dispatch', { attempts }, on);
    expect(p.notify).toHaveBeenCalledWith('accepted', { attempts: [{ runId: 'r1', jobId: 'a', attempt: 1 }, { runId: 'r1', jobId: 'b', attempt: 1 }] });
    expect(on.run.mock.calls).toStrictEqual([[attempts[0]], [attempts[1]]]);
  });

  it('ignores a malformed dispatch whole, says so, and acknowledges nothing', () => {
    const on = handlers();
    const p = peer();
    handleMasterEvent(p, 'dispatch', { attempts: [dispatch('a'), { ...dispatch('b'), attempt: 0 }] }, on);
    expect(p.notify).not.toHaveBeenCalled();
    expect(on.run).not.toHaveBeenCalled();
    expect(on.log).toHaveBeenCalledWith(expect.stringMatching(/^ignored a malformed dispatch: /));
  });

  it('cancels the attempt a kill names; a malformed kill is dropped without a word', () => {
    const on = handlers();
    handleMasterEvent(peer(), 'kill', { runId: 'r1', jobId: 'a', attempt: 3 }, on);
    expect(on.cancel).toHaveBeenCalledWith({ runId: 'r1', jobId: 'a', attempt: 3 });
    handleMasterEvent(peer(), 'kill', { runId: 'r1' }, on);
    expect(on.cancel).toHaveBeenCalledTimes(1);
    expect(on.log).not.toHaveBeenCalled();
  });

  it('passes on drain and undrain, the latter with the session to answer on', () => {
    const on = handlers();
    const p = peer();
    handleMasterEvent(p, 'drain', {}, on);
    handleMasterEvent(p, 'undrain', undefined, on);
    expect(on.drain).toHaveBeenCalledOnce();
    expect(on.undrain).toHaveBeenCalledWith(p);
  });

  it("shuts down with the master's grace, or the worker's own when none (or no data) is given", () => {
    const on = handlers();
    handleMasterEvent(peer(), 'shutdown', { drainTimeoutMs: 5000 }, on);
    handleMasterEvent(peer(), 'shutdown', undefined, on);
    expect(on.shutdown.mock.calls).toStrictEqual([[5000], [undefined]]);
    handleMasterEvent(peer(), 'shutdown', { drainTimeoutMs: -1 }, on);
    expect(on.shutdown).toHaveBeenCalledTimes(2);
    expect(on.log).toHaveBeenCalledWith(expect.stringMatching(/^ignored a malformed shutdown request: /));
  });

  it('starts an ephemeral worker when this worker can, and says so when it cannot', () => {
    const request = { spawnId: 's1', capabilities: ['GPU'], slots: 2 };
    const spawn = vi.fn();
    handleMasterEvent(peer(), 'spawnWorker', request, handlers(spawn));
    expect(spawn).toHaveBeenCalledWith(request);
    const unable = handlers();
    handleMasterEvent(peer(), 'spawnWorker', request, unable);
    expect(unable.log).toHaveBeenCalledWith('the master asked for an ephemeral worker, but this worker cannot start one');
    handleMasterEvent(peer(), 'spawnWorker', { spawnId: 's2', capabilities: [], slots: 2 }, handlers(spawn));
    expect(spawn).toHaveBeenCalledTimes(1);
  });

  it('ignores events it does not know', () => {
    const on = handlers();
    const p = peer();
    handleMasterEvent(p, 'something-new', { x: 1 }, on);
    for (const f of [p.notify, on.run, on.cancel, on.drain, on.undrain, on.shutdown, on.log]) expect(f).not.toHaveBeenCalled();
  });
});
