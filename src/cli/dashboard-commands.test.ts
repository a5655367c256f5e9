/**
 * Every `titan ...` command the dashboard quotes (its empty states tell people what to run) is a
 * command of this CLI: its words name a command, its options are that command's, it has no more
 * arguments than the command takes (a quote may leave required ones out: it names the command),
 * and docs/cli.md documents it. The dashboard quotes commands in <code>, so they can be found.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { program } from './main.js';

const ROOT = join(import.meta.dirname, '../..');
const WEB = join(ROOT, 'web/src');

/** The dashboard's source files (not its tests), without comments. */
function webSources(): { path: string; text: string }[] {
  const files = readdirSync(WEB, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f) && !/\.test\.tsx?$/.test(f));
  return files.map((f) => ({ path: f, text: readFileSync(join(WEB, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '') }));
}

const QUOTED = /<code>(titan [^<{]*)<\/code>/g;

/** Why `titan <words>` does not parse with the real CLI, or null when it does. */
function refusal(root: Command, words: readonly string[]): string | null {
  let command = root;
  let i = 0;
  for (; i < words.length; i++) {
    const word = words[i] as string;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    command = sub;
  }
  if (command === root) return `"${words[0] ?? ''}" is no command`;
  let parsed: { operands: string[]; unknown: string[] };
  try {
    parsed = command.parseOptions([...words.slice(i)]);
  } catch (err) {
    return (err as Error).message;
  }
  const { operands, unknown } = parsed;
  if (unknown.length > 0) return `${unknown[0] ?? ''} is no option of titan ${command.name()}`;
  if (command.commands.length > 0 && operands.length > 0) return `"${operands[0] ?? ''}" is no subcommand of titan ${command.name()}`;
  const takes = command.registeredArguments;
  if (!takes.some((a) => a.variadic) && operands.length > takes.length) return `titan ${command.name()} takes at most ${takes.length} arguments`;
  return null;
}

const pathOf = (root: Command, words: readonly string[]): string => {
  const path: string[] = [];
  let command = root;
  for (const word of words) {
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    path.push(sub.name());
    command = sub;
  }
  return path.join(' ');
};

/** Makes the parser throw instead of exiting, and keep quiet, on this command and those under it. */
function quietly(command: Command): void {
  command.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  for (const sub of command.commands) quietly(sub);
}

describe('the commands the dashboard quotes', () => {
  quietly(program);
  const sources = webSources();
  const quoted = sources.flatMap(({ path, text }) => [...text.matchAll(QUOTED)].map((m) => ({ path, command: (m[1] ?? '').trim() })));

  it('are quoted in <code>, every one', () => {
    const loose = sources.flatMap(({ path, text }) => {
      const inCode = new Set([...text.matchAll(QUOTED)].map((m) => (m.index ?? 0) + '<code>'.length));
      return [...text.matchAll(/\btitan [a-z][\w-]*/g)].filter((m) => !inCode.has(m.index ?? -1)).map((m) => `${path}: ${m[0]}`);
    });
    expect(loose).toEqual([]);
    expect(quoted.length).toBeGreaterThanOrEqual(10);
  });

  it('parse with the CLI', () => {
    const bad = quoted.flatMap(({ path, command }) => {
      const why = refusal(program, command.split(/\s+/).slice(1));
      return why ? [`${path}: ${command}: ${why}`] : [];
    });
    expect(bad).toEqual([]);
  });

  it('are in docs/cli.md', () => {
    const doc = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');
    const missing = quoted.map(({ command }) => `titan ${pathOf(program, command.split(/\s+/).slice(1))}`).filter((path) => !doc.includes(path));
    expect(missing).toEqual([]);
  });

  it('would catch a command that does not exist, an unknown option and a stray argument', () => {
    expect(refusal(program, ['pipeline', 'run'])).toMatch(/"pipeline" is no command/);
    expect(refusal(program, ['worker', '--mastr', 'h:1'])).toMatch(/--mastr is no option/);
    expect(refusal(program, ['limits', 'frobnicate'])).toMatch(/no subcommand/);
    expect(refusal(program, ['store', 'get', 'a', 'b'])).toMatch(/at most 1 arguments/);
    expect(refusal(program, ['worker', '--master', 'HOST:PORT'])).toMatch(/not a master address/);
    expect(refusal(program, ['limits', 'set', 'openai', '--concurrency', '4'])).toBeNull();
  });
});
