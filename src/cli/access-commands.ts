/**
 * `titan token` (the cluster token and those derived from it; named tokens: create, list,
 * revoke), `titan user` (dashboard users: add, list, remove) and `titan audit` (who changed what).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { GRANTABLE_ROLES, type GrantableRole } from '../protocol/roles.js';
import { readToken, workerToken } from '../protocol/derived-tokens.js';
import type { IdentityInfo } from '../protocol/access-methods.js';
import { type ConnectionFlags, connectionOptions, findToken, json, jsonOption, print, UsageError, withClient } from './connection.js';
import { table, when } from './format.js';
import { defaultSubcommand } from './subcommands.js';

/** A named token lives this long unless told otherwise: every credential expires. */
const DEFAULT_EXPIRY = '90d';
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `never`, a duration (`90d`, `12h`, `30m`) or a date (`2027-01-31`): the expiry in ms since the epoch, or null. */
export function expiryOf(text: string, now = Date.now()): number | null {
  if (text === 'never') return null;
  const span = /^(\d{1,6})([mhd])$/.exec(text);
  if (span) return now + Number(span[1]) * (UNITS[span[2] as string] as number);
  const date = /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(date)) throw new InvalidArgumentError('give a duration (90d, 12h, 30m), a date (2027-01-31) or "never"');
  if (date <= now) throw new InvalidArgumentError(`${text} is in the past`);
  return date;
}

const roles = (text: string): GrantableRole[] => {
  const list = text.split(',').map((r) => r.trim());
  const wrong = list.filter((r) => !(GRANTABLE_ROLES as readonly string[]).includes(r));
  if (wrong.length > 0 || list.length === 0) throw new InvalidArgumentError(`unknown role ${wrong.join(', ')}: choose from ${GRANTABLE_ROLES.join(', ')} (comma-separated)`);
  return list as GrantableRole[];
};

const ROLE_HELP = `admin: everything; operator: submit and steer runs, the data bus; approver: decide gates; read: read only (comma-separate several: operator,approver)`;

function identityTable(list: IdentityInfo[], withExpiry: boolean): string {
  const headings = ['NAME', 'ROLES', 'CREATED', 'BY', ...(withExpiry ? ['EXPIRES'] : [])];
  return table(
    headings,
    list.map((i) => [i.name, i.roles.join(','), when(i.createdAt), i.createdBy, ...(withExpiry ? [i.expiresAt === null ? 'never' : when(i.expiresAt)] : [])]),
  );
}

export function registerAccessCommands(program: Command): void {
  const token = program.command('token').description('the cluster token, tokens derived from it, and named tokens for people and programs');
  defaultSubcommand(token, 'show')
    .description('print the cluster token this CLI would use, or a token derived from it for one role')
    .option('--data-dir <dir>', 'data directory whose token file to read')
    .addOption(new Option('--role <role>', 'worker: registers workers and nothing else (for worker machines); read: reads only (monitoring)').choices(['worker', 'read']))
    .addOption(jsonOption('print {token}'))
    .addHelpText('after', '\nExamples:\n  titan token\n  titan token --role worker      what start_worker.sh on a worker machine needs\n  titan token --role read --json\n')
    .action((o: ConnectionFlags & { json: boolean; role?: 'worker' | 'read' }) => {
      const cluster = findToken(o);
      if (!cluster) throw new UsageError('no token: set TITAN_TOKEN or run in the folder where `titan up` keeps titan-data');
      if (o.role !== undefined && /^(worker|read|job|tok)\./.test(cluster)) throw new UsageError('--role derives from the cluster token, and this is another token');
      const shown = o.role === 'worker' ? workerToken(cluster) : o.role === 'read' ? readToken(cluster) : cluster;
      if (o.json) return json({ token: shown, ...(o.role !== undefined && { role: o.role }) });
      print(shown);
    });

  connectionOptions(
    token
      .command('create')
      .description('create a named token (printed once; the master keeps only its hash)')
      .argument('<name>', 'who or what will hold it: audit records and gate decisions show this name')
      .requiredOption('--role <roles>', ROLE_HELP, roles)
      .option('--expires <when>', 'a duration (90d, 12h), a date (2027-01-31) or never', DEFAULT_EXPIRY)
      .addOption(jsonOption('print {token, info}'))
      .addHelpText('after', '\nExamples:\n  titan token create alice --role operator,approver\n  titan token create ci --role operator --expires 30d\n  titan token create claude --role operator     an agent (MCP) that cannot decide gates\n'),
  ).action(async (name: string, o: ConnectionFlags & { role: GrantableRole[]; expires: string; json: boolean }) => {
    let expiresAt: number | null;
    try {
      expiresAt = expiryOf(o.expires);
    } catch (err) {
      throw new UsageError(`--expires ${o.expires}: ${(err as Error).message}`);
    }
    await withClient(o, async (client) => {
      const created = await client.call('token.create', { name, roles: o.role, expiresAt });
      if (o.json) return json(created);
      print(created.token);
      process.stderr.write(`token ${name} (${o.role.join(',')}) ${expiresAt === null ? 'never expires' : `expires ${when(expiresAt)}`}; it is shown only now: keep it in a file (--token-file) or TITAN_TOKEN\n`);
    });
  });

  connectionOptions(token.command('list').description('named tokens: their roles, who created them, when they expire (never the tokens)').addOption(jsonOption())).action(async (o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const { tokens } = await client.call('token.list', {});
      if (o.json) return json(tokens);
      print(tokens.length === 0 ? 'no named tokens' : identityTable(tokens, true));
    });
  });

  connectionOptions(token.command('revoke').description('revoke a named token: its sessions end at their next request').argument('<name>').addOption(jsonOption())).action(async (name: string, o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const revoked = await client.call('token.revoke', { name });
      if (o.json) return json(revoked);
      print(`token ${name} revoked`);
    });
  });

  const user = program.command('user').description('dashboard users: people who sign in with a password');
  connectionOptions(
    user
      .command('add')
      .description('add a dashboard user (the master keeps only a scrypt hash of the password)')
      .argument('<name>')
      .requiredOption('--role <roles>', ROLE_HELP, roles)
      .requiredOption('--password-file <file>', 'a file whose first line is the password (at least 12 characters); - reads standard input')
      .addOption(jsonOption()),
  ).action(async (name: string, o: ConnectionFlags & { role: GrantableRole[]; passwordFile: string; json: boolean }) => {
    let text: string;
    try {
      text = readFileSync(o.passwordFile === '-' ? 0 : o.passwordFile, 'utf8');
    } catch (err) {
      throw new UsageError(`--password-file: cannot read ${o.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const password = (text.split(/\r?\n/)[0] ?? '').trim();
    await withClient(o, async (client) => {
      const added = await client.call('user.add', { name, roles: o.role, password });
      if (o.json) return json(added);
      print(`user ${name} (${o.role.join(',')}) added`);
    });
  });
  connectionOptions(user.command('list').description('dashboard users and their roles').addOption(jsonOption())).action(async (o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const { users } = await client.call('user.list', {});
      if (o.json) return json(users);
      print(users.length === 0 ? 'no dashboard users (besides --ui-user)' : identityTable(users, false));
    });
  });
  connectionOptions(user.command('remove').description('remove a dashboard user: their sessions end at once').argument('<name>').addOption(jsonOption())).action(async (name: string, o: ConnectionFlags & { json: boolean }) => {
    await withClient(o, async (client) => {
      const removed = await client.call('user.remove', { name });
      if (o.json) return json(removed);
      print(`user ${name} removed`);
    });
  });

  connectionOptions(
    program
      .command('audit')
      .description('who changed what, when and from where: every state-changing action, newest first')
      .option('-n, --limit <n>', 'how many entries', (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('a number from 1 to 1000');
        return n;
      }, 50)
      .addOption(jsonOption()),
  ).action(async (o: ConnectionFlags & { limit: number; json: boolean }) => {
    await withClient(o, async (client) => {
      const { entries } = await client.call('audit.list', { limit: o.limit });
      if (o.json) return json(entries);
      if (entries.length === 0) return print('nothing recorded yet');
      print(table(['WHEN', 'WHO', 'VIA', 'FROM', 'ACTION', 'TARGET', 'RESULT'], entries.map((e) => [when(e.at), e.who, e.via, e.from, e.action, e.target ?? '', e.ok ? 'ok' : `refused: ${e.error ?? ''}`])));
    });
  });
}
