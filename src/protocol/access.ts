/**
 * Who may call what: every client method, declared once, with the permission it needs and how
 * far a job's token reaches with it. The v2 sessions and the HTTP API both decide by this table.
 *
 * Permissions: `read` (views, logs, the data bus to read), `operate` (submit and
 * steer runs, write to the data bus), `approve` (decide gates), `admin` (workers,
 * schedules, the script library, deleting runs). The cluster token holds all four, the read token
 * only `read`. A job's token holds `read` and `operate`, and only where `job` says:
 *
 * - `run`: on its own run and the runs it submitted (the door checks the run the call names);
 * - `free`: anywhere (the data bus, which exists to pass data between runs; a submission, whose
 *   new run becomes one of the job's; cluster-wide counts);
 * - `agent`: on the agent run its own run belongs to;
 * - `self`: only a job's token, on its own job in its own run, which the token names (durable
 *   steps); no other caller may call it;
 * - `never`: not at all (listings of other runs, gates, services).
 */
import type { DataBusMethod } from './data-bus-methods.js';
import type { Method, WorkerMethod } from './methods.js';
import type { Permission, Principal } from './roles.js';
import type { ScheduleMethod } from './schedule-methods.js';
import type { StepMethod } from './step-methods.js';

export type JobReach = 'run' | 'free' | 'agent' | 'self' | 'never';

export interface MethodAccess {
  needs: Permission;
  job: JobReach;
  /** A step of a larger action (content staged for a submission or an upload): the audit records that action, not each step. */
  step?: true;
}

/** Every method a client may call (the worker's own methods are not in this table). */
export type ClientMethod = Exclude<Method, WorkerMethod> | DataBusMethod | ScheduleMethod | StepMethod;

const read = (job: JobReach): MethodAccess => ({ needs: 'read', job });
const operate = (job: JobReach): MethodAccess => ({ needs: 'operate', job });
const admin: MethodAccess = { needs: 'admin', job: 'never' };

export const ACCESS: Record<ClientMethod, MethodAccess> = {
  // runs and jobs
  submit: operate('free'),
  'dag.submit': operate('free'),
  'blob.missing': { ...operate('free'), step: true },
  'blob.put': { ...operate('free'), step: true },
  'pipeline.parse': read('free'),
  'run.get': read('run'),
  'run.watch': read('run'),
  'run.cancel': operate('run'),
  'run.extend': operate('run'),
  'run.rerun': operate('run'),
  'run.delete': admin,
  'runs.list': read('never'),
  'job.get': read('run'),
  'job.cancel': operate('run'),
  'job.retry': operate('run'),
  'logs.get': read('run'),
  'logs.follow': read('run'),
  unsubscribe: read('free'),
  'service.stop': operate('run'),
  'services.list': read('never'),
  'agentRuns.list': read('never'),
  'agentRun.get': read('agent'),
  'agentRun.watch': read('agent'),
  'gates.list': read('never'),
  'gate.decide': { needs: 'approve', job: 'never' },
  // the cluster
  'workers.list': read('free'),
  'worker.drain': admin,
  'worker.undrain': admin,
  'worker.shutdown': admin,
  stats: read('free'),
  'files.list': read('free'),
  'files.get': read('free'),
  'files.blob': operate('free'),
  'files.put': admin,
  'limits.list': read('free'),
  'limits.set': admin,
  'limits.remove': admin,
  // secrets: set and listed by name, never read back (a job receives the ones it declares)
  'secret.set': admin,
  'secrets.list': admin,
  'secret.remove': admin,
  // durable steps: a job's own, named by its token
  'step.get': read('self'),
  'step.record': operate('self'),
  // notifications out: the cluster's URLs and signing key are the admin's; deliveries are read (URLs shown by origin only)
  'notifications.list': admin,
  'notifications.set': admin,
  'notifications.remove': admin,
  'notifications.key': admin,
  'notifications.deliveries': read('never'),
  'schedules.list': read('never'),
  'schedule.put': admin,
  'schedule.pause': admin,
  'schedule.resume': admin,
  'schedule.delete': admin,
  'schedule.runNow': admin,
  // triggers: a delivery itself comes through /hooks/NAME, authenticated by the trigger, not here
  'triggers.list': read('never'),
  'triggers.get': read('never'),
  'triggers.create': admin,
  'triggers.remove': admin,
  // the data bus: keys and artifacts
  'kv.get': read('free'),
  'kv.keys': read('free'),
  'kv.smembers': read('free'),
  'kv.wait': read('free'),
  'kv.set': operate('free'),
  'kv.del': operate('free'),
  'kv.incr': operate('free'),
  'kv.cas': operate('free'),
  'kv.sadd': operate('free'),
  'kv.srem': operate('free'),
  'artifact.get': read('free'),
  'artifact.list': read('free'),
  'artifact.put.begin': { ...operate('free'), step: true },
  'artifact.put.part': { ...operate('free'), step: true },
  'artifact.put.commit': operate('free'),
  'artifact.delete': { needs: 'operate', job: 'never' },
  // people and the audit
  whoami: read('free'),
  'token.create': admin,
  'token.list': admin,
  'token.revoke': admin,
  'user.add': admin,
  'user.list': admin,
  'user.remove': admin,
  'audit.list': admin,
};

/** What only one door offers: the dashboard's drafts (HTTP), clearing Titan's statistics (v1). */
export const DOOR_ONLY_ACCESS = {
  'stats.clear': admin,
  'drafts.list': read('never'),
  'drafts.get': read('never'),
  'drafts.put': operate('never'),
  'drafts.rename': operate('never'),
  'drafts.delete': operate('never'),
} as const satisfies Record<string, MethodAccess>;

/** What a read-only caller sees of a job: the names of its environment variables, never their values. */
export function hideEnv<T extends { spec: { env: Record<string, string> } }>(job: T): T {
  return { ...job, spec: { ...job.spec, env: Object.fromEntries(Object.keys(job.spec.env).map((k) => [k, '(hidden)'])) } };
}

const WORDS: Record<Permission, string> = {
  read: 'reads',
  operate: 'changes runs or data',
  approve: 'decides gates',
  admin: 'administers the cluster',
};

/** How a refusal names the caller: "a read token", "the token alice". */
export const callerName = (who: Pick<Principal, 'name' | 'kind'>): string =>
  ({ cluster: 'the cluster token', read: 'a read token', job: "a job's token", token: `the token ${who.name}`, user: `the user ${who.name}`, v1: who.name })[who.kind];

const accessOf = (method: string): MethodAccess | undefined => (ACCESS as Record<string, MethodAccess | undefined>)[method] ?? (DOOR_ONLY_ACCESS as Record<string, MethodAccess | undefined>)[method];

/** Whether a name is a method of the table (what an HTTP route must name). */
export const isTableMethod = (method: string): boolean => accessOf(method) !== undefined;

/** Whether a method changes anything by itself (what the audit log records). */
export const changesState = (method: string): boolean => {
  const access = accessOf(method);
  return access !== undefined && access.needs !== 'read' && access.step !== true;
};

/**
 * Whether `who` may call `method` at all (a job's reach is checked by the door against the run
 * the call names); the refusal says why, or null when allowed.
 */
export function refusal(who: Pick<Principal, 'name' | 'kind' | 'permissions'>, method: string): string | null {
  const access = accessOf(method);
  if (access === undefined) return `${method} is not a client method`;
  if (!who.permissions.includes(access.needs)) return `${method} ${WORDS[access.needs]}: ${callerName(who)} cannot call it`;
  if (who.kind === 'job' && access.job === 'never') return `${method} reaches beyond a job's own runs: a job's token cannot call it`;
  if (who.kind !== 'job' && access.job === 'self') return `${method} acts on the calling job's own steps: only a job's token (TITAN_TOKEN inside a job) can call it`;
  return null;
}

/** The reach of a job's token for a method. */
export const jobReach = (method: string): JobReach | undefined => accessOf(method)?.job;

/** Titan's key-based gates wait on this key (`…:<gate>`); writing anything but WAITING there decides the gate. */
export const TITAN_GATE_STATUS_PREFIX = 'titan:hitl:status:';

/**
 * Why a data bus call that decides a Titan-style gate is refused to `who`, or null: such a write
 * is a gate decision, so it needs `approve` like `gate.decide` (the gate's own job may still
 * register itself as WAITING).
 */
export function titanGateRefusal(who: Pick<Principal, 'name' | 'kind' | 'permissions'>, method: string, params: unknown): string | null {
  if (who.permissions.includes('approve')) return null;
  if (method !== 'kv.set' && method !== 'kv.cas' && method !== 'kv.del') return null;
  const p = (params ?? {}) as { key?: unknown; value?: unknown };
  if (typeof p.key !== 'string' || !p.key.startsWith(TITAN_GATE_STATUS_PREFIX)) return null;
  if (method !== 'kv.del' && p.value === 'WAITING') return null;
  return `${method} on ${p.key} decides a Titan gate: ${callerName(who)} cannot decide gates`;
}
