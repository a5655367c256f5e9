import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addToHistory, childEnvironment, HISTORY_LINES, historyFile, loadHistory, saveHistory } from './shell.js';
import { ShellWordsError, splitShellWords } from '../core/shell-words.js';

const tokenize = (line: string): string[] => splitShellWords(line, { comments: true });

describe('a shell line split into words', () => {
  it.each([
    ['', []],
    ['   \t ', []],
    ['status r1/a', ['status', 'r1/a']],
    ['  logs   job  -f ', ['logs', 'job', '-f']],
    ["store set greeting 'hello world'", ['store', 'set', 'greeting', 'hello world']],
    ['store set greeting "hello world"', ['store', 'set', 'greeting', 'hello world']],
    ["'' \"\"", ['', '']],
    ["it'\"s'", ['it"s']],
    ['"it\'s"', ["it's"]],
    ["'no \\escape'", ['no \\escape']],
    ['"a \\"b\\" \\\\ \\$x \\n"', ['a "b" \\ $x \\n']],
    ['a\\ b c', ['a b', 'c']],
    ['\\"x\\"', ['"x"']],
    ['--name=\'a b\'c', ['--name=a bc']],
    ['$HOME *.py ~', ['$HOME', '*.py', '~']],
    ['stats # the cluster', ['stats']],
    ['# only a comment', []],
    ['store set k a#b', ['store', 'set', 'k', 'a#b']],
    ['store set k "#x"', ['store', 'set', 'k', '#x']],
    ['dag "a|RUN_PAYLOAD|x.py||eA==|GENERAL|1|0|[]"', ['dag', 'a|RUN_PAYLOAD|x.py||eA==|GENERAL|1|0|[]']],
  ])('%j → %j', (line, words) => {
    expect(tokenize(line)).toEqual(words);
  });

  it.each([
    ["store set k 'open", /unclosed single quote/],
    ['store set k "open', /unclosed double quote/],
    ['status \\', /lone backslash/],
  ])('rejects %j', (line, message) => {
    expect(() => tokenize(line)).toThrow(ShellWordsError);
    expect(() => tokenize(line)).toThrow(message);
  });
});

describe('history', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  it('lives in $TITAN_HISTORY, else ~/.titan_history', () => {
    expect(historyFile({ TITAN_HISTORY: '/tmp/h' })).toBe('/tmp/h');
    expect(historyFile({})).toMatch(/\.titan_history$/);
  });

  it('adds lines, skipping blanks and an immediate repeat, keeping the last HISTORY_LINES', () => {
    let h: string[] = [];
    for (const line of ['stats', '  ', 'stats', 'workers', 'stats']) h = addToHistory(h, line);
    expect(h).toEqual(['stats', 'workers', 'stats']);
    for (let i = 0; i < HISTORY_LINES + 5; i++) h = addToHistory(h, `status j${i}`);
    expect(h).toHaveLength(HISTORY_LINES);
    expect(h[h.length - 1]).toBe(`status j${HISTORY_LINES + 4}`);
  });

  it('saves and loads, oldest first, at most HISTORY_LINES lines', () => {
    dir = mkdtempSync(join(tmpdir(), 'titan-history-'));
    const file = join(dir, 'history');
    expect(loadHistory(file)).toEqual([]);
    saveHistory(file, ['stats', 'workers']);
    expect(readFileSync(file, 'utf8')).toBe('stats\nworkers\n');
    expect(loadHistory(file)).toEqual(['stats', 'workers']);
    writeFileSync(file, Array.from({ length: HISTORY_LINES + 10 }, (_, i) => `line ${i}`).join('\n'));
    const loaded = loadHistory(file);
    expect(loaded).toHaveLength(HISTORY_LINES);
    expect(loaded[0]).toBe('line 10');
  });
});

describe('childEnvironment', () => {
  it("turns the shell's connection flags into TITAN_* variables", () => {
    const env = childEnvironment({ master: 'example.org:9100', token: 't', dataDir: '/d' }, { PATH: '/bin', TITAN_HOST: 'old' });
    expect(env).toMatchObject({ PATH: '/bin', TITAN_HOST: 'example.org', TITAN_PORT: '9100', TITAN_TOKEN: 't', TITAN_DATA_DIR: '/d' });
  });

  it('keeps the environment when no flags are given', () => {
    expect(childEnvironment({}, { TITAN_HOST: 'h', TITAN_PORT: '1' })).toEqual({ TITAN_HOST: 'h', TITAN_PORT: '1' });
  });
});
