/**
 * Test certificates made with openssl in a folder: a CA (`ca.pem`/`ca.key`), a server
 * certificate it signed for one IP address (`server.pem`/`server.key`), a client certificate it
 * signed (`client.pem`/`client.key`), and an unrelated CA (`other-ca.pem`). Valid for two days.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const OPENSSL = '/usr/bin/openssl';
export const haveOpenssl = existsSync(OPENSSL);

export function makeCertificates(dir: string, serverIp = '127.0.0.1'): void {
  const openssl = (args: string[]): void => void execFileSync(OPENSSL, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=IP:${serverIp}\n`);
  for (const ca of ['ca', 'other-ca']) openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=${ca}`]);
  for (const leaf of ['server', 'client']) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`, '-subj', `/CN=${leaf}`]);
    openssl(['x509', '-req', '-in', `${leaf}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${leaf}.pem`, '-days', '2', ...(leaf === 'server' ? ['-extfile', 'server.ext'] : [])]);
  }
}
