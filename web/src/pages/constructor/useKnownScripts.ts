/**
 * Every script the cluster knows (`GET /api/script-catalog`: the library, the uploads and past
 * runs' scripts), fetched again after an upload and every 15 s, so that missing scripts are found
 * (and found again) while the user edits.
 */
import { useMemo } from 'react';
import { type ApiError, usePolling } from '../../api.ts';
import type { KnownScript } from './drafts.ts';

const REFRESH_MS = 15_000;

export interface KnownScripts {
  /** Newest first, one entry per name and content. */
  list: KnownScript[];
  /** The names a node's script may have (a version of each deploys); null until the first answer. */
  deployable: ReadonlySet<string> | null;
  /** More scripts than were listed. */
  truncated: boolean;
  error: ApiError | undefined;
  loading: boolean;
}

export function useKnownScripts(version: number): KnownScripts {
  const catalog = usePolling<{ scripts: KnownScript[]; truncated: boolean }>('/api/script-catalog', REFRESH_MS, [version]);
  const { data, error, loading } = catalog;
  return useMemo(
    () => ({
      list: data?.scripts ?? [],
      deployable: data ? new Set(data.scripts.filter((s) => s.current).map((s) => s.name)) : null,
      truncated: data?.truncated ?? false,
      error,
      loading,
    }),
    [data, error, loading],
  );
}
