/** The store page's shared definitions: the API's answers, the rules for keys, and pure helpers (crumbs, groups, JSON). */
import { DATA_LIMITS, KV_KEY_CHARS_TEXT, KV_KEY_PATTERN } from '../../../../src/core/data-rules.ts';
import type { KvKeyInfo } from '../../api.ts';
import { keyPath } from '../parts/common.tsx';

export interface KeysAnswer {
  keys: KvKeyInfo[];
  truncated: boolean;
}

export interface KvValue {
  key: string;
  value: string | null;
  version: number;
  expiresAt: number | null;
}

export const MAX_KEY = DATA_LIMITS.maxKeyLength;
export const MAX_TTL_S = DATA_LIMITS.maxTtlMs / 1000;
export const LIMITS = [100, 500, 1000, 5000] as const;

export const kvUrl = (key: string): string => `/api/kv/${keyPath(key)}`;

export function keyProblem(key: string): string | null {
  if (key === '') return 'enter a key';
  if (key.length > MAX_KEY) return `a key has at most ${MAX_KEY} characters`;
  if (!KV_KEY_PATTERN.test(key)) return `a key may contain only ${KV_KEY_CHARS_TEXT}`;
  return null;
}

/** The next segments below `prefix` among `keys` (up to and including the next "/" or ":"), with counts. */
export function groupsOf(keys: KvKeyInfo[], prefix: string): [string, number][] {
  const groups = new Map<string, number>();
  for (const { key } of keys) {
    const rest = key.slice(prefix.length);
    const m = /[/:]/.exec(rest);
    if (!m || m.index === rest.length - 1) continue;
    const g = prefix + rest.slice(0, m.index + 1);
    groups.set(g, (groups.get(g) ?? 0) + 1);
  }
  return [...groups].sort(([a], [b]) => a.localeCompare(b));
}

/** Pretty JSON of a value when it is a JSON object or array; null otherwise. */
export function prettyJson(value: string): string | null {
  const t = value.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return null;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return null;
  }
}
