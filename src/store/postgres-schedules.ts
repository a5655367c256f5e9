/**
 * Schedules in PostgreSQL: one row per schedule, its spec and run as JSON text, as in SQLite.
 * Each write is one fenced transaction.
 */
import type { RunSpec } from '../core/model.js';
import type { ScheduleRecord, ScheduleSpec } from '../core/schedule.js';
import type { PostgresConnection } from './postgres-connection.js';

interface ScheduleRow {
  name: string;
  spec: string;
  run: string;
  paused: boolean;
  next_at: number | null;
  last_at: number | null;
  last_run_id: string | null;
  created_at: number;
  updated_at: number;
}

const SCHEDULE_COLUMNS = 'name, spec, run, paused, next_at, last_at, last_run_id, created_at, updated_at';

const toRecord = (row: ScheduleRow): ScheduleRecord => ({
  name: row.name,
  // Both were validated when the schedule was registered and are stored verbatim.
  spec: JSON.parse(row.spec) as ScheduleSpec,
  run: JSON.parse(row.run) as RunSpec,
  paused: row.paused,
  nextAt: row.next_at,
  lastAt: row.last_at,
  lastRunId: row.last_run_id,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export class PostgresSchedules {
  constructor(private readonly c: PostgresConnection) {}

  async putSchedule(r: ScheduleRecord): Promise<void> {
    await this.c.write((sql) =>
      sql.query(
        `INSERT INTO schedules (${SCHEDULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, run = excluded.run, paused = excluded.paused,
           next_at = excluded.next_at, last_at = excluded.last_at, last_run_id = excluded.last_run_id,
           created_at = excluded.created_at, updated_at = excluded.updated_at`,
        [r.name, JSON.stringify(r.spec), JSON.stringify(r.run), r.paused, r.nextAt, r.lastAt, r.lastRunId, r.createdAt, r.updatedAt],
      ),
    );
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    const [row] = await this.c.query<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE name = $1`, [name]);
    return row ? toRecord(row) : null;
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return (await this.c.query<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules ORDER BY name`)).map(toRecord);
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return this.c.write(async (sql) => ((await sql.query('DELETE FROM schedules WHERE name = $1', [name])).rowCount ?? 0) > 0);
  }
}
