/**
 * A Store on a Redis server (Redis, Valkey or KeyDB, standalone), for a master whose state should
 * live outside its own disk: `titan master --store redis://host:6379/0`. The semantics are the
 * SQLite store's, checked by the same conformance suite. The layout is in redis-keys.ts, the Lua
 * scripts in redis-lua/ (loaded by redis-scripts.ts).
 *
 * - A commit is one Lua script: all of the batch or none of it. It is durable when it resolves
 *   only if the server runs with `appendonly yes` and `appendfsync always` (checked at open, with
 *   a warning otherwise).
 * - Each commit names its batch and the one before it. The script applies a batch it has already
 *   applied as a no-op (a retry after a lost reply), and refuses to write when the last batch in
 *   Redis is not the one this store wrote last: Redis lost acknowledged commits, or another master
 *   writes to the same database. Either way this master's memory no longer matches the store.
 * - While the server cannot be reached, every call fails at once with StoreUnavailableError.
 * - Artifact files stay on the master's disk; only their metadata is here.
 * - Several masters may share one database: the lease (redis-lease.ts) says which leads, and once
 *   the leader fenced this store with its epoch, every write script refuses to write (FencedError)
 *   after another master acquired the lease.
 */
import { randomBytes } from 'node:crypto';
import type { AgentRunSummary, AttemptRecord, GateDecision, JobRecord, JobSpec, JobStatus, RunRecord, RunStatus, ServiceState } from '../core/model.js';
import type { RunFlow } from '../core/flow-spec.js';
import type { NotifyTargets } from '../core/notify-spec.js';
import type { ScheduleRecord } from '../core/schedule.js';
import { RedisTriggers } from './redis-triggers.js';
import { ForwardingStore } from './forwarding-store.js';
import { RedisNotifications } from './redis-notifications.js';
import { RedisAccess } from './redis-access.js';
import { RedisConnection, type RedisStoreOptions } from './redis-connection.js';
import { RedisDataBusStore } from './redis-data-bus.js';
import { RedisSteps } from './redis-steps.js';
import { attemptsKey, KEY, RUN_PART, runKey, runsByAgentKey, runsByStatusKey, runsByTagKey } from './redis-keys.js';
import { COMMIT_ERROR, DIVERGED_ERROR, FENCED_ERROR, REDIS_SCHEMA_VERSION, type RedisScriptName, redisScripts } from './redis-scripts.js';
import { FencedError, type LeaderLease, type LeasedStore } from './lease.js';
import { RedisLease } from './redis-lease.js';
import { parseRedisUrl } from './redis-url.js';
import { TitanError } from '../core/errors.js';
import { isEmptyBatch, type JobTotals, listingLimit, type RunListing, type RunPosition, type Store, type StoreBatch, StoreOpenError, StoreUnavailableError } from './store.js';

export type { RedisStoreOptions } from './redis-connection.js';

type Flat = string[];

/** A flat HGETALL reply (as scripts return it) as an object. */
function pairs(flat: Flat): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

// ---- record <-> stored text ----
// A job is two hash fields: "<createdAt>[/<addedBy>] <spec JSON>", written once, and "<STATUS>
// <JSON array of the mutable fields>", rewritten at each transition; the script reads the status
// from the front. A job id has no "/" or space.

const specEntry = (j: JobRecord): string => `${j.createdAt}${j.addedBy !== undefined ? `/${j.addedBy}` : ''} ${JSON.stringify(j.spec)}`;

const stateEntry = (j: JobRecord): string =>
  `${j.status} ${JSON.stringify([j.attempt, j.notBefore ?? null, j.workerId ?? null, j.exitCode ?? null, j.error ?? null, j.startedAt ?? null, j.finishedAt ?? null, j.service ?? null, j.retryBase, j.lost, j.queuedAt ?? null])}`;

/** `lost` and `queuedAt` are absent from states written before they existed. */
type StateFields = [number, number | null, string | null, number | null, string | null, number | null, number | null, ServiceState | null, number, number?, (number | null)?];

function toJob(runId: string, spec: string, state: string): JobRecord {
  const a = spec.indexOf(' ');
  const b = state.indexOf(' ');
  const [createdAt = '', addedBy] = spec.slice(0, a).split('/');
  // Both were written by this store (stateEntry, specEntry) from a validated record.
  const [attempt, notBefore, workerId, exitCode, error, startedAt, finishedAt, service, retryBase, lost = 0, queuedAt = null] = JSON.parse(state.slice(b + 1)) as StateFields;
  return {
    runId,
    spec: JSON.parse(spec.slice(a + 1)) as JobSpec,
    status: state.slice(0, b) as JobStatus,
    attempt,
    notBefore,
    workerId,
    exitCode,
    error,
    createdAt: Number(createdAt),
    queuedAt,
    startedAt,
    finishedAt,
    service,
    retryBase,
    lost,
    ...(addedBy !== undefined && { addedBy }),
  };
}

function toRun(runId: string, h: Record<string, string>): RunRecord {
  return {
    runId,
    name: h.name ?? '',
    agentRunId: h.agent ?? null,
    status: h.status as RunStatus,
    createdAt: Number(h.createdAt),
    finishedAt: h.finishedAt === undefined ? null : Number(h.finishedAt),
    // Written by this store from a string array.
    tags: h.tags === undefined ? [] : (JSON.parse(h.tags) as string[]),
    ...(h.request !== undefined && { requestId: h.request }),
    ...(h.startedBy !== undefined && { startedBy: h.startedBy }),
    // Written by this store from a RunFlow.
    ...(h.flow !== undefined && { flow: JSON.parse(h.flow) as RunFlow }),
    // Written by this store from a validated RunSpec.on.
    ...(h.notify !== undefined && { notify: JSON.parse(h.notify) as NotifyTargets }),
  };
}

function toListing(runId: string, h: Record<string, string>): RunListing {
  const counts: Partial<Record<JobStatus, number>> = {};
  let total = 0;
  for (const [field, value] of Object.entries(h)) {
    const n = Number(value);
    if (!field.startsWith('n:') || !(n > 0)) continue;
    counts[field.slice(2) as JobStatus] = n;
    total += n;
  }
  return { run: toRun(runId, h), counts, total };
}

/** The jobs of a run in insertion order, from its order list and its two hashes. */
function toJobs(runId: string, order: Flat, specs: Flat, states: Flat): JobRecord[] {
  const spec = pairs(specs);
  const state = pairs(states);
  return order.flatMap((jobId) => {
    const s = spec[jobId];
    const t = state[jobId];
    return s === undefined || t === undefined ? [] : [toJob(runId, s, t)];
  });
}

const attemptJson = (a: AttemptRecord): string =>
  JSON.stringify({ runId: a.runId, jobId: a.jobId, attempt: a.attempt, workerId: a.workerId, queuedAt: a.queuedAt ?? null, startedAt: a.startedAt, runningAt: a.runningAt ?? null, finishedAt: a.finishedAt ?? null, outcome: a.outcome ?? null, exitCode: a.exitCode ?? null, error: a.error ?? null });

/** An attempt as stored; the timeline's times are absent from attempts written before they existed. */
const toAttempt = (json: string): AttemptRecord => ({ queuedAt: null, runningAt: null, ...(JSON.parse(json) as Omit<AttemptRecord, 'queuedAt' | 'runningAt'>) });

const decisionJson = (d: GateDecision): string => JSON.stringify({ runId: d.runId, jobId: d.jobId, approved: d.approved, by: d.by, comment: d.comment, at: d.at, reason: d.reason });

const scheduleJson = (r: ScheduleRecord): string =>
  JSON.stringify({ name: r.name, spec: r.spec, run: r.run, paused: r.paused, nextAt: r.nextAt, lastAt: r.lastAt, lastRunId: r.lastRunId, createdAt: r.createdAt, updatedAt: r.updatedAt });

/** The commit script's arguments (see redis-lua/commit.lua). */
function encodeBatch(batch: StoreBatch): string[] {
  const args: string[] = [String(batch.runs.length)];
  for (const r of batch.runs) {
    args.push(r.runId, r.name, r.agentRunId ?? '', r.status, String(r.createdAt), r.finishedAt === null ? '' : String(r.finishedAt), r.requestId ?? '', r.startedBy ?? '', r.flow ? JSON.stringify(r.flow) : '', r.notify ? JSON.stringify(r.notify) : '', r.tags.length > 0 ? JSON.stringify(r.tags) : '', String(r.tags.length), ...r.tags);
  }
  args.push(String(batch.newJobs.length));
  for (const j of batch.newJobs) args.push(j.runId, j.spec.id, specEntry(j), stateEntry(j));
  args.push(String(batch.jobs.length));
  for (const j of batch.jobs) args.push(j.runId, j.spec.id, stateEntry(j));
  args.push(String(batch.attempts.length));
  for (const a of batch.attempts) args.push(a.runId, a.jobId, String(a.attempt), attemptJson(a));
  args.push(String(batch.decisions.length));
  for (const d of batch.decisions) args.push(d.runId, d.jobId, decisionJson(d));
  return args;
}

export class RedisStore extends ForwardingStore implements Store, LeasedStore {
  readonly lease: LeaderLease;
  protected readonly data: RedisDataBusStore;
  protected readonly access: RedisAccess;
  protected readonly steps: RedisSteps;
  protected readonly triggers: RedisTriggers;
  protected readonly notifications: RedisNotifications;
  /** The epoch every write carries once this store is fenced ('' before). */
  private fenceEpoch = '';
  /** The id of the last batch this store committed (or found at open): the script checks it. */
  private lastCommit: string;
  /** Names this store's batches when the caller gives them no id. */
  private readonly idPrefix = randomBytes(6).toString('hex');
  private seq = 0;

  private constructor(
    private readonly c: RedisConnection,
    lastCommit: string,
  ) {
    super();
    this.data = new RedisDataBusStore(c, (name, args) => this.write(name, args));
    this.access = new RedisAccess(c, (name, args) => this.write(name, args));
    this.steps = new RedisSteps(c, (name, args) => this.write(name, args));
    this.triggers = new RedisTriggers(c, (name, args) => this.write(name, args));
    this.notifications = new RedisNotifications(c, (name, args) => this.write(name, args));
    this.lastCommit = lastCommit;
    this.lease = new RedisLease(c, (epoch) => {
      this.fenceEpoch = String(epoch);
    });
  }

  /**
   * Connects to the server at `url` (`redis://[user:password@]host:port/db`, `rediss://` for TLS),
   * checks its layout version and logs what weakens durability. Fails when the server cannot be
   * reached: a master does not start on a store it cannot read.
   */
  static async open(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
    const target = parseRedisUrl(url);
    let scripts: Record<string, string>;
    try {
      scripts = redisScripts();
    } catch (err) {
      // An install that lacks its scripts (or has a broken one) cannot use any Redis store.
      throw new StoreOpenError(`cannot open the Redis store at ${target.display}: ${(err as Error).message}`, { cause: err });
    }
    const c = await RedisConnection.open(target, options, scripts);
    try {
      await c.call(() => c.redis.set(KEY.schema, String(REDIS_SCHEMA_VERSION), 'NX'));
      // Layouts this build knows how to bring up to date, each in one script (all or nothing).
      if ((await c.call(() => c.redis.get(KEY.schema))) === '1') await c.script('titanMigrate1to2', []);
      const schema = await c.call(() => c.redis.get(KEY.schema));
      if (schema !== String(REDIS_SCHEMA_VERSION)) {
        const newer = /^\d+$/.test(schema ?? '') && Number(schema) > REDIS_SCHEMA_VERSION;
        throw new Error(newer ? `its layout version ${schema} is newer than this build supports (latest ${REDIS_SCHEMA_VERSION})` : `${KEY.schema} holds "${schema}", not a Titan layout version`);
      }
      for (const warning of await c.durabilityWarnings()) options.log?.(`warning: ${warning}`);
      const last = await c.call(() => c.redis.get(KEY.commit));
      return new RedisStore(c, last ?? '');
    } catch (err) {
      await c.close();
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreOpenError(`cannot open the Redis store at ${target.display}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Where the store is, without credentials (for logs). */
  get display(): string {
    return this.c.target.display;
  }

  unavailable(): Error | null {
    return this.c.unavailable();
  }

  /** Runs a write script with the fencing epoch first; a fenced-off write becomes FencedError. */
  private async write(name: RedisScriptName, args: (string | number)[]): Promise<unknown> {
    try {
      return await this.c.script(name, [this.fenceEpoch, ...args]);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(FENCED_ERROR)) throw new FencedError(Number(this.fenceEpoch));
      throw err;
    }
  }

  async commit(batch: StoreBatch): Promise<void> {
    if (isEmptyBatch(batch)) return;
    const id = batch.id ?? `${this.idPrefix}-${++this.seq}`;
    try {
      await this.write('titanCommit', [id, this.lastCommit, ...encodeBatch(batch)]);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message.startsWith(COMMIT_ERROR)) throw new Error(message.slice(COMMIT_ERROR.length + 1), { cause: err });
      if (message.startsWith(DIVERGED_ERROR)) {
        const found = message.slice(DIVERGED_ERROR.length + 1) || 'none';
        throw new Error(
          `the Redis store at ${this.display} does not hold this master's last commit (${this.lastCommit || 'none'}; it holds ${found}): ` +
            'it lost acknowledged writes (restarted without appendfsync always?) or another master writes to the same database; restart this master so it reloads its state from Redis',
          { cause: err },
        );
      }
      throw err;
    }
    this.lastCommit = id;
  }

  async loadActiveRuns(): Promise<{ run: RunRecord; jobs: JobRecord[] }[]> {
    const rows = (await this.c.script('titanLoadActive', [])) as [string, Flat, Flat, Flat, Flat][];
    return rows.map(([runId, run, order, specs, states]) => ({ run: toRun(runId, pairs(run)), jobs: toJobs(runId, order, specs, states) }));
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const h = await this.c.call(() => this.c.redis.hgetall(runKey(runId)));
    return h.createdAt === undefined ? null : toRun(runId, h);
  }

  async getRunJobs(runId: string): Promise<JobRecord[]> {
    const [order, specs, states] = (await this.c.script('titanRunJobs', [runId])) as [Flat, Flat, Flat];
    return toJobs(runId, order, specs, states);
  }

  private async listings(index: string, direction: 'asc' | 'desc', status: string, limit: number, after?: RunPosition): Promise<RunListing[]> {
    const cursor = after === undefined ? [] : [String(after.createdAt), after.runId];
    const rows = (await this.c.script('titanListRuns', [index, direction, status, String(limit), ...cursor])) as [string, Flat][];
    return rows.map(([runId, h]) => toListing(runId, pairs(h)));
  }

  async listRuns(options: { limit: number; status?: RunStatus; tag?: string; after?: RunPosition }): Promise<RunListing[]> {
    const limit = listingLimit(options.limit);
    if (limit === null) return [];
    const { status, tag, after } = options;
    if (tag !== undefined) return this.listings(runsByTagKey(tag), 'desc', status ?? '', limit, after);
    return this.listings(status === undefined ? KEY.runs : runsByStatusKey(status), 'desc', '', limit, after);
  }

  async findRunByRequest(requestId: string): Promise<RunRecord | null> {
    const runId = await this.c.call(() => this.c.redis.hget(KEY.requests, requestId));
    return runId === null ? null : this.getRun(runId);
  }

  async listAgentRunStages(agentRunId: string): Promise<RunListing[]> {
    return this.listings(runsByAgentKey(agentRunId), 'asc', '', -1);
  }

  async listAgentRuns(limit: number): Promise<AgentRunSummary[]> {
    if (!(limit > 0)) return [];
    const rows = (await this.c.script('titanListAgents', [String(Number.isFinite(limit) ? Math.floor(limit) : 1_000_000_000)])) as Flat[];
    return rows.map(([agentRunId = '', runs, active, firstAt, lastAt]) => ({ agentRunId, runs: Number(runs), active: Number(active), firstAt: Number(firstAt), lastAt: Number(lastAt) }));
  }

  async findJob(jobId: string, runId: string | null): Promise<JobRecord | null> {
    const row = (await this.c.script('titanFindJob', [jobId, runId ?? ''])) as [string, string, string] | null;
    return row === null ? null : toJob(row[0], row[1], row[2]);
  }

  async listAttempts(runId: string, jobId: string): Promise<AttemptRecord[]> {
    const h = await this.c.call(() => this.c.redis.hgetall(attemptsKey(runId, jobId)));
    return Object.entries(h)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, json]) => toAttempt(json));
  }

  async listRunAttempts(runId: string): Promise<AttemptRecord[]> {
    const jobIds = [...new Set(await this.c.call(() => this.c.redis.lrange(runKey(runId) + RUN_PART.order, 0, -1)))].sort();
    if (jobIds.length === 0) return [];
    // One round trip for the whole run: a pipeline of one HGETALL per job.
    const replies = await this.c.call(async () => (await this.c.redis.pipeline(jobIds.map((jobId) => ['hgetall', attemptsKey(runId, jobId)])).exec()) ?? []);
    return replies.flatMap(([err, h]) => {
      if (err) throw this.c.translate(err);
      return Object.entries(h as Record<string, string>)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([, json]) => toAttempt(json));
    });
  }

  async listDecisions(limit: number): Promise<GateDecision[]> {
    if (!(limit > 0)) return [];
    const end = Number.isFinite(limit) ? Math.floor(limit) - 1 : -1;
    const rows = await this.c.call(() => this.c.redis.lrange(KEY.decisions, 0, end));
    return rows.map((json) => JSON.parse(json) as GateDecision);
  }

  async totals(): Promise<JobTotals> {
    const [submitted, completed, dead, attempts, retried] = await this.c.call(() => this.c.redis.hmget(KEY.totals, 'submitted', 'completed', 'dead', 'attempts', 'retried'));
    return { submitted: Number(submitted ?? 0), completed: Number(completed ?? 0), dead: Number(dead ?? 0), attempts: Number(attempts ?? 0), retried: Number(retried ?? 0) };
  }

  async finishedRunsBefore(cutoff: number, limit: number): Promise<string[]> {
    return (await this.c.script('titanFinishedBefore', [cutoff, Math.max(0, Math.floor(limit))])) as string[];
  }

  async deleteRun(runId: string): Promise<boolean> {
    try {
      return (await this.write('titanDeleteRun', [runId])) === 1;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message.startsWith(COMMIT_ERROR)) throw new TitanError('CONFLICT', message.slice(COMMIT_ERROR.length + 1));
      throw err;
    }
  }

  async getMeta(key: string): Promise<string | null> {
    return this.c.call(() => this.c.redis.hget(KEY.meta, key));
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.write('titanMetaSet', [key, value]);
  }

  // ---- schedules: one hash field each, the record as JSON ----

  async putSchedule(record: ScheduleRecord): Promise<void> {
    await this.write('titanSchedulePut', [record.name, scheduleJson(record)]);
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    const json = await this.c.call(() => this.c.redis.hget(KEY.schedules, name));
    return json === null ? null : toSchedule(json);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    const all = await this.c.call(() => this.c.redis.hgetall(KEY.schedules));
    return Object.keys(all)
      .sort(byteOrder)
      .map((name) => toSchedule(all[name] as string));
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return (await this.write('titanScheduleDelete', [name])) === 1;
  }

  async close(): Promise<void> {
    await this.c.close();
  }
}

// Written by this store (scheduleJson) from a validated record.
const toSchedule = (json: string): ScheduleRecord => JSON.parse(json) as ScheduleRecord;
