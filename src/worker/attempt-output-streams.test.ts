import { describe, expect, it, vi } from 'vitest';
import type { Peer } from '../protocol/peer.js';
import { AttemptOutput } from './attempt-output.js';

const id = { runId: 'r1', jobId: 'a', attempt: 1 };

function fill(output: AttemptOutput): void {
  output.push('out 1\n', 'stdout', true);
  output.push('err 1\n', 'stderr', true);
  output.push('err 2\n', 'stderr', true);
  output.push('out 2\n', 'stdout', true);
}

describe('AttemptOutput streams', () => {
  it('sends one event per run of one stream, stderr named, to a master that takes it', () => {
    const notify = vi.fn();
    const output = new AttemptOutput(id);
    fill(output);
    output.flush({ notify } as unknown as Peer, true);
    expect(notify.mock.calls).toStrictEqual([
      ['log', { ...id, data: 'out 1\n' }],
      ['log', { ...id, data: 'err 1\nerr 2\n', stream: 'stderr' }],
      ['log', { ...id, data: 'out 2\n' }],
    ]);
  });

  it('sends all as one text without a stream to a master that does not take it', () => {
    const notify = vi.fn();
    const output = new AttemptOutput(id);
    fill(output);
    output.flush({ notify } as unknown as Peer, false);
    expect(notify.mock.calls).toStrictEqual([['log', { ...id, data: 'out 1\nerr 1\nerr 2\nout 2\n' }]]);
  });

  it('splits a large stderr burst into events that each keep the stream', () => {
    const notify = vi.fn();
    const output = new AttemptOutput(id);
    output.push('x'.repeat(300 * 1024), 'stderr', false);
    output.flush({ notify } as unknown as Peer, true);
    const events = notify.mock.calls.map((c) => c[1] as { data: string; stream?: string });
    expect(events.length).toBe(2);
    expect(events.every((e) => e.stream === 'stderr')).toBe(true);
    expect(events.map((e) => e.data).join('').length).toBe(300 * 1024);
  });
});
