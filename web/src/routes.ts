/** The dashboard's routes and a matcher for them: pure, so it is unit-tested. */

export type RouteName =
  | 'login'
  | 'overview'
  | 'runs'
  | 'run'
  | 'approvals'
  | 'agentRuns'
  | 'agentRun'
  | 'services'
  | 'schedules'
  | 'triggers'
  | 'store'
  | 'artifacts'
  | 'workers'
  | 'queue'
  | 'constructor'
  | 'audit'
  | 'access'
  | 'titanDag'
  | 'redirect'
  | 'notFound';

export interface RouteMatch {
  name: RouteName;
  /** Decoded path parameters (`runId`, `id`, `dagId`; `to` of a redirect). */
  params: Record<string, string>;
}

/** Patterns in match order; `:name` matches one non-empty segment. */
export const ROUTES: readonly (readonly [RouteName, string])[] = [
  ['login', '/login'],
  ['overview', '/'],
  ['runs', '/runs'],
  ['run', '/runs/:runId'],
  ['approvals', '/approvals'],
  ['agentRuns', '/agent-runs'],
  ['agentRun', '/agent-runs/:id'],
  ['services', '/services'],
  ['schedules', '/schedules'],
  ['triggers', '/triggers'],
  ['store', '/store'],
  ['artifacts', '/artifacts'],
  ['workers', '/workers'],
  ['queue', '/queue'],
  ['constructor', '/constructor'],
  ['audit', '/audit'],
  ['access', '/access'],
  // Titan's address of a pipeline: resolved to a run by its page, which then replaces the address.
  ['titanDag', '/dags/:dagId'],
];

/**
 * Titan's dashboard addresses (its deployment guide and its own links send people there) and the
 * pages they are here; the app replaces the address with ours. `/dags/new` comes before the
 * `titanDag` pattern, which would take `new` for a pipeline.
 */
export const TITAN_REDIRECTS: readonly (readonly [string, string])[] = [
  ['/dags', '/runs'],
  ['/dags/new', '/constructor'],
  ['/agents', '/agent-runs'],
];

/** Matches a pattern against a path (a trailing slash is ignored); null when it does not match. */
export function matchPattern(pattern: string, pathname: string): Record<string, string> | null {
  const split = (p: string): string[] => p.split('/').filter((s) => s !== '');
  const want = split(pattern);
  const got = split(pathname);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(g);
      } catch {
        return null;
      }
      params[w.slice(1)] = value;
    } else if (w !== g) {
      return null;
    }
  }
  return params;
}

export function matchRoute(pathname: string): RouteMatch {
  for (const [pattern, to] of TITAN_REDIRECTS) if (matchPattern(pattern, pathname)) return { name: 'redirect', params: { to } };
  for (const [name, pattern] of ROUTES) {
    const params = matchPattern(pattern, pathname);
    if (params) return { name, params };
  }
  return { name: 'notFound', params: {} };
}

/** The path of a route with its parameters filled in and escaped. */
export function pathOf(name: Exclude<RouteName, 'notFound' | 'redirect'>, params: Record<string, string> = {}): string {
  const entry = ROUTES.find(([n]) => n === name);
  if (!entry) throw new Error(`no route ${name}`);
  return entry[1].replace(/:([A-Za-z]+)/g, (_, key: string) => {
    const v = params[key];
    if (v === undefined) throw new Error(`route ${name} needs ${key}`);
    return encodeURIComponent(v);
  });
}

/** The path a link is "current" for in the sidebar: /runs/x belongs to /runs. */
export function sectionOf(pathname: string): string {
  const first = pathname.split('/').filter((s) => s !== '')[0];
  return first === undefined ? '/' : `/${first}`;
}

/** A `next` target after login: only a local path, never another origin. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/login')) return '/';
  return next;
}

/** The run names a Titan DAG id may stand for, likeliest first: Titan named the pipeline `<name>` `DAG-<name>`. */
export function titanDagNames(dagId: string): string[] {
  return dagId.startsWith('DAG-') && dagId.length > 4 ? [dagId.slice(4), dagId] : [dagId];
}

/** The job a Titan `?job=` names among a run's jobs: the id as given, else Titan's `DAG-<id>` as `<id>`. */
export function titanJobId(job: string, jobIds: readonly string[]): string {
  if (jobIds.includes(job) || !job.startsWith('DAG-')) return job;
  const bare = job.slice(4);
  return jobIds.includes(bare) ? bare : job;
}
