/**
 * Who may call what: every client method, declared once, with the permission it needs and how
 * far a job's token reaches with it. The v2 sessions and the HTTP API both decide by this table.
 *
 * Permissions: `read` (views, logs, the data bus and artifacts to read), `operate` (submit and
 * steer runs, write to the data bus and artifacts), `approve` (decide gates), `admin` (workers,
 * schedules, the script library, deleting runs). The cluster token holds all four, the read token
 * only `read`. A job's token holds `read` and `operate`, and only where `job` says:
 *
 * - `run`: on its own run and the runs it submitted (the door checks the run the call names);
 * - `free`: anywhere (the data bus, which exists to pass data between runs; a submission, whose
 *   new run becomes one of the job's; cluster-wide counts);
 * - `agent`: on the agent run its own run belongs to;
 * - `never`: not at all (listings of other runs, gates, services).
 */
import type { DataMethod } from './data-methods.js';
import type { Method, WorkerMethod } from './methods.js';
import type { ScheduleMethod } from './schedule-methods.js';

export type Permission = 'read' | 'operate' | 'approve' | 'admin';
export type JobReach = 'run' | 'free' | 'agent' | 'never';

export interface MethodAccess {
  needs: Permission;
  job: JobReach;
}

/** What a role holds. */
export const ROLE_PERMISSIONS = {
  admin: ['read', 'operate', 'approve', 'admin'],
  read: ['read'],
  job: ['read', 'operate'],
} as const satisfies Record<string, readonly Permission[]>;

export type ClientRole = keyof typeof ROLE_PERMISSIONS;

type ClientMethod = Exclude<Method, WorkerMethod> | DataMethod | ScheduleMethod;

const read = (job: JobReach): MethodAccess => ({ needs: 'read', job });
const operate = (job: JobReach): MethodAccess => ({ needs: 'operate', job });
const admin: MethodAccess = { needs: 'admin', job: 'never' };

export const ACCESS: Record<ClientMethod, MethodAccess> = {
  // runs and jobs
  submit: operate('free'),
  'dag.submit': operate('free'),
  'blob.missing': operate('free'),
  'blob.put': operate('free'),
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
  'schedules.list': read('never'),
  'schedule.put': admin,
  'schedule.pause': admin,
  'schedule.resume': admin,
  'schedule.delete': admin,
  'schedule.runNow': admin,
  // the data bus and artifacts
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
  'artifact.put.begin': operate('free'),
  'artifact.put.part': operate('free'),
  'artifact.put.commit': operate('free'),
  'artifact.delete': { needs: 'operate', job: 'never' },
};

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

/**
 * Whether `role` may call `method` at all (a job's reach is checked by the door against the run
 * the call names); the refusal says why, or null when allowed.
 */
export function refusal(role: ClientRole, method: string): string | null {
  const access = (ACCESS as Record<string, MethodAccess | undefined>)[method];
  if (access === undefined) return `${method} is not a client method`;
  if (!(ROLE_PERMISSIONS[role] as readonly Permission[]).includes(access.needs)) return `${method} ${WORDS[access.needs]}: a ${role} token cannot call it`;
  if (role === 'job' && access.job === 'never') return `${method} reaches beyond a job's own runs: a job's token cannot call it`;
  return null;
}
