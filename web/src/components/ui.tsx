/** Small shared pieces: status badges, errors, loading and empty states, times and bars. */
import { type ReactNode, useSyncExternalStore } from 'react';
import { ApiError } from '../api.ts';
import { formatRelative, formatTime } from '../format.ts';
import { Icon, TONE_ICONS } from '../icons.ts';
import { JOB_STATUS_ORDER, jobStatusInfo, runStatusInfo, type StatusInfo } from '../status.ts';

function Badge({ info, compact }: { info: StatusInfo; compact?: boolean | undefined }) {
  return (
    <span className={`badge tone-${info.tone}`} title={info.description}>
      <Icon icon={TONE_ICONS[info.tone]} className="badge-symbol" />
      {compact ? <span className="visually-hidden">{info.label}</span> : info.label}
    </span>
  );
}

/** A job status as colour, icon and text. */
export function JobStatusBadge({ status, compact }: { status: string; compact?: boolean }) {
  return <Badge info={jobStatusInfo(status)} compact={compact} />;
}

export function RunStatusBadge({ status, compact }: { status: string; compact?: boolean }) {
  return <Badge info={runStatusInfo(status)} compact={compact} />;
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.status ? `${error.message} (${error.code})` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: (() => void) | undefined }) {
  if (error === undefined || error === null) return null;
  return (
    <div className="error-box" role="alert">
      <span>{errorText(error)}</span>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** The error of a form's last submission, as the form words it; nothing without one. */
export function FormError({ error }: { error: string | null | undefined }) {
  return error ? (
    <p className="error-box" role="alert">
      {error}
    </p>
  ) : null;
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="muted loading" role="status">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty muted">{children}</p>;
}

/** One shared clock per period, so a table of "5 s ago" cells has one timer, not one each. */
const clocks = new Map<number, { now: number; listeners: Set<() => void>; timer: number | undefined }>();

function clockOf(ms: number) {
  let c = clocks.get(ms);
  if (!c) {
    c = { now: Date.now(), listeners: new Set(), timer: undefined };
    clocks.set(ms, c);
  }
  return c;
}

/** The current time, updated every `ms` (for "5 s ago" texts). */
export function useNow(ms = 1000): number {
  const c = clockOf(ms);
  return useSyncExternalStore(
    (cb) => {
      c.listeners.add(cb);
      if (c.timer === undefined) {
        c.now = Date.now();
        c.timer = window.setInterval(() => {
          c.now = Date.now();
          for (const l of c.listeners) l();
        }, ms);
      }
      return () => {
        c.listeners.delete(cb);
        if (c.listeners.size === 0) {
          window.clearInterval(c.timer);
          c.timer = undefined;
        }
      };
    },
    () => c.now,
  );
}

/** A relative time ("3 min ago") with the exact time as its tooltip and machine-readable value. */
export function Ago({ at, now }: { at: number | null | undefined; now?: number }) {
  const ticking = useNow(now === undefined ? 1000 : 3_600_000);
  if (at === null || at === undefined) return <span className="muted">—</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={formatTime(at)}>
      {formatRelative(at, now ?? ticking)}
    </time>
  );
}

/** A horizontal bar: `value` of `max`, with a text label for people who cannot see the bar. */
export function Meter({ value, max, label, warnAt = 0.9 }: { value: number; max: number; label: string; warnAt?: number }) {
  const ratio = max > 0 ? Math.min(1, value / max) : 0;
  return (
    <div className="meter-wrap">
      <div className="meter" role="meter" aria-valuemin={0} aria-valuemax={max} aria-valuenow={value} aria-label={label}>
        <div className={`meter-fill${ratio >= warnAt ? ' meter-hot' : ''}`} style={{ width: `${ratio * 100}%` }} />
      </div>
      <span className="meter-text">
        {value}/{max}
      </span>
    </div>
  );
}

/** A page's heading row: title, optional subtitle and actions. */
export function PageHeader({ title, children, subtitle }: { title: ReactNode; children?: ReactNode; subtitle?: ReactNode }) {
  return (
    <header className="page-header">
      <div className="page-title">
        <h1>{title}</h1>
        {subtitle && <div className="page-subtitle">{subtitle}</div>}
      </div>
      {children && <div className="page-actions">{children}</div>}
    </header>
  );
}

/** Job counts of a run as a stacked bar, with the numbers as text. */
export function CountsBar({ counts, total }: { counts: Partial<Record<string, number>>; total: number }) {
  const parts = JOB_STATUS_ORDER.filter((s) => (counts[s] ?? 0) > 0).map((s) => ({ status: s, n: counts[s] ?? 0, info: jobStatusInfo(s) }));
  const text = parts.map((p) => `${p.n} ${p.info.label.toLowerCase()}`).join(', ');
  return (
    <div className="counts" title={text}>
      <div className="counts-bar" aria-hidden="true">
        {parts.map((p) => (
          <span key={p.status} className={`counts-seg tone-bg-${p.info.tone}`} style={{ width: `${(p.n / Math.max(1, total)) * 100}%` }} />
        ))}
      </div>
      <span className="counts-text">
        {counts.COMPLETED ?? 0}/{total}
        <span className="visually-hidden"> completed: {text}</span>
      </span>
    </div>
  );
}
