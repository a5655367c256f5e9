import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatRelative, splitMatches, stripAnsi } from './format.ts';
import { TONE_ICONS } from './icons.ts';
import { JOB_STATUS_ORDER, jobStatusInfo, runStatusInfo, toneColor, waitingOf } from './status.ts';
import { JOB_STATUS_LIST } from './types.ts';

describe('status looks', () => {
  it('gives every job status its own icon, label and tone', () => {
    const infos = JOB_STATUS_LIST.map(jobStatusInfo);
    expect(new Set(infos.map((i) => TONE_ICONS[i.tone])).size).toBe(JOB_STATUS_LIST.length);
    expect(new Set(infos.map((i) => i.label)).size).toBe(JOB_STATUS_LIST.length);
    expect(new Set(infos.map((i) => i.tone)).size).toBe(JOB_STATUS_LIST.length);
    expect([...JOB_STATUS_ORDER].sort()).toEqual([...JOB_STATUS_LIST].sort());
  });

  it('names colours as theme variables and copes with unknown statuses', () => {
    expect(toneColor(jobStatusInfo('DEAD').tone)).toBe('var(--st-dead)');
    expect(runStatusInfo('FAILED').tone).toBe('dead');
    expect(jobStatusInfo('BOGUS').label).toBe('BOGUS');
  });

  it('gives the reason a job waits only while it is queued', () => {
    expect(waitingOf({ status: 'QUEUED', waitingReason: 'key db is at its limit (1/1 running)' })).toBe('key db is at its limit (1/1 running)');
    expect(waitingOf({ status: 'QUEUED', waitingReason: null })).toBeNull();
    expect(waitingOf({ status: 'RUNNING', waitingReason: 'stale' })).toBeNull();
  });
});

describe('formatting', () => {
  it('formats durations and relative times', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_345)).toBe('12 s');
    expect(formatDuration(3_500)).toBe('3.5 s');
    expect(formatDuration(245_000)).toBe('4 min 05 s');
    expect(formatDuration(2 * 3600_000 + 3 * 60_000)).toBe('2 h 03 min');
    expect(formatDuration(null)).toBe('—');
    expect(formatRelative(1000, 1500)).toBe('just now');
    expect(formatRelative(0, 300_000)).toBe('5 min ago');
    expect(formatRelative(10_000, 0)).toBe('in 10 s');
  });

  it('formats sizes, strips terminal escapes and splits search matches', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(stripAnsi('\u001b[31mred\u001b[0m plain')).toBe('red plain');
    const m = splitMatches('Error here, error there', 'error');
    expect(m.count).toBe(2);
    expect(m.parts.filter((p) => p.match).map((p) => p.text)).toEqual(['Error', 'error']);
    expect(m.parts.map((p) => p.text).join('')).toBe('Error here, error there');
    expect(splitMatches('aaaa', 'a', 2)).toMatchObject({ count: 2, capped: true });
  });
});
