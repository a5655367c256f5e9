import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogStore } from './log-store.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LogStore', () => {
  it('keeps at most maxBytes of an attempt, cut at a character boundary, with one note, and tells listeners the same', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const logs = new LogStore(dir, 10);
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
    const before = new LogStore(dir, 10);
    before.append('r1', 'a', 1, '123456');
    before.closeAll();
    const after = new LogStore(dir, 10);
    after.append('r1', 'a', 1, '7890ab');
    expect(readFileSync(after.pathOf('r1', 'a', 1), 'utf8')).toMatch(/^1234567890\n\[titan: output truncated/);
    after.closeAll();
  });
});
