/**
 * Schema migrations, embedded as TypeScript so that the compiled dist/ carries them without a
 * copy step. Append-only: never edit or renumber a released migration, add the next one.
 * Each runs inside a transaction, so it must not rely on PRAGMA foreign_keys (a no-op there).
 */
import { sql as initial } from './0001_initial.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [{ version: 1, name: 'initial', sql: initial }];
