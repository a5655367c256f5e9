/**
 * `titan shell`: Titan's interactive prompt. Each line is split like a shell would and run as a
 * separate `titan` process (so a command that exits cannot end the shell), with the connection
 * this shell was given. On a terminal: a `titan> ` prompt with history kept in $TITAN_HISTORY or
 * ~/.titan_history; otherwise lines are read from standard input without a prompt.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { constants, homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { formatMaster, type MasterEndpoint } from '../protocol/masters.js';
import { type ConnectionFlags, connectionOptions, mastersFor } from './connection.js';
import { dim } from './format.js';
import { splitShellWords } from '../core/shell-words.js';

export const HISTORY_LINES = 1000;

export function historyFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.TITAN_HISTORY || join(homedir(), '.titan_history');
}

/** The saved history, oldest first (at most the last HISTORY_LINES lines). */
export function loadHistory(file: string): string[] {
  if (!existsSync(file)) return [];
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-HISTORY_LINES);
  } catch {
    return [];
  }
}

/** Adds a line (not a repeat of the last one) and returns the history to keep, oldest first. */
export function addToHistory(history: string[], line: string): string[] {
  const text = line.trim();
  if (text === '' || history[history.length - 1] === text) return history;
  return [...history, text].slice(-HISTORY_LINES);
}

export function saveHistory(file: string, history: string[]): void {
  try {
    writeFileSync(file, history.length === 0 ? '' : `${history.join('\n')}\n`, { mode: 0o600 });
  } catch (err) {
    process.stderr.write(dim(`titan shell: cannot save history to ${file}: ${(err as Error).message}\n`));
  }
}

/** The environment for commands run from the shell: this shell's connection flags become TITAN_* variables. */
export function childEnvironment(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  if (flags.master !== undefined) {
    const masters = mastersFor(flags);
    const [first] = masters as [MasterEndpoint, ...MasterEndpoint[]];
    out.TITAN_HOST = first.host;
    out.TITAN_PORT = String(first.port);
    // Read before TITAN_HOST and TITAN_PORT: it must name what the flag named.
    out.TITAN_MASTERS = masters.map(formatMaster).join(',');
  }
  if (flags.token !== undefined) out.TITAN_TOKEN = flags.token;
  if (flags.dataDir !== undefined) out.TITAN_DATA_DIR = flags.dataDir;
  return out;
}

const SHELL_HELP = `Type a titan command without "titan", e.g.:
  status <job>          logs <job>            cancel <job>
  stats                 json                  workers
  run hello.py -- a b   deploy api.py 8080    dag "<payload>"
  approve <gate>        store get <key>       store set <key> <value>
Words are split like a shell's ('…', "…" and \\ quote). Built-ins:
  help                  this text; "help <command>" shows a command's options
  exit [code], quit     leave the shell (also Ctrl-D)
Every command: titan --help`;

export function registerShellCommand(program: Command): void {
  connectionOptions(
    program
      .command('shell')
      .description("Titan's interactive prompt: run titan commands one per line, with history")
      .addHelpText(
        'after',
        `
History is kept in $TITAN_HISTORY (default ~/.titan_history, the last ${HISTORY_LINES} lines).
When standard input is not a terminal, commands are read from it one per line, without a prompt.

Examples:
  titan shell
  titan shell --master 10.0.0.5:9090
  printf 'stats\\nworkers\\n' | titan shell
`,
      ),
  ).action(async (o: ConnectionFlags) => {
    process.exitCode = await runShell(o);
  });
}

/** Runs the shell until `exit` or the end of input; resolves with the shell's exit code. */
export async function runShell(flags: ConnectionFlags): Promise<number> {
  const env = childEnvironment(flags);
  const interactive = Boolean(process.stdin.isTTY);
  const file = historyFile();
  let history = interactive ? loadHistory(file) : [];
  let last = 0;

  // Runs one line: a built-in, or its words as a titan process. Resolves with the exit code, or
  // null when nothing ran (an empty line or a comment).
  const handle = async (line: string): Promise<number | null> => {
    let words: string[];
    try {
      words = splitShellWords(line, { comments: true });
    } catch (err) {
      process.stderr.write(`titan shell: ${(err as Error).message}\n`);
      return 2;
    }
    if (words[0] === 'titan') words.shift();
    const [first, ...rest] = words;
    if (first === undefined) return null;
    if (first === 'exit' || first === 'quit') {
      if (rest[0] !== undefined && !/^\d{1,3}$/.test(rest[0])) {
        process.stderr.write(`titan shell: exit takes a number, got "${rest[0]}"\n`);
        return 2;
      }
      throw new ExitShell(rest[0] === undefined ? last : Number(rest[0]));
    }
    if (first === 'help' || first === '?') {
      if (rest.length === 0) {
        process.stdout.write(`${SHELL_HELP}\n`);
        return 0;
      }
      return run([...rest, '--help'], env, interactive);
    }
    if (first === 'shell') {
      process.stderr.write('titan shell: already in the shell\n');
      return 2;
    }
    return run(words, env, interactive);
  };

  const onCode = (code: number): void => {
    last = code;
    if (code !== 0) process.stderr.write(dim(`[exit ${code}]\n`));
  };

  try {
    if (!interactive) {
      const rl = createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
      for await (const line of rl) {
        const code = await handle(line);
        if (code !== null) onCode(code);
      }
      return last;
    }
    process.stdout.write(dim('Titan shell: "help" lists commands, "exit" leaves.\n'));
    for (;;) {
      const line = await prompt(history);
      if (line === null) {
        process.stdout.write('\n');
        return last;
      }
      const before = history;
      history = addToHistory(history, line);
      if (history !== before) saveHistory(file, history);
      const code = await handle(line);
      if (code !== null) onCode(code);
    }
  } catch (err) {
    if (err instanceof ExitShell) return err.code;
    throw err;
  }
}

class ExitShell extends Error {
  constructor(readonly code: number) {
    super('exit');
  }
}

/**
 * Reads one line at the `titan> ` prompt; null at the end of input (Ctrl-D). The interface is
 * closed again before the command runs, so the terminal is back in its normal mode for it.
 */
function prompt(history: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true, history: [...history].reverse(), historySize: HISTORY_LINES, removeHistoryDuplicates: false });
    let answered = false;
    rl.on('line', (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    // Ctrl-C at the prompt drops the line being typed, as a shell does.
    rl.on('SIGINT', () => {
      answered = true;
      process.stdout.write('^C\n');
      rl.close();
      resolve('');
    });
    rl.on('close', () => {
      if (!answered) resolve(null);
    });
    rl.setPrompt('titan> ');
    rl.prompt();
  });
}

/** Runs `titan <args>` as a child process and resolves with its exit code (128 + n when killed by signal n). */
function run(args: string[], env: NodeJS.ProcessEnv, interactive: boolean): Promise<number> {
  return new Promise((resolve) => {
    // Ctrl-C reaches the command (same process group); the shell itself keeps running.
    const ignore = (): void => {};
    process.on('SIGINT', ignore);
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? '', ...args], {
      env,
      // Piped input holds the next commands: a command must not read them.
      stdio: [interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'],
    });
    const done = (code: number): void => {
      process.off('SIGINT', ignore);
      resolve(code);
    };
    child.once('error', (err) => {
      process.stderr.write(`titan shell: cannot start the command: ${err.message}\n`);
      done(1);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (signal === null ? 0 : constants.signals[signal])));
  });
}
