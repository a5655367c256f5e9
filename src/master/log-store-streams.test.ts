import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { splitStreams } from '../core/output-streams.js';
import { LogStore } from './log-store.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The stderr parts of a read page, as text. */
const stderrOf = (page: { data: string; stderr: [number, number][] }): string[] => page.stderr.map(([s, l]) => page.data.slice(s, s + l));

describe('LogStore stderr ranges', () => {
  it('stores the text as one log, unchanged, and the stderr byte ranges beside it; removed with the run', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const logs = new LogStore(dir);
    const heard: [string, string][] = [];
    logs.listen('r1', 'a', (_a, data, stream) => heard.push([stream, data]));
    logs.append('r1', 'a', 1, 'out é 1\n');
    logs.append('r1', 'a', 1, 'err ü 1\n', 'stderr');
    logs.append('r1', 'a', 1, 'err 2\n', 'stderr');
    logs.append('r1', 'a', 1, 'out 2\n');
    logs.close('r1', 'a', 1);
    expect(readFileSync(logs.pathOf('r1', 'a', 1), 'utf8')).toBe('out é 1\nerr ü 1\nerr 2\nout 2\n');
    // Bytes of the stored log: 'out é 1\n' is 9 bytes, 'err ü 1\n' 9, 'err 2\n' 6.
    expect(readFileSync(join(dir, 'r1', 'a', '1.stderr'), 'utf8')).toBe('9 9\n18 6\n');
    const page = logs.read('r1', 'a', 1, 0, 1 << 20);
    expect(stderrOf(page)).toEqual(['err ü 1\nerr 2\n']);
    expect(heard).toEqual([
      ['stdout', 'out é 1\n'],
      ['stderr', 'err ü 1\n'],
      ['stderr', 'err 2\n'],
      ['stdout', 'out 2\n'],
    ]);
    logs.removeRun('r1');
    expect(existsSync(join(dir, 'r1', 'a', '1.stderr'))).toBe(false);
  });

  it('clips the ranges to each page and gives them in characters of the page', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const logs = new LogStore(dir);
    logs.append('r1', 'a', 1, 'aaaa');
    logs.append('r1', 'a', 1, 'ééé-bbb', 'stderr');
    logs.append('r1', 'a', 1, 'cccc');
    logs.close('r1', 'a', 1);
    const pages = [];
    for (let offset = 0, n = 0; n < 10; n++) {
      const page = logs.read('r1', 'a', 1, offset, 5);
      if (page.data === '') break;
      pages.push(page);
      offset = page.nextOffset;
    }
    expect(pages.map((p) => p.data).join('')).toBe('aaaaééé-bbbcccc');
    expect(pages.flatMap((p) => splitStreams(p.data, p.stderr)).filter((p) => p.stream === 'stderr').map((p) => p.text).join('')).toBe('ééé-bbb');
    expect(pages.flatMap((p) => splitStreams(p.data, p.stderr)).filter((p) => p.stream === 'stdout').map((p) => p.text).join('')).toBe('aaaacccc');
  });

  it('computes the ranges on the masked bytes, a secret split across streams still masked', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const logs = new LogStore(dir);
    logs.mask('r1', 'a', 1, ['hunter2-secret']);
    logs.append('r1', 'a', 1, 'token hunter2-secret here\n', 'stderr');
    logs.append('r1', 'a', 1, 'out hunter2-');
    logs.append('r1', 'a', 1, 'secret!\nerr again\n', 'stderr');
    logs.close('r1', 'a', 1);
    const stored = readFileSync(logs.pathOf('r1', 'a', 1), 'utf8');
    expect(stored).toBe('token *** here\nout ***!\nerr again\n');
    const page = logs.read('r1', 'a', 1, 0, 1 << 20);
    // The mask goes with the stream of the value's first character (stdout here).
    expect(stderrOf(page)).toEqual(['token *** here\n', '!\nerr again\n']);
  });

  it('marks no Titan note as stderr: a truncated stderr chunk stops at the cap', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-logs-'));
    const logs = new LogStore(dir, { maxBytes: 10 });
    logs.append('r1', 'a', 1, 'out\n');
    logs.append('r1', 'a', 1, 'error output\n', 'stderr');
    logs.close('r1', 'a', 1);
    const page = logs.read('r1', 'a', 1, 0, 1 << 20);
    expect(page.data).toMatch(/^out\nerror \n\[titan: output truncated/);
    expect(stderrOf(page)).toEqual(['error ']);
  });
});
