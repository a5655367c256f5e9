/**
 * `titan secrets`: set (the value from standard input or a file, never the command line, where
 * shell history and the process list would keep it), ls (names and dates) and rm. Nothing here
 * can print a value: the master has no method that returns one.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { TitanError } from '../core/errors.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, UsageError, withClient } from './connection.js';
import { table, when } from './format.js';
import { defaultSubcommand } from './subcommands.js';

const NOT_ON_ARGV =
  'a secret\'s value is never given on the command line (shell history and the process list would keep it): pipe it in (printf %s "$VALUE" | titan secrets set NAME) or use --from-file FILE';

/** The value from `file` or standard input, less one final line break (what `echo` and editors add). */
function readValue(name: string, file: string | undefined): string {
  let text: string;
  try {
    if (file === undefined && process.stdin.isTTY) process.stderr.write(`value of ${name} (end with Enter, then Ctrl-D): `);
    text = readFileSync(file ?? 0, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file === undefined ? 'standard input' : file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new UsageError(`${file === undefined ? 'standard input' : file} is empty: a secret needs a value`);
  return value;
}

export function registerSecretCommands(program: Command): void {
  const secrets = program.command('secrets').description('secrets jobs receive as environment variables: set, list (names and dates only), remove');

  connectionOptions(
    secrets
      .command('set')
      .description('set a secret (encrypted on the master; never shown again): the value comes from standard input or --from-file')
      .argument('<name>', 'its name: the environment variable a job that declares it receives (letters, digits, _)')
      .argument('[value...]')
      .option('--from-file <file>', 'read the value from this file (one final line break is dropped)')
      .addOption(jsonOption('print {secret, created}'))
      .addHelpText('after', '\nExamples:\n  printf %s "$OPENAI_API_KEY" | titan secrets set OPENAI_API_KEY\n  titan secrets set DB_PASSWORD --from-file ./db-password.txt\n'),
  ).action(async (name: string, value: string[], o: ConnectionFlags & { fromFile?: string; json: boolean }) => {
    if (value.length > 0) throw new UsageError(NOT_ON_ARGV);
    const secret = readValue(name, o.fromFile);
    await withClient(o, async (client) => {
      const set = await client.call('secret.set', { name, value: secret });
      if (o.json) return json(set);
      print(`secret ${name} ${set.created ? 'set' : 'replaced'}`);
    });
  });

  const list = (o: ConnectionFlags & { json: boolean }) =>
    withClient(o, async (client) => {
      const { secrets: all } = await client.call('secrets.list', {});
      if (o.json) return json(all);
      print(all.length === 0 ? 'no secrets (set one with: titan secrets set NAME)' : table(['NAME', 'CREATED', 'UPDATED'], all.map((s) => [s.name, when(s.createdAt), when(s.updatedAt)])));
    });
  connectionOptions(defaultSubcommand(secrets, 'ls').alias('list').description('the secrets: names and dates, never values').addOption(jsonOption())).action(list);

  connectionOptions(secrets.command('rm').alias('remove').description('remove a secret: jobs that declare it are refused, and those not yet dispatched fail').argument('<name>').addOption(jsonOption())).action(
    async (name: string, o: ConnectionFlags & { json: boolean }) => {
      await withClient(o, async (client) => {
        const removed = await client.call('secret.remove', { name });
        if (o.json) return json(removed);
        if (!removed.removed) throw new TitanError('NOT_FOUND', `no secret named ${name} (titan secrets ls lists them)`);
        print(`secret ${name} removed`);
      });
    },
  );
}
