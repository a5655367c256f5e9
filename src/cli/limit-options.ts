/**
 * `titan limits set KEY [--concurrency N] [--rate N/PERIOD] [--burst N] [--weight N]` as the
 * cluster limit it sends: the flags are read as written and the whole limit is checked by the one
 * schema of a cluster limit (core/flow-spec.ts), its problems named by the flag that caused them.
 */
import { type ClusterLimit, ClusterLimitSchema, RATE_PERIODS } from '../core/flow-spec.js';
import { UsageError } from './connection.js';

export interface LimitFlags {
  concurrency?: string;
  rate?: string;
  burst?: string;
  weight?: string;
}

const PERIODS = Object.keys(RATE_PERIODS).join('|');
const RATE = new RegExp(`^(\\d+)/(${PERIODS})$`);

/** The flag (or argument) each field of a cluster limit comes from. */
const FLAG_OF: Record<string, string> = { key: 'KEY', concurrency: '--concurrency', 'rate.limit': '--rate', 'rate.per': '--rate', 'rate.burst': '--burst', weight: '--weight' };

/** A whole number as written, or NaN (which the schema then refuses by name). */
const whole = (text: string): number => (/^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN);

export function clusterLimitOf(key: string, flags: LimitFlags): ClusterLimit {
  if (flags.burst !== undefined && flags.rate === undefined) throw new UsageError('--burst sizes a rate limit: give --rate N/PERIOD with it');
  if (flags.concurrency === undefined && flags.rate === undefined && flags.weight === undefined) {
    throw new UsageError(`give --concurrency N, --rate N/${PERIODS} or --weight N for ${key} (to remove its limit: titan limits rm ${key})`);
  }
  let rate: { limit: number; per: string; burst?: number } | undefined;
  if (flags.rate !== undefined) {
    const m = RATE.exec(flags.rate.trim());
    if (!m) throw new UsageError(`--rate is N/PERIOD with PERIOD one of ${PERIODS.split('|').join(', ')} (e.g. 60/minute), got "${flags.rate}"`);
    rate = { limit: whole(m[1] as string), per: m[2] as string, ...(flags.burst !== undefined && { burst: whole(flags.burst) }) };
  }
  const parsed = ClusterLimitSchema.safeParse({
    key,
    ...(flags.concurrency !== undefined && { concurrency: whole(flags.concurrency) }),
    ...(rate && { rate }),
    ...(flags.weight !== undefined && { weight: whole(flags.weight) }),
  });
  if (parsed.success) return parsed.data;
  throw new UsageError(
    parsed.error.issues
      .map((issue) => {
        const flag = FLAG_OF[issue.path.join('.')] ?? issue.path.join('.');
        const message = issue.code === 'invalid_type' ? 'must be a whole number' : issue.message;
        return `${flag}: ${message}`;
      })
      .join('\n'),
  );
}

/** A cluster limit in a few words: `4 at once, 60/minute (burst 10), weight 2`. */
export function describeLimit(limit: ClusterLimit | null): string {
  if (limit === null) return '-';
  const parts: string[] = [];
  if (limit.concurrency !== undefined) parts.push(`${limit.concurrency} at once`);
  if (limit.rate) parts.push(`${limit.rate.limit}/${limit.rate.per}${limit.rate.burst !== undefined ? ` (burst ${limit.rate.burst})` : ''}`);
  if (limit.weight !== undefined) parts.push(`weight ${limit.weight}`);
  return parts.join(', ') || '-';
}
