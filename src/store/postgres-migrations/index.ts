/**
 * The PostgreSQL schema migrations, numbered like SQLite's (src/store/migrations/) but a sequence
 * of their own. Append-only: never edit or renumber a released migration, add the next one.
 * They run together in one transaction at open (postgres-migrate.ts).
 */
import type { Migration } from '../migrations/index.js';
import { sql as initial } from './0001_initial.js';
import { sql as access } from './0002_access.js';
import { sql as masterPresence } from './0003_master_presence.js';
import { sql as runFlow } from './0004_run_flow.js';
import { sql as steps } from './0005_steps.js';
import { sql as triggers } from './0006_triggers.js';
import { sql as notifications } from './0007_notifications.js';
import { sql as attemptTimes } from './0008_attempt_times.js';
import { sql as addedBy } from './0009_added_by.js';

export const PG_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'access', sql: access },
  { version: 3, name: 'master_presence', sql: masterPresence },
  { version: 4, name: 'run_flow', sql: runFlow },
  { version: 5, name: 'steps', sql: steps },
  { version: 6, name: 'triggers', sql: triggers },
  { version: 7, name: 'notifications', sql: notifications },
  { version: 8, name: 'attempt_times', sql: attemptTimes },
  { version: 9, name: 'added_by', sql: addedBy },
];
