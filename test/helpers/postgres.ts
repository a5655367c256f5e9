/** The private PostgreSQL server the tests start, shared with the bench's PostgreSQL column (one implementation). */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { postgresBinDir, PostgresServer } from '../../bench/postgres-server.js';

export { PostgresServer, postgresBinDir };

const required = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Tests that need PostgreSQL are required in CI: where it is missing, `name` becomes one failing
 * test instead of a skipped block. True when PostgreSQL is installed.
 */
export function postgresAvailable(name: string): boolean {
  const available = postgresBinDir() !== null;
  if (!available && required) {
    describe(name, () => {
      it('runs in CI', () => {
        throw new Error(`PostgreSQL (initdb, pg_ctl) is not installed: "${name}" is required in CI (.ci/run installs postgresql)`);
      });
    });
  }
  return available;
}

/** A block whose tests share one private PostgreSQL server, started for the block and removed after it. */
export function describeOnPostgres(name: string, body: (server: () => PostgresServer) => void): void {
  describe.runIf(postgresAvailable(name))(name, () => {
    let server: PostgresServer | null = null;
    beforeAll(async () => {
      server = await PostgresServer.start();
    }, 90_000);
    afterAll(async () => {
      await server?.remove();
      server = null;
    }, 60_000);
    body(() => {
      if (!server) throw new Error('the PostgreSQL server did not start');
      return server;
    });
  });
}

let databases = 0;

/** A new, empty database on `server`; its name (`server.urlOf(name)` reaches it). */
export async function freshDatabase(server: PostgresServer): Promise<string> {
  const name = `t${++databases}`;
  await server.query('postgres', `CREATE DATABASE ${name}`);
  return name;
}
