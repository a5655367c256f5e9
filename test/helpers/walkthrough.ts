/**
 * Reads a walkthrough that a test runs (docs/first-hour.md) by the convention its top comment
 * states: files the reader creates, `npx titan` commands with the output they must print, servers
 * that keep running, expected exit codes. A break of the convention is an error naming the line,
 * so that the doc cannot hold a command the test would skip or misread.
 */

export interface FileStep {
  kind: 'file';
  /** 1-based line of the opening fence. */
  line: number;
  path: string;
  content: string;
}

export interface ShownLine {
  line: number;
  text: string;
}

export interface CommandStep {
  kind: 'command';
  line: number;
  /** As written after `$ `. */
  text: string;
  /** The words after `npx titan`. */
  args: string[];
  /** A server (`# keeps running`): started in the background and stopped at the end. */
  keepsRunning: boolean;
  exitCode: number;
  output: ShownLine[];
}

export type Step = FileStep | CommandStep;

export class ConventionError extends Error {}

const FILE_MARK = /^<!--\s*file:\s*(\S+)\s*-->$/;
const FENCE = /^(`{3,})\s*(\S*)\s*$/;

export function parseWalkthrough(markdown: string, source: string): Step[] {
  const lines = markdown.split('\n');
  const broken = (index: number, why: string): ConventionError => new ConventionError(`${source}:${index + 1}: ${why}`);
  const steps: Step[] = [];
  let file: { path: string; index: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const mark = FILE_MARK.exec(line.trim());
    if (mark) {
      if (file) throw broken(file.index, `file: ${file.path} has no fenced block after it`);
      file = { path: checkedPath(mark[1] as string, () => broken(i, `file: ${mark[1]} must be a relative path inside the folder`)), index: i };
      continue;
    }
    // Indented, a fence would be read by Markdown but not here: its commands would go unrun.
    if (/^\s+`{3}/.test(line)) throw broken(i, 'an indented fenced block; start it at the margin');
    const fence = FENCE.exec(line);
    if (!fence) {
      if (file && line.trim() !== '') throw broken(file.index, `file: ${file.path} has no fenced block after it`);
      continue;
    }
    const ticks = (fence[1] as string).length;
    const end = lines.findIndex((l, j) => j > i && /^`{3,}\s*$/.test(l) && l.trim().length >= ticks);
    if (end < 0) throw broken(i, 'fenced block never closed');
    const body = lines.slice(i + 1, end);
    if (file) {
      steps.push({ kind: 'file', line: i + 1, path: file.path, content: `${body.join('\n')}\n` });
      file = null;
    } else if (fence[2] === 'console') {
      steps.push(...consoleBlock(body, i + 1, broken));
    } else {
      throw broken(i, `a fenced block is a file (after <!-- file: NAME -->) or console commands, not ${fence[2] ? `"${fence[2]}"` : 'untagged'}`);
    }
    i = end;
  }
  if (file) throw broken(file.index, `file: ${file.path} has no fenced block after it`);
  return steps;
}

function checkedPath(path: string, broken: () => Error): string {
  if (path.startsWith('/') || path.split('/').some((part) => part === '..' || part === '')) throw broken();
  return path;
}

/** The commands of a console block whose first line has index `first`, with the output each shows. */
function consoleBlock(body: string[], first: number, broken: (index: number, why: string) => ConventionError): CommandStep[] {
  const steps: CommandStep[] = [];
  body.forEach((text, k) => {
    const index = first + k;
    if (text.startsWith('$ ')) {
      steps.push(command(text.slice(2), index, broken));
      return;
    }
    if (text.trim() === '') return;
    const last = steps.at(-1);
    if (!last) throw broken(index, `output line before any command: "${text}"`);
    last.output.push({ line: index + 1, text });
  });
  return steps;
}

function command(text: string, index: number, broken: (index: number, why: string) => ConventionError): CommandStep {
  const split = splitCommand(text);
  if (typeof split === 'string') throw broken(index, `${split}: "${text}"`);
  const [npx, titan, ...args] = split.words;
  if (npx !== 'npx' || titan !== 'titan') throw broken(index, `a command is "npx titan ...": "${text}"`);
  const keepsRunning = split.comment === 'keeps running';
  const exit = /^exit (\d+)$/.exec(split.comment);
  // A near miss would silently run the command the wrong way.
  if (!keepsRunning && !exit && /^(keeps?\b|exit\b)/.test(split.comment)) throw broken(index, `write "# keeps running" or "# exit N", not "# ${split.comment}"`);
  return { kind: 'command', line: index + 1, text: text.slice(0, split.commentAt).trim(), args, keepsRunning, exitCode: exit ? Number(exit[1]) : 0, output: [] };
}

/** Characters a shell would expand, redirect or run on: the test runs words, not a shell. */
const SHELL_SPECIAL = new Set([...'|&;<>()$`*?[]{}~!\\']);
const DOUBLE_QUOTE_SPECIAL = new Set([...'$`!\\']);

/**
 * Splits a command into words as a POSIX shell would when nothing is expanded: whitespace,
 * single and double quotes, a `#` comment starting a word. Returns why not when the command asks
 * the shell for more (a pipe, a redirection, a variable, a glob).
 */
export function splitCommand(text: string): { words: string[]; comment: string; commentAt: number } | string {
  const words: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = null;
      else if (quote === '"' && DOUBLE_QUOTE_SPECIAL.has(c)) return `"${c}" inside double quotes needs a shell`;
      else word += c;
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '#' && word === null) {
      return { words, comment: text.slice(i + 1).trim(), commentAt: i };
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (SHELL_SPECIAL.has(c)) {
      return `"${c}" needs a shell`;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) return `unclosed ${quote}`;
  if (word !== null) words.push(word);
  return { words, comment: '', commentAt: text.length };
}

const squeeze = (s: string): string => s.trim().replace(/\s+/g, ' ');

/** A shown output line as a pattern for a whole printed line: `<...>` is any text, runs of spaces count as one. */
export function linePattern(shown: string): RegExp {
  const parts = squeeze(shown)
    .split('<...>')
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/** The first shown line that `output` lacks, looking only after the lines before it matched; null when all are there in order. */
export function missingLine(shown: readonly ShownLine[], output: string): ShownLine | null {
  const printed = output.split(/\r?\n|\r/).map(squeeze);
  let from = 0;
  for (const line of shown) {
    const pattern = linePattern(line.text);
    const at = printed.findIndex((p, k) => k >= from && pattern.test(p));
    if (at < 0) return line;
    from = at + 1;
  }
  return null;
}

/** The paths of the dashboard addresses (`http://127.0.0.1:5000/...`) named in the doc, each once. */
export function dashboardPaths(markdown: string): string[] {
  return [...new Set([...markdown.matchAll(/http:\/\/127\.0\.0\.1:5000(\/[^\s)`'"<>]*)/g)].map((m) => (m[1] as string).replace(/[.,;:]+$/, '')))];
}
