/**
 * Every Redis key the store uses, named once. The TypeScript side builds its keys from here; the
 * Lua scripts get the same names from the `keys` fragment generated from this module
 * (`luaKeysFragment`) when they are loaded, so a name cannot differ between the two sides.
 *
 * Layout (engine state under `titan:`, the data bus's keys under `user:` as Titan stored them):
 *   titan:schema                       layout version
 *   titan:commit                       id of the last applied commit batch
 *   titan:meta                         hash: meta key → value
 *   titan:lease                        "<epoch> <holder id> <address JSON>", expiring (PX) unless renewed
 *   titan:lease:epoch                  counter: the latest epoch granted (INCR), which fences writes
 *   titan:masters                      hash: master id → "<expiresAt by the server's clock> <address JSON>"
 *   titan:run:<run>                    hash: name status createdAt [agent finishedAt tags request startedBy flow notify] n:<STATUS>…
 *   titan:run:<run>:specs              hash: job → "<createdAt> <spec JSON>" (immutable)
 *   titan:run:<run>:jobs               hash: job → "<STATUS> <JSON of the mutable fields>"
 *   titan:run:<run>:order              list: job ids in insertion order
 *   titan:run:<run>:steps:<job>        hash: step name → the step's record as JSON (durable steps)
 *   titan:runs                         zset: run by createdAt
 *   titan:runs:finished                zset: finished run by finishedAt (retention)
 *   titan:runs:status:<STATUS>         zset: run by createdAt
 *   titan:runs:tag:<tag>               zset: run by createdAt
 *   titan:runs:agent:<agent>           zset: run by createdAt
 *   titan:agents                       zset: agent run by its latest run's createdAt
 *   titan:job:<job>                    zset: run by createdAt, for every run that has a job of that id
 *   titan:attempts:<run>/<job>         hash: attempt number → JSON
 *   titan:decisions                    list: JSON, newest first
 *   titan:totals                       hash: submitted completed dead attempts retried
 *   titan:requests                     hash: client request id → the run its submission created
 *   titan:schedules                    hash: name → JSON
 *   titan:triggers                     hash: name → JSON
 *   titan:trigger:<name>:deliveries    list: delivery JSON, newest first, trimmed to the newest kept
 *   titan:kv:meta                      hash: bus key → "<string|set>|<version>|<expiresAt or empty>"
 *   titan:kv:keys                      zset (score 0): live bus keys, for prefix listing in byte order
 *   titan:kv:expiring                  zset: bus key by expiresAt
 *   titan:kv:revision                  the version counter of the data bus's keys
 *   user:<key>                         the bus key's value (a string) or members (a set)
 *   titan:artifacts                    hash: artifact key → JSON
 *   titan:artifacts:keys               zset (score 0): artifact keys in byte order
 *   titan:artifacts:run:<run>          zset (score 0): the run's artifact keys
 *   titan:artifacts:refs               hash: sha256 → how many keys reference the content
 *   titan:audit                        zset: "<seq> <entry JSON>" by seq, the newest kept
 *   titan:audit:seq                    counter: the last number given to an audit entry
 *   titan:audit:batches                zset: id of an applied audit append by its last seq (retries add nothing)
 *   titan:identities                   hash: "<token|user>:<name>" → the identity's JSON (hashes only)
 *   titan:notifications                hash: delivery id → JSON
 *   titan:notifications:seq            counter: the last number given to a delivery
 *   titan:notifications:order          zset: delivery id by seq (listing, and the bound on their number)
 *   titan:notifications:pending        zset: pending delivery id by seq
 *   titan:notifications:run:<run>      zset: the run's delivery ids by seq
 */

/** Where the engine's state lives. */
const ENGINE = 'titan:';

/** Keys of a fixed name. */
export const KEY = {
  schema: `${ENGINE}schema`,
  commit: `${ENGINE}commit`,
  meta: `${ENGINE}meta`,
  lease: `${ENGINE}lease`,
  leaseEpoch: `${ENGINE}lease:epoch`,
  masters: `${ENGINE}masters`,
  runs: `${ENGINE}runs`,
  runsFinished: `${ENGINE}runs:finished`,
  agents: `${ENGINE}agents`,
  decisions: `${ENGINE}decisions`,
  totals: `${ENGINE}totals`,
  requests: `${ENGINE}requests`,
  schedules: `${ENGINE}schedules`,
  triggers: `${ENGINE}triggers`,
  kvMeta: `${ENGINE}kv:meta`,
  kvKeys: `${ENGINE}kv:keys`,
  kvExpiring: `${ENGINE}kv:expiring`,
  kvRevision: `${ENGINE}kv:revision`,
  artifacts: `${ENGINE}artifacts`,
  artifactKeys: `${ENGINE}artifacts:keys`,
  artifactRefs: `${ENGINE}artifacts:refs`,
  audit: `${ENGINE}audit`,
  auditSeq: `${ENGINE}audit:seq`,
  auditBatches: `${ENGINE}audit:batches`,
  identities: `${ENGINE}identities`,
  notifications: `${ENGINE}notifications`,
  notificationsSeq: `${ENGINE}notifications:seq`,
  notificationsOrder: `${ENGINE}notifications:order`,
  notificationsPending: `${ENGINE}notifications:pending`,
} as const;

/** Prefixes a name is appended to (a run id, a status, a tag, a bus key…). */
export const PREFIX = {
  run: `${ENGINE}run:`,
  runsStatus: `${ENGINE}runs:status:`,
  runsTag: `${ENGINE}runs:tag:`,
  runsAgent: `${ENGINE}runs:agent:`,
  job: `${ENGINE}job:`,
  attempts: `${ENGINE}attempts:`,
  artifactsRun: `${ENGINE}artifacts:run:`,
  trigger: `${ENGINE}trigger:`,
  notificationsRun: `${ENGINE}notifications:run:`,
  /** The data bus's keys, where Titan kept them. */
  bus: 'user:',
} as const;

/** Suffixes of the keys that sit beside a run's hash (`titan:run:<run>`). */
export const RUN_PART = {
  specs: ':specs',
  jobs: ':jobs',
  order: ':order',
  /** Followed by the job id. */
  steps: ':steps:',
} as const;

export const runKey = (runId: string): string => `${PREFIX.run}${runId}`;
export const runsByStatusKey = (status: string): string => `${PREFIX.runsStatus}${status}`;
export const runsByTagKey = (tag: string): string => `${PREFIX.runsTag}${tag}`;
export const runsByAgentKey = (agentRunId: string): string => `${PREFIX.runsAgent}${agentRunId}`;
export const stepsKey = (runId: string, jobId: string): string => `${runKey(runId)}${RUN_PART.steps}${jobId}`;
export const deliveriesKey = (trigger: string): string => `${PREFIX.trigger}${trigger}:deliveries`;
export const attemptsKey = (runId: string, jobId: string): string => `${PREFIX.attempts}${runId}/${jobId}`;

/** Names are plain ASCII, so each is written into Lua as it is. */
const LUA_SAFE = /^[\w:]+$/;

/** `runsFinished` → `RUNS_FINISHED`. */
const upperSnake = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function luaLocals(group: string, entries: Record<string, string>): string[] {
  return Object.entries(entries).map(([field, value]) => {
    if (!LUA_SAFE.test(value)) throw new Error(`Redis key name ${JSON.stringify(value)} cannot be written into Lua as it is`);
    return `local ${group}_${upperSnake(field)} = '${value}'`;
  });
}

/**
 * The Lua fragment `keys`: a local per name of this module (`KEY.runsFinished` is
 * `KEY_RUNS_FINISHED`, `PREFIX.run` is `PREFIX_RUN`, `RUN_PART.specs` is `RUN_PART_SPECS`).
 * Locals rather than tables: a table would be built again at every call of a script.
 */
export function luaKeysFragment(): string {
  return ['-- Key names, generated from redis-keys.ts.', ...luaLocals('KEY', KEY), ...luaLocals('PREFIX', PREFIX), ...luaLocals('RUN_PART', RUN_PART)].join('\n');
}
