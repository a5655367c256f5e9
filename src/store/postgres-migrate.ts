/**
 * Brings a PostgreSQL database's schema up to date at open: every missing migration in one
 * transaction, under an advisory lock so that masters opening the same database at once apply
 * each version exactly once (the others wait, then find it applied). A version this build does
 * not know means a newer build wrote the database: opening fails rather than misread it.
 */
import type { Migration } from './migrations/index.js';
import type { Sql } from './postgres-connection.js';
import { PG_MIGRATIONS } from './postgres-migrations/index.js';

/** The advisory lock key of the migrations (any constant shared by every Titan build). */
const MIGRATION_LOCK = 7_461_620_190;

/** Versions the database holds that this build does not know, as an Error message; else null. */
function newerThanBuild(applied: { version: number; name: string }[], migrations: readonly Migration[]): string | null {
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const row of applied) {
    const m = known.get(row.version);
    if (m === undefined) return `database schema version ${row.version} is newer than this build supports (latest ${migrations.at(-1)?.version ?? 0})`;
    if (m.name !== row.name) return `schema migration ${row.version} was applied as "${row.name}" but this build calls it "${m.name}"`;
  }
  return null;
}

/**
 * Applies the missing migrations inside the caller's transaction; returns the versions applied.
 * Throws an Error saying why when the schema is newer than this build.
 */
export async function migratePostgres(sql: Sql, migrations: readonly Migration[] = PG_MIGRATIONS): Promise<number[]> {
  await sql.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  await sql.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER     NOT NULL PRIMARY KEY,
    name       TEXT        NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`);
  const applied = (await sql.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')).rows;
  const newer = newerThanBuild(applied, migrations);
  if (newer !== null) throw new Error(newer);
  const done = new Set(applied.map((r) => r.version));
  const versions: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    try {
      await sql.query(m.sql);
    } catch (e) {
      throw new Error(`schema migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
    }
    await sql.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    versions.push(m.version);
  }
  return versions;
}
