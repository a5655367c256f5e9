/**
 * Schedules in SQLite (the table of migration 0006): one row per schedule, its spec and run as
 * JSON. Each write is one statement, its own durable transaction (synchronous=FULL).
 */
import type Database from 'better-sqlite3';
import type { RunSpec } from '../core/model.js';
import type { ScheduleRecord, ScheduleSpec } from '../core/schedule.js';

interface ScheduleRow {
  name: string;
  spec: string;
  run: string;
  paused: number;
  next_at: number | null;
  last_at: number | null;
  last_run_id: string | null;
  created_at: number;
  updated_at: number;
}

/** SCHEDULE_COLUMNS in order. */
type ScheduleParams = [string, string, string, number, number | null, number | null, string | null, number, number];

const SCHEDULE_COLUMNS = 'name, spec, run, paused, next_at, last_at, last_run_id, created_at, updated_at';

const toParams = (r: ScheduleRecord): ScheduleParams => [
  r.name,
  JSON.stringify(r.spec),
  JSON.stringify(r.run),
  r.paused ? 1 : 0,
  r.nextAt,
  r.lastAt,
  r.lastRunId,
  r.createdAt,
  r.updatedAt,
];

const toRecord = (row: ScheduleRow): ScheduleRecord => ({
  name: row.name,
  // Both were validated when the schedule was registered and are stored verbatim.
  spec: JSON.parse(row.spec) as ScheduleSpec,
  run: JSON.parse(row.run) as RunSpec,
  paused: row.paused === 1,
  nextAt: row.next_at,
  lastAt: row.last_at,
  lastRunId: row.last_run_id,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

function prepare(db: Database.Database) {
  return {
    put: db.prepare<ScheduleParams>(
      `INSERT INTO schedules (${SCHEDULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, run = excluded.run, paused = excluded.paused,
         next_at = excluded.next_at, last_at = excluded.last_at, last_run_id = excluded.last_run_id,
         created_at = excluded.created_at, updated_at = excluded.updated_at`,
    ),
    get: db.prepare<[string], ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE name = ?`),
    list: db.prepare<[], ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules ORDER BY name`),
    delete: db.prepare<[string]>('DELETE FROM schedules WHERE name = ?'),
  };
}

export class SqliteScheduleStore {
  private readonly s: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.s = prepare(db);
  }

  async putSchedule(record: ScheduleRecord): Promise<void> {
    this.s.put.run(...toParams(record));
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    const row = this.s.get.get(name);
    return row ? toRecord(row) : null;
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.s.list.all().map(toRecord);
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return this.s.delete.run(name).changes > 0;
  }
}
