/**
 * The master's TLS material, read and checked at start: a certificate and its key for both ports,
 * and optionally a CA whose client certificates alone are let in (mutual TLS).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

export interface ServerTlsFiles {
  cert: string;
  key: string;
  /** Require every client (TCP and HTTPS) to present a certificate signed by this CA. */
  clientCa?: string;
}

/** What node's tls and https servers take. */
export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/** A TLS file that cannot be used; the message names it. */
export class ServerTlsError extends Error {}

export function loadServerTls(files: ServerTlsFiles): ServerTls {
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ServerTlsError(`${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const cert = read('--tls-cert', files.cert);
  const key = read('--tls-key', files.key);
  const ca = files.clientCa === undefined ? undefined : read('--tls-client-ca', files.clientCa);
  // Parsed now, so a file that is not PEM, or a key that does not match, fails before anything listens.
  try {
    createSecureContext({ key });
  } catch (err) {
    throw new ServerTlsError(`--tls-key: ${files.key} is not a usable private key (${(err as Error).message})`);
  }
  try {
    createSecureContext({ cert });
  } catch (err) {
    throw new ServerTlsError(`--tls-cert: ${files.cert} is not a usable certificate (${(err as Error).message})`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ServerTlsError(`--tls-key: ${files.key} does not match the certificate ${files.cert} (${(err as Error).message})`);
  }
  if (ca !== undefined) {
    try {
      // A secure context takes any text as a CA and trusts nothing from it: parse it to catch a wrong file.
      if (!new X509Certificate(ca).ca) throw new Error('it is not a CA certificate');
      createSecureContext({ ca });
    } catch (err) {
      throw new ServerTlsError(`--tls-client-ca: ${files.clientCa} is not a usable CA certificate (${(err as Error).message})`);
    }
  }
  return { cert, key, ...(ca !== undefined && { ca }), requestCert: ca !== undefined, rejectUnauthorized: ca !== undefined };
}
