/**
 * v2 methods of schedules (`schedules.list`, `schedule.*`): parameter schemas and result types,
 * merged into `params` and `Results` of methods.ts. A schedule's run references scripts already
 * uploaded with blob.put, exactly as `submit` does.
 */
import { z } from 'zod';
import { RunSpecSchema } from '../core/model.js';
import { ScheduleNameSchema, ScheduleSpecSchema, type ScheduleView } from '../core/schedule.js';

const Named = z.strictObject({ name: ScheduleNameSchema });

export const scheduleParams = {
  'schedules.list': z.strictObject({}),
  /** Creates or replaces the schedule `name`; a paused schedule stays paused. */
  'schedule.put': z.strictObject({ name: ScheduleNameSchema, schedule: ScheduleSpecSchema, run: RunSpecSchema }),
  'schedule.pause': Named,
  /** Fires again from the next fire time after now. */
  'schedule.resume': Named,
  'schedule.delete': Named,
  /** Submits the schedule's run now, whatever its overlap policy. */
  'schedule.runNow': Named,
} as const;

export type ScheduleMethod = keyof typeof scheduleParams;

export interface ScheduleResults {
  'schedules.list': { schedules: ScheduleView[] };
  'schedule.put': { schedule: ScheduleView; created: boolean };
  'schedule.pause': { schedule: ScheduleView };
  'schedule.resume': { schedule: ScheduleView };
  /** The schedule as it was; the runs it submitted are kept. */
  'schedule.delete': { schedule: ScheduleView };
  'schedule.runNow': { runId: string; schedule: ScheduleView };
}
