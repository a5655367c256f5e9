/**
 * Schema migrations, embedded as TypeScript so that the compiled dist/ carries them without a
 * copy step. Append-only: never edit or renumber a released migration, add the next one.
 * Each runs inside a transaction, so it must not rely on PRAGMA foreign_keys (a no-op there).
 */
import { sql as initial } from './0001_initial.js';
import { sql as gates } from './0002_gates.js';
import { sql as data } from './0003_data.js';
import { sql as services } from './0004_services.js';
import { sql as retryTags } from './0005_retry_tags.js';
import { sql as schedules } from './0006_schedules.js';
import { sql as lostRequests } from './0007_lost_requests.js';
import { sql as startedBy } from './0008_started_by.js';
import { sql as access } from './0009_access.js';
import { sql as runFlow } from './0010_run_flow.js';
import { sql as steps } from './0011_steps.js';
import { sql as triggers } from './0012_triggers.js';
import { sql as notifications } from './0013_notifications.js';
import { sql as attemptTimes } from './0014_attempt_times.js';
import { sql as addedBy } from './0015_added_by.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'gates', sql: gates },
  { version: 3, name: 'data', sql: data },
  { version: 4, name: 'services', sql: services },
  { version: 5, name: 'retry_tags', sql: retryTags },
  { version: 6, name: 'schedules', sql: schedules },
  { version: 7, name: 'lost_requests', sql: lostRequests },
  { version: 8, name: 'started_by', sql: startedBy },
  { version: 9, name: 'access', sql: access },
  { version: 10, name: 'run_flow', sql: runFlow },
  { version: 11, name: 'steps', sql: steps },
  { version: 12, name: 'triggers', sql: triggers },
  { version: 13, name: 'notifications', sql: notifications },
  { version: 14, name: 'attempt_times', sql: attemptTimes },
  { version: 15, name: 'added_by', sql: addedBy },
];
