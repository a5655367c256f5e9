/**
 * Applies the embedded schema migrations in version order, one transaction each, and records
 * every applied version in schema_migrations. Safe to run on every open and from several
 * processes at once: each migration re-checks under the write lock before applying.
 */
import type Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations/index.js';

interface AppliedRow {
  version: number;
  name: string;
}

/** Returns the versions applied by this call (empty when the schema was already current). */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  checkSequence(migrations);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const selectApplied = db.prepare<[], AppliedRow>('SELECT version, name FROM schema_migrations ORDER BY version');
  const selectOne = db.prepare<[number], AppliedRow>('SELECT version, name FROM schema_migrations WHERE version = ?');
  const insertApplied = db.prepare<[number, string, number]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );

  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const row of selectApplied.all()) {
    const m = known.get(row.version);
    // A version we do not know means a newer build wrote this database; running on would
    // silently misread it.
    if (m === undefined) {
      throw new Error(
        `database schema version ${row.version} is newer than this build supports (latest ${migrations.at(-1)?.version ?? 0})`,
      );
    }
    if (m.name !== row.name) {
      throw new Error(`schema migration ${row.version} was applied as "${row.name}" but this build calls it "${m.name}"`);
    }
  }

  const applied: number[] = [];
  const applyOne = db.transaction((m: Migration): void => {
    if (selectOne.get(m.version) !== undefined) return;
    db.exec(m.sql);
    insertApplied.run(m.version, m.name, Date.now());
    applied.push(m.version);
  });
  for (const m of migrations) {
    try {
      // IMMEDIATE takes the write lock first, so two processes cannot both apply a version.
      applyOne.immediate(m);
    } catch (e) {
      throw new Error(`schema migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
    }
  }
  return applied;
}

/** Versions rise strictly; a number may be skipped (held for a migration developed alongside). */
function checkSequence(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    const previous = i === 0 ? 0 : (migrations[i - 1]?.version ?? 0);
    if (m.version <= previous) throw new Error(`migrations must be numbered in rising order; found ${m.version} after ${previous}`);
  });
}
