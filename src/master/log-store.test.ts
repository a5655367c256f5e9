import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogStore } from './log-store.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LogStore', () => {
  it("masks an attempt's secret values in what it stores and streams, a value split between two chunks too, and lets the held tail out at the close", () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const logs = new LogStore(dir);
    const heard: string[] = [];
    logs.listen('r1', 'a', (_attempt, data) => heard.push(data));
    logs.mask('r1', 'a', 1, ['hunter2-secret']);
    logs.append('r1', 'a', 1, 'pw=hunter2-');
    logs.append('r1', 'a', 1, 'secret ok\nends with hunt');
    logs.close('r1', 'a', 1);
    const stored = readFileSync(logs.pathOf('r1', 'a', 1), 'utf8');
    expect(stored).toBe('pw=*** ok\nends with hunt');
    expect(heard.join('')).toBe(stored);
    expect(heard.some((chunk) => chunk.includes('hunter2-'))).toBe(false);
  });

  it('asks for the values of an attempt it was not told about (one reclaimed after a restart)', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const asked: string[] = [];
    const logs = new LogStore(dir, { secretsOf: (runId, jobId, attempt) => (asked.push(`${runId}/${jobId}#${attempt}`), ['s3cr3t-value']) });
    logs.append('r1', 'a', 2, 'got s3cr3t-value\n');
    logs.append('r1', 'a', 2, 'again s3cr3t-value\n');
    logs.close('r1', 'a', 2);
    expect(readFileSync(logs.pathOf('r1', 'a', 2), 'utf8')).toBe('got ***\nagain ***\n');
    expect(asked).toEqual(['r1/a#2']);
  });

  it('keeps at most maxBytes of an attempt, cut at a character boundary, with one note, and tells listeners the same', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const logs = new LogStore(dir, { maxBytes: 10 });
    const heard: string[] = [];
    logs.listen('r1', 'a', (_attempt, data) => heard.push(data));
    logs.append('r1', 'a', 1, '12345678');
    logs.append('r1', 'a', 1, 'é€xyz');
    logs.append('r1', 'a', 1, 'more, dropped');
    logs.append('r1', 'a', 2, 'second attempt');
    const first = readFileSync(logs.pathOf('r1', 'a', 1), 'utf8');
    expect(first).toMatch(/^12345678é\n\[titan: output truncated: an attempt keeps at most 10 bytes on the master \(--max-log-mb\)\]\n$/);
    const second = readFileSync(logs.pathOf('r1', 'a', 2), 'utf8');
    expect(second).toMatch(/^second att\n\[titan: output truncated/);
    expect(heard).toEqual(['12345678', first.slice('12345678'.length), second]);
    logs.closeAll();
  });

  it('counts what an attempt wrote before a restart', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const before = new LogStore(dir, { maxBytes: 10 });
    before.append('r1', 'a', 1, '123456');
    before.closeAll();
    const after = new LogStore(dir, { maxBytes: 10 });
    after.append('r1', 'a', 1, '7890ab');
    expect(readFileSync(after.pathOf('r1', 'a', 1), 'utf8')).toMatch(/^1234567890\n\[titan: output truncated/);
    after.closeAll();
  });

  // /dev/full refuses every write with ENOSPC, as a full disk does.
  it.skipIf(!existsSync('/dev/full'))('counts output a full disk refused, never throws, tells followers, and reports the loss after a restart', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const lines: string[] = [];
    const logs = new LogStore(dir, { log: (l) => lines.push(l) });
    mkdirSync(join(dir, 'r1', 'a'), { recursive: true });
    symlinkSync('/dev/full', logs.pathOf('r1', 'a', 1));
    const heard: string[] = [];
    logs.listen('r1', 'a', (_attempt, data) => heard.push(data));
    expect(() => logs.append('r1', 'a', 1, 'héllo\n')).not.toThrow();
    logs.append('r1', 'a', 1, 'world\n');
    expect(heard).toEqual(['héllo\n', 'world\n']);
    const lost = logs.lostOf('r1', 'a', 1);
    expect(lost).toEqual({ bytes: 13, reason: expect.stringMatching(new RegExp(`^the disk holding ${dir} is full \\(ENOSPC\\): [\\d.]+ MiB free$`)) });
    expect(logs.lostOf('r1', 'a', 2)).toBeNull();
    // Reported once per attempt.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^the output of r1\/a \(attempt 1\) could not be stored: the disk holding .* is full \(ENOSPC\)/);
    logs.close('r1', 'a', 1);
    logs.closeAll();
    expect(new LogStore(dir).lostOf('r1', 'a', 1)).toEqual(lost);
  });

  it('notes the gap in the log once writing works again, and counts bytes lost to a failed open', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const logs = new LogStore(dir);
    // A directory where the log file should be: opening it fails.
    mkdirSync(logs.pathOf('r1', 'a', 1), { recursive: true });
    logs.append('r1', 'a', 1, 'lost line\n');
    expect(logs.lostOf('r1', 'a', 1)).toEqual({ bytes: 10, reason: expect.stringMatching(/EISDIR/) });
    rmSync(logs.pathOf('r1', 'a', 1), { recursive: true });
    logs.append('r1', 'a', 1, 'kept line\n');
    expect(readFileSync(logs.pathOf('r1', 'a', 1), 'utf8')).toMatch(/^\n\[titan: 10 bytes of output could not be stored: EISDIR[^\]]*\]\nkept line\n$/);
    // The total stays reported.
    expect(logs.lostOf('r1', 'a', 1)?.bytes).toBe(10);
    logs.closeAll();
  });

  it('leaves a note where a run\'s logs were removed with one', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const logs = new LogStore(dir);
    logs.append('r1', 'a', 1, 'x');
    logs.append('r2', 'a', 1, 'y');
    logs.removeRun('r1', 'removed to save space');
    logs.removeRun('r2');
    expect(logs.read('r1', 'a', 1, 0, 100).size).toBe(0);
    expect(logs.removedNote('r1')).toBe('removed to save space');
    expect(logs.removedNote('r2')).toBeNull();
    expect(existsSync(join(dir, 'r2'))).toBe(false);
  });
});
