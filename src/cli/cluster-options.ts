/**
 * The master's settings (src/config/master-settings.ts) as the MasterConfig `titan master` and
 * `titan up` start it with: the token, TLS and password files read, and combinations that cannot
 * work refused with a usage error.
 */
import { readFileSync } from 'node:fs';
import { MASTER_SETTINGS, type MasterSettings, READ_BY_COMMAND } from '../config/master-settings.js';
import type { MasterConfig } from '../server/start.js';
import { loadServerTls, type ServerTls, ServerTlsError } from '../server/tls.js';
import { allowList } from '../server/v1.js';
import { UsageError } from './connection.js';

/** The settings of the cluster's behaviour: all but where the master lives and who it is. */
export type ClusterFlags = Omit<MasterSettings, 'dataDir' | 'host' | 'port' | 'httpPort' | 'advertise' | 'token' | 'tokenFile' | 'workerTimeout' | 'reclaimGrace' | 'maxArtifactMb' | 'maxLogMb' | 'pidFile'>;

/** The MasterConfig of these settings and this token (none: the data directory's, or a new one). */
export function masterConfig(o: MasterSettings, token: string | undefined): MasterConfig {
  return { ...clusterConfig(o), ...(token !== undefined && { token }) };
}

type ReadByCommand = (typeof READ_BY_COMMAND)[number];

/** The master's settings in `o` (which may hold a local worker's too) that it starts with as they are. */
function startSettings<F extends ClusterFlags>(o: F): Omit<F, ReadByCommand> {
  const read: readonly string[] = READ_BY_COMMAND;
  return Object.fromEntries(Object.entries(o).filter(([key]) => key in MASTER_SETTINGS && !read.includes(key))) as Omit<F, ReadByCommand>;
}

/** The TLS files, read and checked now; refused with a usage error naming the file. */
function serverTls(o: ClusterFlags): ServerTls | undefined {
  if (o.tlsCert === undefined && o.tlsKey === undefined) {
    if (o.tlsClientCa !== undefined) throw new UsageError('--tls-client-ca needs --tls-cert and --tls-key');
    return undefined;
  }
  if (o.tlsCert === undefined) throw new UsageError('--tls-key needs --tls-cert');
  if (o.tlsKey === undefined) throw new UsageError('--tls-cert needs --tls-key');
  // Titan's own clients speak v1 without TLS, so v1 inside TLS would reach none of them.
  if (o.legacyV1) throw new UsageError("--legacy-v1 cannot be combined with --tls-cert: Titan's v1 clients do not speak TLS");
  try {
    return loadServerTls({ cert: o.tlsCert, key: o.tlsKey, ...(o.tlsClientCa !== undefined && { clientCa: o.tlsClientCa }) });
  } catch (err) {
    if (err instanceof ServerTlsError) throw new UsageError(err.message);
    throw err;
  }
}

/** The dashboard user and the password read from its file; refused with a usage error when incomplete. */
function uiLogin(o: ClusterFlags): { user: string; password: string } | undefined {
  if (o.uiUser === undefined && o.uiPasswordFile === undefined) return undefined;
  if (o.uiUser === undefined) throw new UsageError('--ui-password-file needs --ui-user');
  if (o.uiPasswordFile === undefined) throw new UsageError('--ui-user needs --ui-password-file (a file holding the password, so that it does not show in ps)');
  if (!/^[^\u0000-\u001f\u007f]{1,200}$/.test(o.uiUser)) throw new UsageError('--ui-user must be 1 to 200 printable characters');
  let text: string;
  try {
    text = readFileSync(o.uiPasswordFile, 'utf8');
  } catch (err) {
    throw new UsageError(`--ui-password-file: cannot read ${o.uiPasswordFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password.length === 0) throw new UsageError(`--ui-password-file: the first line of ${o.uiPasswordFile} is empty; put the password there`);
  if (password.length > 1024) throw new UsageError('--ui-password-file: the password is longer than 1024 characters');
  return { user: o.uiUser, password };
}

/** The settings with the files they name read, once the combinations that cannot work are refused. */
export function clusterConfig<F extends ClusterFlags>(o: F): Omit<F, ReadByCommand> & Pick<MasterConfig, 'ui' | 'tls'> {
  if (o.legacyV1Allow !== undefined && !o.legacyV1) throw new UsageError('--legacy-v1-allow needs --legacy-v1');
  try {
    allowList(o.legacyV1Allow ?? []);
  } catch (err) {
    throw new UsageError(`--legacy-v1-allow: ${(err as Error).message}`);
  }
  if (o.scaleWebhook !== undefined && !/^https?:\/\/[^\s]+$/.test(o.scaleWebhook)) throw new UsageError(`--scale-webhook must be an http:// or https:// URL, got "${o.scaleWebhook}"`);
  const ui = uiLogin(o);
  const tls = serverTls(o);
  return { ...startSettings(o), ...(ui !== undefined && { ui }), ...(tls !== undefined && { tls }) };
}
