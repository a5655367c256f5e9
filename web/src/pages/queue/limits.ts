/**
 * The Queue page's pure side: a cluster limit in words, the limit form's text fields to a
 * ClusterLimit (checked with the master's own schema, so the form refuses what the master would),
 * and the filter and order of the keys.
 */
import { type ClusterLimit, ClusterLimitSchema, type RatePeriod } from '../../../../src/core/flow-spec.ts';
import type { FlowKeyView } from '../../../../src/protocol/flow-methods.ts';

/** "4 at once · 60 per minute (burst 10) · weight 2"; empty parts are left out. */
export function describeLimit(limit: ClusterLimit): string {
  const parts: string[] = [];
  if (limit.concurrency !== undefined) parts.push(`${limit.concurrency} at once`);
  if (limit.rate) parts.push(`${limit.rate.limit} per ${limit.rate.per}${limit.rate.burst !== undefined ? ` (burst ${limit.rate.burst})` : ''}`);
  if (limit.weight !== undefined) parts.push(`weight ${limit.weight}`);
  return parts.length === 0 ? 'no limit' : parts.join(' · ');
}

/** The limit form as typed: every number is text, '' for "not set". */
export interface LimitFields {
  key: string;
  concurrency: string;
  rate: string;
  per: RatePeriod;
  burst: string;
  weight: string;
}

export type LimitField = keyof LimitFields;

/** The form's fields for a key, filled from its limit when it has one. */
export function fieldsOf(key: string, limit: ClusterLimit | null): LimitFields {
  const text = (n: number | undefined): string => (n === undefined ? '' : String(n));
  return {
    key,
    concurrency: text(limit?.concurrency),
    rate: text(limit?.rate?.limit),
    per: limit?.rate?.per ?? 'second',
    burst: text(limit?.rate?.burst),
    weight: text(limit?.weight),
  };
}

export type LimitParse = { ok: true; limit: ClusterLimit } | { ok: false; errors: Partial<Record<LimitField, string>> };

/** A whole number typed in a field; NaN when it is not one (the schema then says what it wants). */
const numberOf = (text: string): number | undefined => (text.trim() === '' ? undefined : /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN);

/** What a number field's issue asks for, in the form's words. */
function numberIssue(issue: { code: string; message: string; minimum?: unknown; maximum?: unknown }): string {
  if (issue.code === 'too_small') return `at least ${String(issue.minimum)}`;
  if (issue.code === 'too_big') return `at most ${String(issue.maximum)}`;
  return issue.code === 'invalid_type' ? 'a whole number' : issue.message;
}

/** The form's fields as a limit, or what is wrong with each field. */
export function parseLimitFields(f: LimitFields): LimitParse {
  const rate = numberOf(f.rate);
  const burst = numberOf(f.burst);
  if (rate === undefined && burst !== undefined) return { ok: false, errors: { rate: 'a burst needs a rate: how many starts per period' } };
  const candidate = {
    key: f.key.trim(),
    concurrency: numberOf(f.concurrency),
    rate: rate === undefined ? undefined : { limit: rate, per: f.per, burst },
    weight: numberOf(f.weight),
  };
  const parsed = ClusterLimitSchema.safeParse(candidate);
  if (!parsed.success) {
    const errors: Partial<Record<LimitField, string>> = {};
    for (const issue of parsed.error.issues) {
      const [top, sub] = issue.path;
      const field: LimitField = top === 'rate' ? (sub === 'burst' ? 'burst' : 'rate') : (top as LimitField);
      errors[field] ??= field === 'key' ? (issue.code === 'too_small' ? 'name the key' : issue.message) : numberIssue(issue);
    }
    return { ok: false, errors };
  }
  const limit = parsed.data;
  if (limit.concurrency === undefined && limit.rate === undefined && limit.weight === undefined) {
    return { ok: false, errors: { concurrency: 'set at least one of: at once, a rate, a weight' } };
  }
  return { ok: true, limit };
}

/** The keys whose name contains `filter` (any case), busiest first: most waiting, then most running, then by name. */
export function shownKeys(keys: readonly FlowKeyView[], filter: string): FlowKeyView[] {
  const f = filter.trim().toLowerCase();
  return keys
    .filter((k) => f === '' || k.key.toLowerCase().includes(f))
    .sort((a, b) => b.waiters - a.waiters || b.holders.length - a.holders.length || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
