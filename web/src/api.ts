/**
 * The dashboard's one way to the master: JSON over same-origin HTTP with the session cookie, the
 * CSRF header on every non-GET request, typed errors, hooks for fetching and polling, and one
 * shared, reconnecting EventSource for the live cluster events.
 */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { navigate } from './router.tsx';
import type { JobView, RunRecord, SessionInfo, Stats, WorkerView } from './types.ts';

export * from './types.ts';

/** An error answer of the API (`{code, message}` with an HTTP status), or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

// ---- session ----

let session: SessionInfo | null = null;
const sessionListeners = new Set<() => void>();

/** The signed-in session (user and CSRF token), or null before login / after logout. */
export function getSession(): SessionInfo | null {
  return session;
}

export function setSession(next: SessionInfo | null): void {
  session = next;
  for (const l of sessionListeners) l();
}

/** The current session, re-rendering on login and logout. */
export function useSession(): SessionInfo | null {
  return useSyncExternalStore(
    (cb) => {
      sessionListeners.add(cb);
      return () => sessionListeners.delete(cb);
    },
    () => session,
  );
}

/** Paths whose 401 is an answer for the caller, not a reason to leave the page. */
const NO_REDIRECT = new Set(['/api/login', '/api/session']);

function sendToLogin(): void {
  setSession(null);
  closeEvents();
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname !== '/login') navigate(`/login${here && here !== '/' ? `?next=${encodeURIComponent(here)}` : ''}`, { replace: true });
}

// ---- requests ----

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    if (!session && !NO_REDIRECT.has(path)) await loadSession().catch(() => undefined);
    if (session) headers['x-csrf-token'] = session.csrf;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined && { body: JSON.stringify(body) }) });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `cannot reach the master: ${(err as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!res.ok) {
    // `{code, message}`, or the same inside `error` (a standby master's NOT_LEADER).
    const outer = (parsed ?? {}) as { code?: unknown; message?: unknown; error?: { code?: unknown; message?: unknown } };
    const e = typeof outer.error === 'object' && outer.error !== null ? outer.error : outer;
    const code = typeof e.code === 'string' ? e.code : `HTTP_${res.status}`;
    const said = typeof e.message === 'string' ? e.message : text.slice(0, 300) || res.statusText || `HTTP ${res.status}`;
    const message = res.status === 503 ? `master unavailable, retrying (${said})` : said;
    if (res.status === 401 && !NO_REDIRECT.has(path)) sendToLogin();
    throw new ApiError(res.status, code, message);
  }
  return parsed as T;
}

export function apiGet<T>(path: string): Promise<T> {
  return request<T>('GET', path);
}

export function apiPost<T>(path: string, body?: unknown): Promise<T> {
  return request<T>('POST', path, body);
}

export function apiPut<T>(path: string, body: unknown): Promise<T> {
  return request<T>('PUT', path, body);
}

export function apiDelete<T>(path: string): Promise<T> {
  return request<T>('DELETE', path);
}

/** Asks the master who is signed in; null when nobody is (401). */
export async function loadSession(): Promise<SessionInfo | null> {
  try {
    const s = await apiGet<SessionInfo>('/api/session');
    setSession(s);
    return s;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setSession(null);
      return null;
    }
    throw err;
  }
}

export async function login(credentials: { token: string } | { user: string; password: string }): Promise<SessionInfo> {
  const s = await apiPost<SessionInfo>('/api/login', credentials);
  setSession(s);
  return s;
}

export async function logout(): Promise<void> {
  try {
    await apiPost('/api/logout');
  } finally {
    setSession(null);
    closeEvents();
  }
}

/** `/api/runs/a b/jobs/c` with each segment escaped. */
export function apiPath(...segments: (string | number)[]): string {
  return `/api/${segments.map((s) => encodeURIComponent(String(s))).join('/')}`;
}

/** `?a=1&b=x` from the defined, non-empty values; '' when there are none. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/**
 * No master answers for now (503: restarting, or a standby while another takes over; 0: not
 * reachable): what was asked is asked again shortly.
 */
export const isUnavailable = (err: unknown): boolean => err instanceof ApiError && (err.status === 503 || err.status === 0);

/** How soon a read that found no master is made again. */
const UNAVAILABLE_RETRY_MS = 2000;

// ---- hooks ----

export interface ApiState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  /** True until the first answer (or error) for the current path. */
  loading: boolean;
  /** Fetches again; the previous data stays until the answer arrives. */
  reload: () => Promise<void>;
  /** Replaces the data locally (e.g. from a live event). */
  setData: (update: T | ((prev: T | undefined) => T | undefined)) => void;
}

/**
 * GETs `path` (null: nothing) and again whenever `path` or `deps` change. Answers that arrive
 * after a newer request was started are dropped. While no master answers (see isUnavailable) it
 * asks again every 2 s, keeping what it had, so the page recovers by itself.
 */
export function useApi<T>(path: string | null, deps: readonly unknown[] = []): ApiState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const seq = useRef(0);
  const pathRef = useRef(path);
  pathRef.current = path;
  const retry = useRef<number | undefined>(undefined);

  const reload = useCallback(async (): Promise<void> => {
    const p = pathRef.current;
    if (p === null) return;
    const mine = ++seq.current;
    window.clearTimeout(retry.current);
    try {
      const result = await apiGet<T>(p);
      if (mine !== seq.current) return;
      setData(result);
      setError(undefined);
    } catch (err) {
      if (mine !== seq.current) return;
      setError(err instanceof ApiError ? err : new ApiError(0, 'CLIENT', (err as Error).message));
      if (isUnavailable(err)) {
        retry.current = window.setTimeout(() => {
          if (mine === seq.current) void reload();
        }, UNAVAILABLE_RETRY_MS);
      }
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    if (path === null) {
      seq.current++;
      setData(undefined);
      setError(undefined);
      setLoading(false);
      return;
    }
    setLoading(true);
    void reload();
    return () => {
      seq.current++;
      window.clearTimeout(retry.current);
    };
  }, [path, reload, ...deps]);

  return { data, error, loading, reload, setData };
}

/** useApi, fetched again every `intervalMs` while the page is visible. */
export function usePolling<T>(path: string | null, intervalMs: number, deps: readonly unknown[] = []): ApiState<T> {
  const state = useApi<T>(path, deps);
  const { reload } = state;
  useEffect(() => {
    if (path === null) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') void reload();
    }, intervalMs);
    return () => window.clearInterval(timer);
  }, [path, intervalMs, reload]);
  return state;
}

// ---- live events ----

/** The events of `GET /api/events` and their data. */
export interface ClusterEventMap {
  jobs: { runId: string; jobs: JobView[] };
  run: { run: RunRecord };
  workers: { workers: WorkerView[] };
  stats: Stats;
  /** Sent instead of `jobs` when one change touched more than 2000 jobs of a run: read the run again. */
  resync: { runId: string; changed: number };
}
export type ClusterEventName = keyof ClusterEventMap;
export const CLUSTER_EVENTS: readonly ClusterEventName[] = ['jobs', 'run', 'workers', 'stats', 'resync'];

/**
 * A handler of cluster events. The parameters are a discriminated pair, so
 * `(event, data) => { if (event === 'jobs') data.jobs… }` narrows `data` by `event`.
 */
export type ClusterEventHandler = (...args: { [K in ClusterEventName]: [event: K, data: ClusterEventMap[K]] }[ClusterEventName]) => void;

export type EventsStatus = 'idle' | 'connecting' | 'live' | 'reconnecting';

const handlers = new Set<ClusterEventHandler>();
const statusListeners = new Set<() => void>();
let source: EventSource | null = null;
let status: EventsStatus = 'idle';
let retryTimer: number | undefined;
let retryDelay = 1000;

function setStatus(next: EventsStatus): void {
  if (status === next) return;
  status = next;
  for (const l of statusListeners) l();
}

function dispatch(name: ClusterEventName, raw: string): void {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return;
  }
  for (const h of [...handlers]) {
    try {
      (h as (event: ClusterEventName, data: unknown) => void)(name, data);
    } catch (err) {
      console.error(`handler of "${name}" event failed`, err);
    }
  }
}

function openEvents(): void {
  if (source || handlers.size === 0) return;
  window.clearTimeout(retryTimer);
  setStatus(status === 'idle' ? 'connecting' : 'reconnecting');
  const es = new EventSource('/api/events', { withCredentials: true });
  source = es;
  es.onopen = () => {
    retryDelay = 1000;
    setStatus('live');
  };
  for (const name of CLUSTER_EVENTS) es.addEventListener(name, (ev) => dispatch(name, (ev as MessageEvent<string>).data));
  es.onerror = () => {
    if (es.readyState !== EventSource.CLOSED) {
      setStatus('reconnecting');
      return;
    }
    // The browser gave up (an HTTP error such as 401): check the session, then try again later.
    es.close();
    if (source === es) source = null;
    setStatus('reconnecting');
    void loadSession()
      .then((s) => {
        if (s === null) sendToLogin();
      })
      .catch(() => undefined);
    retryTimer = window.setTimeout(openEvents, retryDelay);
    // Kept short: a master restarting, or another taking over, answers again within seconds.
    retryDelay = Math.min(retryDelay * 2, 5_000);
  };
}

function closeEvents(): void {
  window.clearTimeout(retryTimer);
  source?.close();
  source = null;
  setStatus('idle');
}

/**
 * Calls `handler` for each live cluster event (`jobs`, `run`, `workers`, `stats`, `resync`). All callers
 * share one EventSource, opened while at least one is mounted and reopened after failures.
 */
export function useClusterEvents(handler: ClusterEventHandler): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const h: ClusterEventHandler = (...args) => ref.current(...args);
    handlers.add(h);
    openEvents();
    return () => {
      handlers.delete(h);
      // Closed a little later, so that a page change (unmount, then mount) keeps the connection.
      window.setTimeout(() => {
        if (handlers.size === 0) closeEvents();
      }, 2000);
    };
  }, []);
}

/**
 * Calls `fn` when the shared event connection comes back after it was lost: events may have
 * been missed meanwhile, so what a page shows should be read again.
 */
export function useEventsReconnected(fn: () => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  const current = useEventsStatus();
  const previous = useRef(current);
  useEffect(() => {
    if (current === 'live' && previous.current === 'reconnecting') ref.current();
    previous.current = current;
  }, [current]);
}

/** The state of the shared event connection, for a "live" indicator. */
export function useEventsStatus(): EventsStatus {
  return useSyncExternalStore(
    (cb) => {
      statusListeners.add(cb);
      return () => statusListeners.delete(cb);
    },
    () => status,
  );
}

// ---- approvals badge ----

const gateListeners = new Set<() => void>();

/** Tells the pending-approvals badge to count again (call after approving or rejecting). */
export function notifyGatesChanged(): void {
  for (const l of gateListeners) l();
}

export function onGatesChanged(listener: () => void): () => void {
  gateListeners.add(listener);
  return () => gateListeners.delete(listener);
}
