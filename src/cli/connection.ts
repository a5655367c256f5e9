/**
 * Where the CLI finds the master: flags, then TITAN_MASTERS (several masters sharing a store) or
 * TITAN_HOST/TITAN_PORT, and TITAN_TOKEN, then the token file of a local data directory (so
 * `titan up` in this folder needs no export). TLS likewise: --tls/--ca/--cert/--key, then
 * TITAN_TLS/TITAN_CA/TITAN_CERT/TITAN_KEY.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { formatMaster, type MasterEndpoint, MasterListError, parseMasters } from '../protocol/masters.js';
import { type TlsClientOptions, TlsConfigError, type TlsFiles, tlsFilesFromEnv, tlsFromFiles } from '../protocol/tls-dial.js';
import { TitanClient } from '../sdk/client.js';
import { masterList } from '../sdk/connection.js';
import { BadRequestError } from '../sdk/errors.js';
import { ON_ARGV } from '../config/setting.js';
import { CLIENT_TLS_SETTINGS } from '../config/client-settings.js';
import { printable } from './format.js';
import { settingOptions } from './setting-options.js';

export { ON_ARGV };

export interface TlsFlags {
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
}

export interface ConnectionFlags extends TlsFlags {
  master?: string;
  token?: string;
  tokenFile?: string;
  dataDir?: string;
}

/** The token in the first line of a file (`--token-file`), so that it is never on a command line. */
export function tokenFromFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--token-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const token = (text.split(/\r?\n/)[0] ?? '').trim();
  if (token === '') throw new UsageError(`--token-file: the first line of ${file} is empty; put the token there`);
  return token;
}

/** --token or --token-file (not both), when either was given. */
export function givenToken(flags: { token?: string; tokenFile?: string }): string | undefined {
  if (flags.token !== undefined && flags.tokenFile !== undefined) throw new UsageError('give --token or --token-file, not both');
  return flags.tokenFile !== undefined ? tokenFromFile(flags.tokenFile) : flags.token;
}

/** The TLS to use (undefined: plain TCP) and its files as absolute paths; a bad file is a usage error naming it. */
export function clientTls(flags: TlsFlags): { tls: TlsClientOptions | undefined; files: TlsFiles } {
  const env = tlsFilesFromEnv();
  const pick = (flag: string | undefined, fromEnv: string | undefined): string | undefined => {
    const file = flag ?? fromEnv;
    return file === undefined ? undefined : resolve(file);
  };
  const ca = pick(flags.ca, env.files.ca);
  const cert = pick(flags.cert, env.files.cert);
  const key = pick(flags.key, env.files.key);
  const files: TlsFiles = { ...(ca !== undefined && { ca }), ...(cert !== undefined && { cert }), ...(key !== undefined && { key }) };
  try {
    return { tls: tlsFromFiles(files, flags.tls === true || env.enabled), files };
  } catch (err) {
    if (err instanceof TlsConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * The masters a command talks to, in the order to try them: --master (one address, or several
 * comma-separated), else TITAN_MASTERS, else TITAN_HOST and TITAN_PORT, else 127.0.0.1:9090.
 */
export function mastersFor(flags: { master?: string }): MasterEndpoint[] {
  const read = (list: string, what: string): MasterEndpoint[] => {
    try {
      return parseMasters(list);
    } catch (err) {
      if (err instanceof MasterListError) throw new UsageError(`${what}: ${err.message}`);
      throw err;
    }
  };
  if (flags.master !== undefined) return read(flags.master, '--master');
  // The environment is read as every client reads it.
  try {
    return masterList();
  } catch (err) {
    if (err instanceof BadRequestError) throw new UsageError(err.message);
    throw err;
  }
}

export function findToken(flags: Pick<ConnectionFlags, 'token' | 'tokenFile' | 'dataDir'>): string | undefined {
  const given = givenToken(flags);
  if (given) return given;
  if (process.env.TITAN_TOKEN) return process.env.TITAN_TOKEN;
  const file = join(resolve(flags.dataDir ?? process.env.TITAN_DATA_DIR ?? 'titan-data'), 'token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export function clientFor(flags: ConnectionFlags): TitanClient {
  const masters = mastersFor(flags).map(formatMaster);
  const token = findToken(flags);
  // Explicit even when off, so that the client does not read TITAN_TLS a second time.
  const { tls } = clientTls(flags);
  return new TitanClient({ masters, ...(token !== undefined && { token }), tls: tls ?? false });
}

/** Bad command-line input: exit code 2. */
export class UsageError extends Error {}

/**
 * Loads a part of Titan a bundle may leave out (the worker bundle has no master, no MCP server
 * and no packager): a missing compiled file of ours becomes a usage error naming the command.
 */
export async function loadPart<T>(what: string, where: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && /Cannot find module '[^']*[/\\]dist[/\\]src[/\\]/.test((err as Error).message))
      throw new UsageError(`${what} is not part of this install (a bundle carries only what its machine runs): use ${where}`);
    throw err;
  }
}

/** Adds --tls, --ca, --cert and --key: how to reach a master that serves TLS. */
export const tlsOptions = (cmd: Command): Command => settingOptions(cmd, CLIENT_TLS_SETTINGS);

/** Adds --master, --token, --data-dir and the TLS options to a command that talks to a master. */
export const connectionOptions = (cmd: Command): Command =>
  tlsOptions(
    cmd
      .option('--master <host:port,...>', 'master address, or the addresses of several masters sharing a store, comma-separated (default: TITAN_MASTERS, or TITAN_HOST:TITAN_PORT, or 127.0.0.1:9090)')
      .option('--token <token>', `cluster token (default: TITAN_TOKEN, or the token file in ./titan-data); ${ON_ARGV}`)
      .option('--token-file <file>', 'read the token from the first line of this file')
      .option('--data-dir <dir>', 'data directory whose token file to use'),
  );

export const print = (text: string): void => void process.stdout.write(`${printable(text)}\n`);
export const json = (value: unknown): void => print(JSON.stringify(value, null, 2));

/** `--json`, declared here once for every command that can print JSON; `help` says what it prints. */
export const jsonOption = (help = 'print JSON'): Option => new Option('--json', help).default(false);

/** Runs `fn` with a client for these flags and closes it afterwards. */
export async function withClient<T>(flags: ConnectionFlags, fn: (client: TitanClient) => Promise<T>): Promise<T> {
  const client = clientFor(flags);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
