/**
 * A small client-side router on the history API: `navigate`, `useLocation`, `useRoute`,
 * `useSearchParam` and `<Link>`.
 */
import { type AnchorHTMLAttributes, type MouseEvent, type ReactNode, useSyncExternalStore } from 'react';
import { matchRoute, type RouteMatch } from './routes.ts';

const listeners = new Set<() => void>();

function notify(): void {
  for (const l of listeners) l();
}

window.addEventListener('popstate', notify);

/** Goes to a local URL (path, query and hash); `replace` does not add a history entry. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const current = window.location.pathname + window.location.search + window.location.hash;
  if (to === current) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  const pathChanged = new URL(to, window.location.origin).pathname !== new URL(current, window.location.origin).pathname;
  notify();
  if (pathChanged && !options.replace) window.scrollTo(0, 0);
}

function subscribe(cb: () => void): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

const href = (): string => window.location.pathname + window.location.search;

/** The current path and query, re-rendering on navigation. */
export function useLocation(): { pathname: string; search: string } {
  const h = useSyncExternalStore(subscribe, href);
  const q = h.indexOf('?');
  return q < 0 ? { pathname: h, search: '' } : { pathname: h.slice(0, q), search: h.slice(q) };
}

/** The matched route and its parameters (`useRoute().params.runId`, `.id`). */
export function useRoute(): RouteMatch & { pathname: string; query: URLSearchParams } {
  const { pathname, search } = useLocation();
  return { ...matchRoute(pathname), pathname, query: new URLSearchParams(search) };
}

/** One query parameter and a setter that replaces the history entry (null removes it). */
export function useSearchParam(name: string): [string | null, (value: string | null, options?: { push?: boolean }) => void] {
  const { search } = useLocation();
  const value = new URLSearchParams(search).get(name);
  const set = (next: string | null, options: { push?: boolean } = {}): void => {
    const q = new URLSearchParams(window.location.search);
    if (next === null || next === '') q.delete(name);
    else q.set(name, next);
    const s = q.toString();
    navigate(window.location.pathname + (s ? `?${s}` : ''), { replace: !options.push });
  };
  return [value, set];
}

export interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> {
  to: string;
  replace?: boolean;
  children?: ReactNode;
}

/** An `<a>` that navigates in the app on a plain click and behaves as a link otherwise. */
export function Link({ to, replace, onClick, children, ...rest }: LinkProps) {
  const handle = (e: MouseEvent<HTMLAnchorElement>): void => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || rest.target === '_blank') return;
    e.preventDefault();
    navigate(to, replace ? { replace } : {});
  };
  return (
    <a href={to} onClick={handle} {...rest}>
      {children}
    </a>
  );
}
