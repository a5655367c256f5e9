/**
 * Group commands whose default subcommand takes no arguments (`titan workers` lists, as `titan
 * workers list` does). Commander hands a word that names no subcommand to that default as an
 * argument ("too many arguments for 'list'"); here it is an unknown command with a suggestion,
 * exactly as a typo of a top-level command is: `unknown command 'dran' (Did you mean drain?)`.
 */
import { Command, CommanderError } from 'commander';

/** Adds `name` to `group` as the subcommand it runs when given none. */
export function defaultSubcommand(group: Command, name: string): Command {
  const sub = group.command(name, { isDefault: true });
  group.hook('preSubcommand', (_group, chosen) => {
    if (chosen !== sub) return;
    const word = firstOperand(group.args, sub);
    // Named explicitly (`titan workers list x`), commander's own "too many arguments" stands.
    if (word !== undefined && word !== name) unknownCommand(group, word);
  });
  return sub;
}

/** The first word of `args` that is neither one of `sub`'s options nor an option's value. */
function firstOperand(args: readonly string[], sub: Command): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return args[i + 1];
    if (!arg.startsWith('-') || arg === '-') return arg;
    const option = sub.options.find((o) => o.long === arg || o.short === arg);
    if (option?.required || (option?.optional && !(args[i + 1] ?? '-').startsWith('-'))) i++;
  }
  return undefined;
}

/** Fails with commander's message and suggestion for `word`, asked of a stand-in with the group's subcommand names. */
function unknownCommand(group: Command, word: string): never {
  const probe = new Command(group.name()).exitOverride().configureOutput({ writeErr: () => undefined });
  for (const c of group.commands) probe.command(c.name());
  try {
    probe.parse([word], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) group.error(err.message, { exitCode: 2, code: err.code });
    throw err;
  }
  throw new Error(`${group.name()} ${word}: commander took an unknown word for a subcommand`);
}
