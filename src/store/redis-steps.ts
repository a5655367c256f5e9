/**
 * Durable steps in Redis: a hash per job of a run (`titan:run:<run>:steps:<job>`, step name →
 * the record as JSON), removed with the run. A record and a cache mark are each one fenced
 * script, which keeps a COMPLETED record as it is; reads are plain commands.
 */
import { type StepRecord, stepOrder } from '../core/steps.js';
import type { RedisConnection } from './redis-connection.js';
import type { WriteScript } from './redis-data-bus.js';
import { stepsKey } from './redis-keys.js';
import type { StepStore } from './step-store.js';

const stepJson = (s: StepRecord): string =>
  JSON.stringify({ runId: s.runId, jobId: s.jobId, name: s.name, status: s.status, result: s.result, error: s.error, attempt: s.attempt, startedAt: s.startedAt, finishedAt: s.finishedAt, cachedIn: s.cachedIn });

// Written by this store (stepJson, or the cache script from it) from a validated record.
const toStep = (json: string): StepRecord => JSON.parse(json) as StepRecord;

export class RedisSteps implements StepStore {
  constructor(
    private readonly c: RedisConnection,
    private readonly write: WriteScript,
  ) {}

  async stepRecord(step: StepRecord): Promise<StepRecord> {
    return toStep((await this.write('titanStepRecord', [step.runId, step.jobId, step.name, stepJson(step)])) as string);
  }

  async stepGet(runId: string, jobId: string, name: string): Promise<StepRecord | null> {
    const json = await this.c.call(() => this.c.redis.hget(stepsKey(runId, jobId), name));
    return json === null ? null : toStep(json);
  }

  async stepCached(runId: string, jobId: string, name: string, attempt: number): Promise<void> {
    await this.write('titanStepCached', [runId, jobId, name, attempt]);
  }

  async listSteps(runId: string, jobId: string): Promise<StepRecord[]> {
    const all = await this.c.call(() => this.c.redis.hgetall(stepsKey(runId, jobId)));
    return Object.values(all).map(toStep).sort(stepOrder);
  }
}
