/**
 * Small pieces these pages share on top of the core's components/ui.tsx: badges for states that
 * are not job or run statuses, a live-reload hook over the cluster's events, the outcome line of
 * an action, and URL helpers for keys that contain "/".
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { useClusterEvents, type ClusterEventHandler, type ClusterEventName } from '../../api.ts';
import { Icon, type LucideIcon } from '../../icons.ts';
import type { Tone } from '../../status.ts';

/** A state that is not a job or run status (worker, schedule, decision): icon, word, colour. */
export function StateBadge({ tone, icon, children, title }: { tone: Tone; icon: LucideIcon; children: ReactNode; title?: string }) {
  return (
    <span className={`badge tone-${tone}`} title={title}>
      <Icon icon={icon} className="badge-symbol" />
      {children}
    </span>
  );
}

/** A labelled list of short words (a worker's capabilities). */
export function Chips({ label, items }: { label: string; items: readonly string[] }) {
  return (
    <ul className="chips" aria-label={label}>
      {items.map((c) => (
        <li key={c} className="chip">
          {c}
        </li>
      ))}
    </ul>
  );
}

/** Which live events a page reloads on: event names, or a test of each event and its data. */
export type EventFilter = readonly ClusterEventName[] | ((...event: Parameters<ClusterEventHandler>) => boolean);

/**
 * Calls `reload` after the live cluster events `filter` accepts, at most once per `minGapMs`
 * (events come in bursts: one `jobs` event per run change).
 */
export function useLiveReload(filter: EventFilter, reload: () => unknown, minGapMs = 750): void {
  const reloadRef = useRef(reload);
  const filterRef = useRef(filter);
  useEffect(() => {
    reloadRef.current = reload;
    filterRef.current = filter;
  }, [reload, filter]);
  const timer = useRef<number | undefined>(undefined);
  const last = useRef(0);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  useClusterEvents((...event) => {
    const f = filterRef.current;
    const wanted = typeof f === 'function' ? f(...event) : f.includes(event[0]);
    if (!wanted || timer.current !== undefined) return;
    const wait = Math.max(0, last.current + minGapMs - Date.now());
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      last.current = Date.now();
      void reloadRef.current();
    }, wait);
  });
}

/** The outcome of the last action, announced to screen readers; nothing when there is none. */
export function Outcome({ error, done, onDismiss }: { error?: string | null; done?: ReactNode; onDismiss?: () => void }) {
  return (
    <div className="pg-outcome" aria-live="polite">
      {error ? (
        <div className="error-box" role="alert">
          <span>{error}</span>
          {onDismiss ? (
            <button type="button" className="btn btn-small" onClick={onDismiss}>
              Dismiss
            </button>
          ) : null}
        </div>
      ) : done ? (
        <div className="pg-done">
          <span>{done}</span>
          {onDismiss ? (
            <button type="button" className="btn btn-small btn-ghost" onClick={onDismiss}>
              Dismiss
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

/**
 * A key whose "/" separate path segments (kv and artifact keys) as a URL path: each segment is
 * escaped and the "/" stay, except that "." and ".." segments (which a URL would resolve away)
 * make the whole key one escaped segment.
 */
export function keyPath(key: string): string {
  const segments = key.split('/');
  if (segments.some((s) => s === '.' || s === '..')) return encodeURIComponent(key);
  return segments.map(encodeURIComponent).join('/');
}

/** Pluralises a count: `plural(3, 'run')` → "3 runs". */
export const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;
