/**
 * The reader of runnable walkthroughs (test/helpers/walkthrough.ts): what it takes from
 * docs/first-hour.md, and that a break of the convention is an error naming the line rather than
 * a step the test would skip or misread. test/integration/first-hour.test.ts runs the doc.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CommandStep, ConventionError, dashboardPaths, missingLine, parseWalkthrough, splitCommand } from '../helpers/walkthrough.js';

const ROOT = join(import.meta.dirname, '../..');
const fence = '```';
const parse = (lines: string[]): ReturnType<typeof parseWalkthrough> => parseWalkthrough(lines.join('\n'), 'walk.md');

describe('the walkthrough reader', () => {
  it('reads docs/first-hour.md: files before the commands that use them, two servers, an expected failure', () => {
    const steps = parseWalkthrough(readFileSync(join(ROOT, 'docs/first-hour.md'), 'utf8'), 'docs/first-hour.md');
    const commands = steps.filter((s): s is CommandStep => s.kind === 'command');
    expect(commands[0]).toMatchObject({ args: ['up'], keepsRunning: true });
    expect(commands.filter((c) => c.keepsRunning).map((c) => c.args[0])).toEqual(['up', 'worker']);
    expect(commands.some((c) => c.exitCode !== 0)).toBe(true);
    const written = new Set<string>();
    for (const step of steps) {
      if (step.kind === 'file') written.add(step.path);
      else for (const word of step.args.filter((a) => /\.(py|yaml)$/.test(a))) expect(written, `line ${step.line} uses ${word}`).toContain(word);
    }
  });

  it('takes a file after its comment, and each command with its output, exit code and comment', () => {
    const steps = parse(['<!-- file: dir/a.py -->', `${fence}python`, 'print("hi")', fence, '', `${fence}console`, '$ npx titan run dir/a.py -- "two words" # exit 3', 'hi', '', '$ npx titan up   # keeps running', `${fence}`]);
    expect(steps).toEqual([
      { kind: 'file', line: 2, path: 'dir/a.py', content: 'print("hi")\n' },
      { kind: 'command', line: 7, text: 'npx titan run dir/a.py -- "two words"', args: ['run', 'dir/a.py', '--', 'two words'], keepsRunning: false, exitCode: 3, output: [{ line: 8, text: 'hi' }] },
      { kind: 'command', line: 10, text: 'npx titan up', args: ['up'], keepsRunning: true, exitCode: 0, output: [] },
    ]);
  });

  it('refuses an output line before any command, naming its line', () => {
    expect(() => parse(['# Title', '', `${fence}console`, 'hello', '$ npx titan runs', fence])).toThrow(new ConventionError('walk.md:4: output line before any command: "hello"'));
  });

  it('refuses what it could not run as written, naming the line', () => {
    const refused: [string[], RegExp][] = [
      [[`${fence}bash`, 'npx titan runs', fence], /^walk\.md:1: a fenced block is a file .* not "bash"$/],
      [[`${fence}`, 'x', fence], /^walk\.md:1: .* not untagged$/],
      [['- a list', `  ${fence}console`, '  $ npx titan runs', `  ${fence}`], /^walk\.md:2: an indented fenced block/],
      [[`${fence}console`, '$ titan runs', fence], /^walk\.md:2: a command is "npx titan \.\.\."/],
      [[`${fence}console`, '$ npx titan approve <runId>/gate', fence], /^walk\.md:2: "<" needs a shell/],
      [[`${fence}console`, '$ npx titan logs $(npx titan runs --json) -f', fence], /^walk\.md:2: "\$" needs a shell/],
      [[`${fence}console`, '$ npx titan runs | head -1', fence], /^walk\.md:2: "\|" needs a shell/],
      [[`${fence}console`, '$ npx titan worker   # keep running', fence], /^walk\.md:2: write "# keeps running" or "# exit N"/],
      [[`${fence}console`, '$ npx titan runs'], /^walk\.md:1: fenced block never closed$/],
      [['<!-- file: a.py -->', 'prose', `${fence}python`, fence], /^walk\.md:1: file: a\.py has no fenced block after it$/],
      [['<!-- file: ../a.py -->', `${fence}python`, fence], /^walk\.md:1: file: \.\.\/a\.py must be a relative path/],
    ];
    for (const [lines, message] of refused) expect(() => parse(lines), lines.join(' / ')).toThrow(message);
  });

  it('splits commands as a shell would without expanding anything', () => {
    const line = `npx titan approve gate -m "looks good" 'it''s' '' # note`;
    expect(splitCommand(line)).toEqual({ words: ['npx', 'titan', 'approve', 'gate', '-m', 'looks good', 'its', ''], comment: 'note', commentAt: line.indexOf('# note') });
    expect(splitCommand('npx titan store set k a#b')).toMatchObject({ words: ['npx', 'titan', 'store', 'set', 'k', 'a#b'] });
    expect(splitCommand('npx titan run "x.py')).toBe('unclosed "');
    expect(splitCommand('npx titan run "$HOME"')).toBe('"$" inside double quotes needs a shell');
  });

  it('finds shown lines in order, with <...> for any text and runs of spaces as one', () => {
    const printed = 'submitted r1/train.py\ntrain    COMPLETED  1  gpu-box:8080  33ms\nr1/train.py COMPLETED (exit code 0)\n';
    const shown = (...texts: string[]) => texts.map((text, i) => ({ line: i + 1, text }));
    expect(missingLine(shown('submitted <...>/train.py', 'train COMPLETED 1 gpu-box:8080 <...>', '<...>/train.py COMPLETED (exit code 0)'), printed)).toBeNull();
    // A whole line, not a part of one; and in the order shown.
    expect(missingLine(shown('COMPLETED'), printed)).toEqual({ line: 1, text: 'COMPLETED' });
    expect(missingLine(shown('<...>/train.py COMPLETED (exit code 0)', 'submitted <...>'), printed)).toEqual({ line: 2, text: 'submitted <...>' });
    expect(missingLine(shown('train COMPLETED 1 gpu-box:8080 33ms.'), printed)).not.toBeNull();
  });

  it('collects the dashboard addresses named, once each', () => {
    expect(dashboardPaths('Open http://127.0.0.1:5000/ and http://127.0.0.1:5000/dags/new, then (http://127.0.0.1:5000/dags) and http://127.0.0.1:5000/dags.')).toEqual(['/', '/dags/new', '/dags']);
  });
});
