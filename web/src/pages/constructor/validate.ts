/**
 * The constructor's validation of a model, as the user types. Ids, capabilities, tags, names and
 * the numeric bounds come from core's one definition of a job (src/core/model.ts), so the
 * constructor refuses what the master would. Pure, unit-tested.
 */
import type { z } from 'zod';
import { ConcurrencySchema, RateLimitSchema } from '../../../../src/core/flow-spec.ts';
import { CapabilitySchema, IdSchema, LIMITS, SecretNameSchema, TagSchema } from '../../../../src/core/model.ts';
import { ShellWordsError, splitShellWords } from '../../../../src/core/shell-words.ts';
import { type CNode, flowSettings, type Model, type NodeFields, num, parseEnv, parseSecrets, splitTags } from './model.ts';

export interface Issue {
  /** A hint is no problem: it says what to do first (on a blank canvas). */
  level: 'error' | 'warning' | 'hint';
  /** The node it is about, if any. */
  key?: string;
  field?: keyof NodeFields | 'id' | 'name' | 'tags' | 'schedule';
  message: string;
}

/** Why core's schema refuses the value, or null when it accepts it. */
function refusal(schema: z.ZodType, value: string): string | null {
  const r = schema.safeParse(value);
  return r.success ? null : (r.error.issues[0]?.message ?? 'is not valid');
}

function intIn(s: string, min: number, max: number): boolean {
  const v = num(s);
  return v !== undefined && Number.isInteger(v) && v >= min && v <= max;
}

/** Seconds as typed, within core's bound in milliseconds. */
function secondsWithin(s: string, maxMs: number): boolean {
  const v = num(s);
  return v !== undefined && v >= 0 && v * 1000 <= maxMs;
}

/** Problems of the args string, split as the master splits it. */
function argsProblem(args: string): string | null {
  let words: string[];
  try {
    words = splitShellWords(args);
  } catch (err) {
    if (err instanceof ShellWordsError) return `args: ${err.message}`;
    throw err;
  }
  if (words.length > LIMITS.maxArgs) return `args: at most ${LIMITS.maxArgs} arguments`;
  if (words.some((w) => w.length > LIMITS.maxArgLength)) return `args: an argument holds at most ${LIMITS.maxArgLength} characters`;
  return null;
}

/**
 * Problems of one node's fields (for the editor, as the user types). `deployable` holds the script
 * names the cluster has content for (null while unknown): any other script cannot be deployed.
 */
export function validateNode(n: CNode, pools: readonly string[] = [], deployable: ReadonlySet<string> | null = null): Issue[] {
  const out: Issue[] = [];
  const f = n.fields;
  const err = (field: Issue['field'], message: string): void => {
    out.push({ level: 'error', key: n.key, field, message });
  };
  const idProblem = refusal(IdSchema, n.id);
  if (n.id.trim() === '') err('id', 'the id is required');
  else if (idProblem) err('id', `id: ${idProblem}`);
  const file = f.file.trim().replace(/^\.\//, '');
  if (n.kind !== 'approval' && file === '') err('file', `${n.id || 'a job'}: choose a script`);
  else if (n.kind !== 'approval' && deployable !== null && !deployable.has(file)) err('file', `${n.id || 'a job'}: the cluster has no script ${file} (not in the library, the uploads or a past run's scripts): upload it`);
  const args = n.kind === 'approval' ? null : argsProblem(f.args);
  if (args) err('args', args);
  if (f.priority.trim() !== '' && !intIn(f.priority, -1_000_000, 1_000_000)) err('priority', 'priority: an integer');
  if (f.retries.trim() !== '' && !intIn(f.retries, 0, LIMITS.maxRetries)) err('retries', `retries: an integer 0–${LIMITS.maxRetries}`);
  for (const [field, label, maxMs] of [
    ['delay', 'delay', LIMITS.maxDelayMs],
    ['timeout', 'timeout', LIMITS.maxTimeoutMs],
    ['maxWaitSeconds', 'max wait', LIMITS.maxTimeoutMs],
  ] as const) {
    if (f[field].trim() !== '' && !secondsWithin(f[field], maxMs)) err(field, `${label}: a number of seconds, 0 to ${maxMs / 1000}`);
  }
  if (f.timeout.trim() !== '' && num(f.timeout) === 0) err('timeout', 'timeout: more than 0 seconds');
  if (f.port.trim() !== '' && !intIn(f.port, 1, 65535)) err('port', 'port: an integer 1–65535');
  const env = parseEnv(f.env);
  for (const [k] of env) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) err('env', `env: "${k}" is not a variable name`);
  if (env.length > LIMITS.maxEnvEntries) err('env', `env: at most ${LIMITS.maxEnvEntries} entries`);
  const secrets = n.kind === 'approval' ? [] : parseSecrets(f.secrets);
  for (const name of secrets) {
    const problem = refusal(SecretNameSchema, name);
    if (problem) err('secrets', `secrets: ${name}: ${problem}`);
    else if (env.some(([k]) => k === name)) err('secrets', `secrets: ${name} is also an environment variable; keep it in one place`);
  }
  if (secrets.length > LIMITS.maxSecretsPerJob) err('secrets', `secrets: at most ${LIMITS.maxSecretsPerJob}`);
  const req = f.requirement.trim();
  const reqProblem = req === '' ? null : refusal(CapabilitySchema, req);
  if (reqProblem) err('requirement', `requirement: ${reqProblem}`);
  else if (req !== '' && pools.length > 0 && !pools.includes(req)) out.push({ level: 'warning', key: n.key, field: 'requirement', message: `${n.id}: no worker offers the capability ${req} now` });
  if (/\n/.test(f.file)) err('file', 'file: one line');
  if (n.kind !== 'approval') flowProblems(f, err);
  return out;
}

/** The flow fields, checked by core's schemas of a job's concurrency and rate limit; each problem at the field it is about. */
function flowProblems(f: NodeFields, err: (field: Issue['field'], message: string) => void): void {
  const { concurrency, rateLimit } = flowSettings(f);
  // Without its key a setting is not written at all, so its other fields would be lost.
  if (!concurrency && f.concurrencyLimit.trim() !== '') err('concurrencyKey', 'concurrency: give the key the limit is for');
  if (!rateLimit && [f.rateLimit, f.ratePer, f.rateBurst].some((v) => v.trim() !== '')) err('rateKey', 'rate limit: give the key the limit is for');
  const check = (label: string, schema: z.ZodType, given: Record<string, string | number>, fieldOf: Record<string, keyof NodeFields>): void => {
    const r = schema.safeParse(given);
    for (const issue of r.success ? [] : r.error.issues) {
      const name = String(issue.path[0] ?? 'key');
      err(fieldOf[name] ?? fieldOf.key, `${label} ${name}: ${issue.message}`);
    }
  };
  if (concurrency) check('concurrency', ConcurrencySchema, concurrency, { key: 'concurrencyKey', limit: 'concurrencyLimit' });
  if (rateLimit) check('rate limit', RateLimitSchema, rateLimit, { key: 'rateKey', limit: 'rateLimit', per: 'ratePer', burst: 'rateBurst' });
}

export function validate(model: Model, pools: readonly string[] = [], deployable: ReadonlySet<string> | null = null): Issue[] {
  const out: Issue[] = [];
  if (model.nodes.length === 0) out.push({ level: 'hint', message: 'The pipeline has no jobs yet: add one with + Task, import a YAML or open a draft.' });
  const name = model.name.trim();
  // A schedule is named by the pipeline, and a schedule's name is an id.
  const nameProblem = model.schedule.trim() !== '' ? refusal(IdSchema, name) : name.length > LIMITS.maxNameLength ? `must be at most ${LIMITS.maxNameLength} characters` : null;
  if (nameProblem) out.push({ level: 'error', field: 'name', message: model.schedule.trim() !== '' ? `a scheduled pipeline's name ${nameProblem}` : `name: ${nameProblem}` });
  const cron = model.schedule.trim();
  if (cron !== '' && !cron.startsWith('@') && ![5, 6].includes(cron.split(/\s+/).length)) out.push({ level: 'error', field: 'schedule', message: 'schedule: 5 cron fields (minute hour day month weekday), 6 with seconds, or @daily …' });
  for (const t of splitTags(model.tags)) {
    const problem = refusal(TagSchema, t);
    if (problem) out.push({ level: 'error', field: 'tags', message: `tag "${t}": ${problem}` });
  }
  const seen = new Map<string, number>();
  for (const n of model.nodes) seen.set(n.id, (seen.get(n.id) ?? 0) + 1);
  for (const n of model.nodes) {
    out.push(...validateNode(n, pools, deployable));
    if (n.id !== '' && (seen.get(n.id) ?? 0) > 1) out.push({ level: 'error', key: n.key, field: 'id', message: `the id ${n.id} is used more than once` });
  }
  return out;
}
