/**
 * The worker's name (`host:port`) and the credential that proves it. The master hands a worker
 * its credential when it enrols and asks for it whenever the name is one it still knows (the
 * worker is connected, reconnecting, or holds attempts the master restored after a restart), so
 * no other holder of the worker token can take the name. The credential is kept in memory for
 * reconnects and in `<work dir>/credential` (0600) for the next life of the process: a restarted
 * worker gets its name back at once. One that lost the file gets its name once the master has
 * forgotten the old worker.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { credentialFor } from '../protocol/derived-tokens.js';
import type { HelloResult } from '../protocol/methods.js';

export class WorkerIdentity {
  private credential: string | null = null;
  private readonly file: string;

  /** `port` 0 lets the master pick the name's port; the credential of an earlier life on this host picks it instead. */
  constructor(
    readonly host: string,
    public port: number,
    workDir: string,
    private readonly log: (line: string) => void,
  ) {
    this.file = join(workDir, 'credential');
    const saved = this.load();
    const name = saved === null ? null : credentialFor(saved);
    const colon = name?.lastIndexOf(':') ?? -1;
    const savedPort = Number(name?.slice(colon + 1));
    // A credential for another name (the worker was given another --name or --port) proves nothing here.
    if (name?.slice(0, colon) === host && Number.isInteger(savedPort) && savedPort > 0 && (port === 0 || port === savedPort)) {
      this.credential = saved;
      this.port = savedPort;
    }
  }

  /** What HELLO says of the worker's name. */
  hello(): { port: number; credential?: string } {
    return { port: this.port, ...(this.credential !== null && { credential: this.credential }) };
  }

  /** The master accepted the worker: keep the name it gave (a reconnect is then the same worker) and its credential. */
  joined(result: HelloResult): void {
    const id = result.workerId ?? '';
    const assigned = Number(id.slice(id.lastIndexOf(':') + 1));
    if (Number.isInteger(assigned) && assigned > 0) this.port = assigned;
    if (result.credential === undefined || result.credential === this.credential) return;
    this.credential = result.credential;
    this.save(result.credential);
  }

  private load(): string | null {
    try {
      return readFileSync(this.file, 'utf8').trim() || null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log(`cannot read the worker credential ${this.file}: ${(err as Error).message}; joining as a new worker`);
      return null;
    }
  }

  /** Written whole (a temporary file renamed over it), readable by this user only. */
  private save(credential: string): void {
    const temporary = `${this.file}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(temporary, `${credential}\n`, { mode: 0o600 });
      chmodSync(temporary, 0o600);
      renameSync(temporary, this.file);
    } catch (err) {
      this.log(`cannot keep the worker credential in ${this.file}: ${(err as Error).message}; after a restart this worker gets its name back only once the master has forgotten it`);
    }
  }
}
