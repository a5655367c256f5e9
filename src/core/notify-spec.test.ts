import { describe, expect, it } from 'vitest';
import { notificationBody, notificationText, redactedUrl, retryDelayMs } from './notify-spec.js';

const run = { id: 'r1', name: 'nightly', status: 'FAILED', url: 'https://titan.example.com/runs/r1' };

describe('notification bodies', () => {
  it('says in one line of Slack text what happened, with links, names escaped', () => {
    expect(notificationText('success', { ...run, status: 'COMPLETED' }, undefined)).toBe('Titan: run <https://titan.example.com/runs/r1|nightly> (r1) completed');
    expect(notificationText('failure', run, { id: 'train', status: 'DEAD', error: 'exit 3' })).toBe('Titan: run <https://titan.example.com/runs/r1|nightly> (r1) failed (job train DEAD: exit 3)');
    expect(notificationText('gate', { ...run, status: 'RUNNING' }, { id: 'ship', status: 'WAITING_APPROVAL', message: 'Ship <it>?', approvalUrl: 'https://titan.example.com/approvals' })).toBe(
      'Titan: gate ship of run <https://titan.example.com/runs/r1|nightly> (r1) waits for approval: Ship &lt;it&gt;? <https://titan.example.com/approvals|approve or reject>',
    );
    // A name cannot smuggle a link or a second line into the text.
    expect(notificationText('success', { ...run, name: '<https://evil|click>\nmore' }, undefined)).toBe('Titan: run <https://titan.example.com/runs/r1|&lt;https://evil|click&gt; more> (r1) completed');
  });

  it('carries event, text, run, job and time', () => {
    expect(notificationBody('failure', run, { id: 'a', status: 'DEAD' }, Date.UTC(2026, 0, 2, 3, 4, 5))).toEqual({
      event: 'failure',
      text: 'Titan: run <https://titan.example.com/runs/r1|nightly> (r1) failed (job a DEAD)',
      run,
      job: { id: 'a', status: 'DEAD' },
      at: '2026-01-02T03:04:05.000Z',
    });
  });

  it('backs off exponentially from the base, and shows URLs to readers by origin only', () => {
    expect([1, 2, 3, 4].map((t) => retryDelayMs(2000, t))).toEqual([2000, 4000, 8000, 16000]);
    expect(redactedUrl('https://hooks.slack.com/services/T/B/SECRET')).toBe('https://hooks.slack.com/…');
    expect(redactedUrl('http://127.0.0.1:9000/')).toBe('http://127.0.0.1:9000');
  });
});
