/**
 * A private PostgreSQL server for tests and for the bench's PostgreSQL column: initdb into a
 * temporary directory, then pg_ctl start on a free loopback port with its unix socket inside that
 * directory (trust authentication, user `titan`, the server's durable defaults). As root (CI) the server runs as the `postgres` user, which owns the directory. It is
 * stopped with `pg_ctl stop -m immediate` (or SIGQUIT to its postmaster, by pid) and the directory
 * removed; every server still running when the test process exits is stopped by its pid.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

const START_TIMEOUT_S = 30;

const live = new Set<PostgresServer>();
process.once('exit', () => {
  for (const server of live) server.killNow();
});

/** The directory holding initdb and pg_ctl (PATH, then /usr/lib/postgresql/<version>/bin), or null. */
export function postgresBinDir(): string | null {
  const versions = (): string[] => {
    try {
      return readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)).map((v) => `/usr/lib/postgresql/${v}/bin`);
    } catch {
      return [];
    }
  };
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...versions()]) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, 'initdb'), constants.X_OK);
      accessSync(join(dir, 'pg_ctl'), constants.X_OK);
      return dir;
    } catch {
      // not here
    }
  }
  return null;
}

const isRoot = (): boolean => process.getuid?.() === 0;

const hasRunuser = (): boolean =>
  ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

const shellQuote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`;

/** The command line of a PostgreSQL program, as the `postgres` user when this process is root (initdb refuses root). */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  if (!isRoot()) return [bin, args];
  if (hasRunuser()) return ['runuser', ['-u', 'postgres', '--', bin, ...args]];
  return ['su', ['postgres', '-s', '/bin/sh', '-c', [bin, ...args].map(shellQuote).join(' ')]];
}

/** Runs a PostgreSQL program (as the `postgres` user when this process is root). */
function runAs(bin: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  const [file, argv] = asPostgres(bin, args);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { cwd, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

export class PostgresServer {
  private running = false;

  private constructor(
    readonly bin: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  /**
   * initdb and start a server on a free port; retries when the port was taken meanwhile. Its
   * directory is `dir` (empty) when given, else a fresh temporary one; remove() deletes it.
   */
  static async start(given?: string): Promise<PostgresServer> {
    const bin = postgresBinDir();
    if (bin === null) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
    const dir = given ?? mkdtempSync(join(tmpdir(), 'titan-pg-'));
    if (isRoot()) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(dir, uid, gid);
    }
    try {
      await runAs(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'titan', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], dir, START_TIMEOUT_S * 1000);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = new PostgresServer(bin, dir, await freePort());
      try {
        await server.start();
        return server;
      } catch (err) {
        lastError = err;
        await server.stop();
      }
    }
    rmSync(dir, { recursive: true, force: true });
    throw lastError;
  }

  /** A URL of the `titan` database (created at start). */
  get url(): string {
    return this.urlOf('titan');
  }

  urlOf(database: string): string {
    return `postgres://titan@127.0.0.1:${this.port}/${database}`;
  }

  /** The postmaster's pid while it runs. */
  get pid(): number | null {
    try {
      return Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return null;
    }
  }

  /** Starts (or restarts, on the same port and data) the server and waits until it serves. */
  async start(): Promise<void> {
    if (this.running) return;
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`;
    live.add(this);
    this.running = true;
    await runAs(join(this.bin, 'pg_ctl'), ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'server.log'), '-o', options, '-w', '-t', String(START_TIMEOUT_S), 'start'], this.dir, (START_TIMEOUT_S + 5) * 1000);
    await this.query('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', ['titan']).then(async (rows) => {
      if (rows.length === 0) await this.query('postgres', 'CREATE DATABASE titan');
    });
  }

  /** Runs one statement on a database of this server as its superuser. */
  async query(database: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const client = new pg.Client({ connectionString: this.urlOf(database) });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  }

  /** What the server logged. */
  output(): string {
    try {
      return readFileSync(join(this.dir, 'server.log'), 'utf8').slice(-64 * 1024);
    } catch {
      return '';
    }
  }

  /** An immediate shutdown (no checkpoint, like a crash): the next start recovers from the WAL. */
  async stop(): Promise<void> {
    if (!this.running) return;
    try {
      await runAs(join(this.bin, 'pg_ctl'), ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', '-t', String(START_TIMEOUT_S), 'stop'], this.dir, (START_TIMEOUT_S + 5) * 1000);
    } catch {
      this.killNow();
    }
    this.running = false;
    live.delete(this);
  }

  /** SIGQUIT to the postmaster by its pid: it ends its children and exits at once. */
  killNow(): void {
    const pid = this.pid;
    if (pid === null || !(pid > 0)) return;
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }

  /** Stops the server and deletes its directory. */
  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
