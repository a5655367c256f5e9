/** The top-level `schedule` key of pipeline YAML. */
import { describe, expect, it } from 'vitest';
import { parsePipeline, PipelineError } from './pipeline.js';

const JOBS = `jobs:
  - id: a
    file: a.py
`;

function refusal(text: string): string {
  try {
    parsePipeline(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineError);
    return (err as Error).message;
  }
  throw new Error(`expected p.yaml to be refused:\n${text}`);
}

describe('pipeline YAML: schedule', () => {
  it('has no schedule unless it says so', () => {
    expect(parsePipeline(`name: etl\n${JOBS}`, 'p.yaml')).not.toHaveProperty('schedule');
  });

  it('reads a string as a cron expression in UTC with the default policies', () => {
    const p = parsePipeline(`name: etl\nschedule: "0 9 * * *"\n${JOBS}`, 'p.yaml');
    expect(p.schedule).toEqual({ cron: '0 9 * * *', timezone: 'UTC', overlap: 'skip', missed: 'run-once' });
    expect(p.name).toBe('etl');
    expect(p.jobs).toHaveLength(1);
  });

  it('reads a mapping with cron, timezone, overlap and missed', () => {
    const p = parsePipeline(`name: etl\nschedule:\n  cron: "*/5 * * * * *"\n  timezone: Europe/Berlin\n  overlap: allow\n  missed: skip\n${JOBS}`, 'p.yaml');
    expect(p.schedule).toEqual({ cron: '*/5 * * * * *', timezone: 'Europe/Berlin', overlap: 'allow', missed: 'skip' });
  });

  it('positions a bad cron string at the schedule key, and a bad field of the mapping at that field', () => {
    expect(refusal(`name: etl\nschedule: "61 * * * *"\n${JOBS}`)).toBe('p.yaml:2:11: "schedule" is not a cron expression: Invalid value for minute: 61');
    expect(refusal(`name: etl\nschedule:\n  cron: "0 9 * * *"\n  timezone: Mars/Base\n${JOBS}`)).toMatch(/^p\.yaml:4:13: "schedule\.timezone" is not a known IANA timezone/);
    expect(refusal(`name: etl\nschedule:\n  cron: "0 9 30 2 *"\n${JOBS}`)).toBe('p.yaml:3:9: "schedule.cron" never matches a date (check the day and month fields)');
    expect(refusal(`name: etl\nschedule:\n  cron: "0 9 * * *"\n  overlap: queue\n${JOBS}`)).toMatch(/^p\.yaml:4:12: "schedule\.overlap" /);
    expect(refusal(`name: etl\nschedule:\n  timezone: UTC\n${JOBS}`)).toBe('p.yaml: "schedule.cron" is required');
    expect(refusal(`name: etl\nschedule: 5\n${JOBS}`)).toBe('p.yaml:2:11: "schedule" is a cron expression such as "0 9 * * *", or a mapping with cron, timezone, overlap and missed');
  });

  it('suggests the nearest key for a typo inside the mapping', () => {
    expect(refusal(`name: etl\nschedule:\n  cron: "0 9 * * *"\n  timezon: UTC\n${JOBS}`)).toBe('p.yaml:4:3: unknown key "timezon" (did you mean "timezone"?)');
  });
});
