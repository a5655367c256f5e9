/**
 * Flow-control keys: the names that concurrency limits, rate limits, fair-queue groups and
 * singletons count by. A key may be a template built from the run's values, resolved once when
 * the run is submitted so that every later decision compares plain strings:
 *
 *   {run} {name} {agentRun} {job} {args.N} {env.NAME} {tags.NAME}
 *
 * `{tags.customer}` is the value of the run's tag `customer=acme` (or `customer:acme`).
 */
import { z } from 'zod';

export const FLOW_KEY_MAX = 200;
/** What a resolved key may contain: the tag alphabet plus "/", so runs and refs can be part of one. */
export const FLOW_KEY_PATTERN = /^[A-Za-z0-9_.:=/-]+$/;
const FLOW_KEY_RULE = 'a key contains only letters, digits and "_ . : = / -" once its {placeholders} are filled in';

/** A key as written: literal text with `{placeholders}`; checked again once resolved. */
export const FlowKeyTemplateSchema = z
  .string()
  .min(1, 'a key must not be empty')
  .max(FLOW_KEY_MAX)
  .refine((k) => FLOW_KEY_PATTERN.test(k.replace(/\{[^{}]*\}/g, 'x')), FLOW_KEY_RULE);

/** What a template's placeholders are filled from. */
export interface FlowKeySource {
  runId: string;
  name: string;
  agentRunId: string | null;
  tags: readonly string[];
  jobId?: string;
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
}

/** Fills a key's placeholders; a placeholder the run cannot fill is an error naming it. */
export function resolveFlowKey(template: string, src: FlowKeySource): { key: string } | { error: string } {
  let missing: string | null = null;
  const key = template.replace(/\{([^{}]*)\}/g, (whole, name: string) => {
    const value = placeholderValue(name, src);
    if (value === undefined) missing ??= whole;
    return value ?? '';
  });
  if (missing !== null) return { error: `key "${template}": ${explainMissing(missing, src)}` };
  if (key.length === 0 || key.length > FLOW_KEY_MAX || !FLOW_KEY_PATTERN.test(key)) return { error: `key "${template}" becomes "${key}": ${FLOW_KEY_RULE}` };
  return { key };
}

function placeholderValue(name: string, src: FlowKeySource): string | undefined {
  if (name === 'run') return src.runId;
  if (name === 'name') return src.name;
  if (name === 'agentRun') return src.agentRunId ?? undefined;
  if (name === 'job') return src.jobId;
  const dot = name.indexOf('.');
  const field = name.slice(dot + 1);
  if (dot < 0 || field === '') return undefined;
  switch (name.slice(0, dot)) {
    case 'args':
      return /^\d+$/.test(field) ? src.args?.[Number(field)] : undefined;
    case 'env':
      return src.env?.[field];
    case 'tags':
      return tagValue(src.tags, field);
    default:
      return undefined;
  }
}

function tagValue(tags: readonly string[], name: string): string | undefined {
  for (const tag of tags) {
    if (tag.length > name.length && tag.startsWith(name) && (tag[name.length] === '=' || tag[name.length] === ':')) return tag.slice(name.length + 1);
  }
  return undefined;
}

function explainMissing(placeholder: string, src: FlowKeySource): string {
  const name = placeholder.slice(1, -1);
  if (name === 'agentRun') return `${placeholder} needs a run submitted with an agent run id`;
  if (name.startsWith('tags.')) return `${placeholder} needs a tag "${name.slice(5)}=<value>" on the run (its tags: ${src.tags.join(', ') || 'none'})`;
  if (name.startsWith('args.')) return `${placeholder} needs the job to have that argument (it has ${src.args?.length ?? 0})`;
  if (name.startsWith('env.')) return `${placeholder} needs the job's env to set ${name.slice(4)}`;
  if (name === 'job') return `${placeholder} names a job, so it belongs in a job's key`;
  return `unknown placeholder ${placeholder} (known: {run} {name} {agentRun} {job} {args.N} {env.NAME} {tags.NAME})`;
}
