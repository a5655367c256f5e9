/**
 * The Lua scripts of the Redis store, one file each in `redis-lua/` (shared fragments in
 * `redis-lua/includes/`), read beside this module and defined on the connection by name. A script
 * runs alone on the server (nothing interleaves with it) and reaches the AOF as one MULTI/EXEC, so
 * each write script is one all-or-nothing transaction. Redis does not roll a script back when it
 * fails half-way, so every write script checks everything first and only then writes. Keys are
 * derived inside the scripts (they take no KEYS) from the `keys` fragment, generated from
 * redis-keys.ts: this needs a standalone server (Redis, Valkey, KeyDB), not Redis Cluster.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expandIncludes } from './lua-includes.js';
import { luaKeysFragment } from './redis-keys.js';

/** Layout version written to titan:schema; a store with a newer one is refused. */
export const REDIS_SCHEMA_VERSION = 2;

/** Marks the errors a commit script raises on purpose (the batch is invalid; nothing was written). */
export const COMMIT_ERROR = 'TITANCOMMIT';
/** The commit script's error when titan:commit is not the commit this store wrote last. */
export const DIVERGED_ERROR = 'TITANDIVERGED';
/** A write script's error when another master acquired the lease since this store was fenced. */
export const FENCED_ERROR = 'TITANFENCED';

/** Each command the connection defines, and the file of its script. */
const SCRIPT_FILES = {
  titanCommit: 'commit.lua',
  titanLoadActive: 'load-active.lua',
  titanRunJobs: 'run-jobs.lua',
  titanListRuns: 'list-runs.lua',
  titanListAgents: 'list-agents.lua',
  titanFindJob: 'find-job.lua',
  titanFinishedBefore: 'finished-before.lua',
  titanDeleteRun: 'delete-run.lua',
  titanMigrate1to2: 'migrate-1-to-2.lua',
  titanKvApply: 'kv-apply.lua',
  titanKvGet: 'kv-get.lua',
  titanKvMembers: 'kv-members.lua',
  titanKvKeys: 'kv-keys.lua',
  titanArtifactPut: 'artifact-put.lua',
  titanArtifactDelete: 'artifact-delete.lua',
  titanArtifactList: 'artifact-list.lua',
  titanMetaSet: 'meta-set.lua',
  titanSchedulePut: 'schedule-put.lua',
  titanScheduleDelete: 'schedule-delete.lua',
  titanStepRecord: 'step-record.lua',
  titanStepCached: 'step-cached.lua',
  titanTriggerPut: 'trigger-put.lua',
  titanTriggerDelete: 'trigger-delete.lua',
  titanDeliveryAdd: 'delivery-add.lua',
  titanAuditAppend: 'audit-append.lua',
  titanIdentityAdd: 'identity-add.lua',
  titanIdentityRemove: 'identity-remove.lua',
  titanLeaseAcquire: 'lease-acquire.lua',
  titanLeaseRenew: 'lease-renew.lua',
  titanLeaseRelease: 'lease-release.lua',
  titanLeaseCurrent: 'lease-current.lua',
  titanMasterHeartbeat: 'master-heartbeat.lua',
  titanNotifyAdd: 'notify-add.lua',
  titanNotifyUpdate: 'notify-update.lua',
} as const;

export type RedisScriptName = keyof typeof SCRIPT_FILES;

/** Fragments made from TypeScript definitions, so both sides share one source. */
const GENERATED = new Map<string, () => string>([
  ['keys', luaKeysFragment],
  ['errors', () => `local COMMIT_ERROR, DIVERGED_ERROR = '${COMMIT_ERROR}', '${DIVERGED_ERROR}'\nlocal FENCED_ERROR = '${FENCED_ERROR}'`],
]);

const SCRIPT_DIR = new URL('./redis-lua/', import.meta.url);

function readLua(url: URL): string | undefined {
  try {
    return readFileSync(url, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Reads the scripts in `dir` (a folder URL ending in `/`) and expands their includes: a fragment
 * `name` is generated (above) or read from `includes/<name>.lua`.
 */
export function loadRedisScripts(dir: URL = SCRIPT_DIR): Record<RedisScriptName, string> {
  // A fragment's name is a plain file name: an include cannot reach outside includes/.
  const fragment = (name: string): string | undefined => GENERATED.get(name)?.() ?? (/^[\w-]+$/.test(name) ? readLua(new URL(`includes/${name}.lua`, dir)) : undefined);
  const scripts = {} as Record<RedisScriptName, string>;
  for (const [command, file] of Object.entries(SCRIPT_FILES) as [RedisScriptName, string][]) {
    const source = readLua(new URL(file, dir));
    if (source === undefined) throw new Error(`Lua script ${file} is missing from ${fileURLToPath(dir)}: the build copies redis-lua/ beside the compiled store`);
    scripts[command] = expandIncludes(file, source, fragment);
  }
  return scripts;
}

let loaded: Record<RedisScriptName, string> | undefined;

/** The store's scripts, read once per process (when the first Redis store opens). */
export function redisScripts(): Record<RedisScriptName, string> {
  loaded ??= loadRedisScripts();
  return loaded;
}
