/** The settings every client of a master shares: how it reaches a master that serves TLS. */
import { type Setting, text } from './setting.js';

/** Read, when their flags are absent, from TITAN_TLS, TITAN_CA, TITAN_CERT and TITAN_KEY (see protocol/tls-dial). */
export const CLIENT_TLS_SETTINGS = {
  tls: { flag: '--tls', help: 'connect with TLS, trusting the system CAs (default: TITAN_TLS=1)', env: 'TITAN_TLS' },
  ca: { flag: '--ca <file>', help: 'trust this CA certificate (PEM) for the master; implies --tls (default: TITAN_CA)', parse: text(), env: 'TITAN_CA' },
  cert: { flag: '--cert <file>', help: 'client certificate (PEM) for a master that requires mutual TLS; implies --tls (default: TITAN_CERT)', parse: text(), env: 'TITAN_CERT' },
  key: { flag: '--key <file>', help: "the client certificate's private key (PEM) (default: TITAN_KEY)", parse: text(), env: 'TITAN_KEY' },
} satisfies Record<string, Setting>;
