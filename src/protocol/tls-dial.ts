/**
 * Dialling the master's TCP port, in the clear or inside TLS: shared by the SDK and the worker.
 * TLS settings come from the caller or, when it gives none, from TITAN_TLS, TITAN_CA, TITAN_CERT
 * and TITAN_KEY (read at call time, as the worker hands them to jobs), and a failure is explained
 * in words that name its real cause: the network when the master was never reached, TLS only for a
 * TLS error.
 */
import { readFileSync } from 'node:fs';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** PEM contents: a CA to trust instead of the system ones, and a client certificate for mutual TLS. */
export interface TlsClientOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** `true`: TLS trusting the system CAs; an object: TLS with these; `false`/absent: plain TCP. */
export type TlsSetting = TlsClientOptions | boolean;

/** The files behind a TLS setting, as absolute paths (what the worker passes on to jobs). */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

export class TlsConfigError extends Error {}

/** The variables a worker gives its jobs (and an ephemeral worker) so that they dial as it does. */
export const TLS_ENV = ['TITAN_TLS', 'TITAN_CA', 'TITAN_CERT', 'TITAN_KEY'] as const;

export function tlsEnvFor(files: TlsFiles): Record<string, string> {
  return { TITAN_TLS: '1', ...(files.ca && { TITAN_CA: files.ca }), ...(files.cert && { TITAN_CERT: files.cert }), ...(files.key && { TITAN_KEY: files.key }) };
}

/** Reads the files; `enabled` alone means TLS with the system CAs. Undefined when TLS is off. */
export function tlsFromFiles(files: TlsFiles, enabled: boolean): TlsClientOptions | undefined {
  if ((files.cert === undefined) !== (files.key === undefined)) throw new TlsConfigError('a client certificate needs both a certificate and a key file (--cert and --key, or TITAN_CERT and TITAN_KEY)');
  if (!enabled && files.ca === undefined && files.cert === undefined) return undefined;
  const read = (what: string, file: string | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new TlsConfigError(`cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const ca = read('CA', files.ca);
  const cert = read('client certificate', files.cert);
  const key = read('client key', files.key);
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
}

/** TITAN_TLS=1 / TITAN_CA / TITAN_CERT / TITAN_KEY, read now (no files and not enabled when none is set). */
export function tlsFilesFromEnv(env: NodeJS.ProcessEnv = process.env): { enabled: boolean; files: TlsFiles } {
  const files: TlsFiles = {
    ...(env.TITAN_CA && { ca: env.TITAN_CA }),
    ...(env.TITAN_CERT && { cert: env.TITAN_CERT }),
    ...(env.TITAN_KEY && { key: env.TITAN_KEY }),
  };
  const flag = (env.TITAN_TLS ?? '').toLowerCase();
  return { enabled: flag === '1' || flag === 'true' || flag === 'yes', files };
}

/** Opens the connection; `ready` is the event after which the session may start. */
export function dial(host: string, port: number, tls: TlsSetting | undefined): { socket: Socket; ready: 'connect' | 'secureConnect' } {
  if (!tls) return { socket: netConnect({ host, port }), ready: 'connect' };
  const options = tls === true ? {} : tls;
  // The name checked is the host dialled; SNI is only for DNS names (an IP must be a SAN IP entry).
  const socket = tlsConnect({ host, port, ...options, ...(isIP(host) === 0 && { servername: host }) });
  return { socket, ready: 'secureConnect' };
}

const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Network failures, in words: the master was never reached, whatever TLS would have said. */
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host is down',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network is down',
  ENOTFOUND: 'unknown host name',
  EAI_AGAIN: 'the host name could not be resolved',
};

export interface ConnectFailure {
  message: string;
  /** Retrying cannot help (an untrusted certificate, TLS on one side only). */
  fatal: boolean;
}

/**
 * Words for a failure to connect or to greet. `tls`: whether this side used TLS; `connected`:
 * whether the connection (and its TLS handshake) was up, so the failure came while greeting.
 * Only a real TLS error blames TLS; a master that was never reached is named as such. Null when
 * a connected session failed for another reason (the caller's own words are better then).
 */
export function explainConnectFailure(err: Error, address: string, { tls, connected }: { tls: boolean; connected: boolean }): ConnectFailure | null {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (tls) {
    if (CERT_CODES.has(code)) return { message: `the master at ${address} has a certificate this side does not trust (${code}: ${err.message}); check --ca (TITAN_CA) and that the certificate names the host dialled`, fatal: true };
    if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN/.test(code)) {
      return { message: `the master at ${address} refused this side's client certificate (${code}); mutual TLS needs --cert and --key (TITAN_CERT, TITAN_KEY) signed by the CA the master trusts`, fatal: true };
    }
    if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE|UNKNOWN_PROTOCOL/.test(code) || /wrong version number|packet length too long/i.test(err.message)) {
      return { message: `the master at ${address} does not speak TLS (${code || err.message}); drop --tls/--ca, or start the master with --tls-cert and --tls-key`, fatal: true };
    }
  } else if (connected && (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UNAVAILABLE' || code === 'BAD_FRAME')) {
    // Reached, then hung up on (or answered in bytes that are no frame) at the first frame: what a TLS master does to a plain client.
    return { message: `the master at ${address} closed the connection before answering (${err.message}): is the master using TLS? use --tls/--ca (TITAN_TLS, TITAN_CA)`, fatal: false };
  }
  const words = NETWORK_WORDS[code];
  if (words !== undefined) {
    // A TLS socket that closes before its handshake says "disconnected before secure TLS connection": nothing was said in TLS yet.
    const when = tls && !connected && code === 'ECONNRESET' ? ' before the TLS handshake' : '';
    const what = connected ? `lost the connection to the master at ${address}` : `cannot reach the master at ${address}`;
    return { message: `${what}: ${words}${when} (${code})`, fatal: false };
  }
  if (!connected) return { message: `cannot reach the master at ${address}: ${err.message}`, fatal: false };
  return null;
}
