/**
 * Durations as people write them: `500ms`, `30s`, `10m`, `2h`, `1d`, or combined as `1h30m`.
 * One reading for the SDK's builders and pipeline YAML.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const DURATION_RULE = 'write it like 500ms, 30s, 10m, 2h, 1d or 1h30m';

/** Whole milliseconds, or null for text that is not a duration. */
export function parseDurationMs(text: string): number | null {
  const t = text.trim();
  if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(t)) return null;
  let ms = 0;
  for (const [, amount, unit] of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(amount) * (UNIT_MS[unit as string] as number);
  return Math.round(ms);
}
