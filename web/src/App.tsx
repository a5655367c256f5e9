/** The app: session check, login, and the shell (skip link, sidebar, top bar, routed page). */
import { Component, type ComponentType, type ErrorInfo, lazy, type ReactNode, Suspense, useEffect, useRef, useState } from 'react';
import { apiGet, ApiError, type GatesList, loadSession, logout, onGatesChanged, useClusterEvents, useEventsStatus, useSession } from './api.ts';
import { ErrorBox, Loading } from './components/ui.tsx';
import { ACTION_ICONS, Icon, NAV_ICONS } from './icons.ts';
import { NavDrawer, useNavDrawer } from './nav-drawer.tsx';
import Login from './pages/Login.tsx';
import { Link, navigate, useRoute } from './router.tsx';
import { type RouteName, sectionOf } from './routes.ts';
import { useTheme } from './theme.ts';

const Overview = lazy(() => import('./pages/Overview.tsx'));
const Runs = lazy(() => import('./pages/Runs.tsx'));
const RunPage = lazy(() => import('./pages/RunPage.tsx'));
const Approvals = lazy(() => import('./pages/Approvals.tsx'));
const AgentRuns = lazy(() => import('./pages/AgentRuns.tsx'));
const Services = lazy(() => import('./pages/Services.tsx'));
const Schedules = lazy(() => import('./pages/Schedules.tsx'));
const Triggers = lazy(() => import('./pages/Triggers.tsx'));
const Store = lazy(() => import('./pages/store/Store.tsx'));
const Artifacts = lazy(() => import('./pages/Artifacts.tsx'));
const Workers = lazy(() => import('./pages/Workers.tsx'));
const Queue = lazy(() => import('./pages/queue/Queue.tsx'));
const Constructor = lazy(() => import('./pages/constructor/Constructor.tsx'));
const Audit = lazy(() => import('./pages/Audit.tsx'));
const Access = lazy(() => import('./pages/access/Access.tsx'));
const TitanDag = lazy(() => import('./pages/TitanDag.tsx'));

const PAGES: Record<Exclude<RouteName, 'login' | 'notFound' | 'redirect'>, { component: ComponentType; title: string }> = {
  overview: { component: Overview, title: 'Overview' },
  runs: { component: Runs, title: 'Runs' },
  run: { component: RunPage, title: 'Run' },
  approvals: { component: Approvals, title: 'Approvals' },
  agentRuns: { component: AgentRuns, title: 'Agent runs' },
  agentRun: { component: AgentRuns, title: 'Agent run' },
  services: { component: Services, title: 'Services' },
  schedules: { component: Schedules, title: 'Schedules' },
  triggers: { component: Triggers, title: 'Triggers' },
  store: { component: Store, title: 'Store' },
  artifacts: { component: Artifacts, title: 'Artifacts' },
  workers: { component: Workers, title: 'Workers' },
  queue: { component: Queue, title: 'Queue' },
  constructor: { component: Constructor, title: 'Constructor' },
  audit: { component: Audit, title: 'Audit' },
  access: { component: Access, title: 'Access' },
  titanDag: { component: TitanDag, title: 'Run' },
};

/** The main navigation, in order; each entry's icon is NAV_ICONS' (icons.ts). */
const NAV: { to: string; label: string; admin?: boolean }[] = [
  { to: '/', label: 'Overview' },
  { to: '/runs', label: 'Runs' },
  { to: '/constructor', label: 'Constructor' },
  { to: '/approvals', label: 'Approvals' },
  { to: '/agent-runs', label: 'Agent runs' },
  { to: '/services', label: 'Services' },
  { to: '/schedules', label: 'Schedules' },
  { to: '/triggers', label: 'Triggers' },
  { to: '/store', label: 'Store' },
  { to: '/artifacts', label: 'Artifacts' },
  { to: '/workers', label: 'Workers' },
  { to: '/queue', label: 'Queue' },
  { to: '/audit', label: 'Audit', admin: true },
  { to: '/access', label: 'Access', admin: true },
];

export default function App() {
  const session = useSession();
  const route = useRoute();
  const [checked, setChecked] = useState(false);
  const [bootError, setBootError] = useState<unknown>(undefined);

  const check = (): void => {
    setBootError(undefined);
    loadSession()
      .then(() => setChecked(true))
      .catch((err: unknown) => setBootError(err));
  };
  useEffect(check, []);

  // Titan's addresses: ours replaces them, the query (`?job=`) kept.
  const redirectTo = route.name === 'redirect' ? route.params.to : undefined;
  const search = route.query.toString();
  useEffect(() => {
    if (redirectTo !== undefined) navigate(`${redirectTo}${search ? `?${search}` : ''}`, { replace: true });
  }, [redirectTo, search]);

  // Signed out (or never signed in): every page but /login goes there, remembering where it was.
  useEffect(() => {
    if (!checked || route.name === 'redirect') return;
    if (!session && route.name !== 'login') {
      const here = route.pathname + (route.query.toString() ? `?${route.query.toString()}` : '');
      navigate(`/login${here !== '/' ? `?next=${encodeURIComponent(here)}` : ''}`, { replace: true });
    }
  }, [checked, session, route.name, route.pathname, route.query]);

  if (bootError !== undefined) {
    return (
      <main className="boot" id="main">
        <h1>Titan</h1>
        <ErrorBox error={bootError} onRetry={check} />
      </main>
    );
  }
  if (!checked || redirectTo !== undefined) return <Loading label="Connecting to the master…" />;
  if (route.name === 'login' || !session) return <Login />;
  return <Shell user={session.user} permissions={session.permissions ?? []} />;
}

function Shell({ user, permissions }: { user: string; permissions: readonly string[] }) {
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);
  const page = route.name === 'login' || route.name === 'notFound' || route.name === 'redirect' ? null : PAGES[route.name];

  useEffect(() => {
    document.title = `${page?.title ?? 'Not found'} · Titan`;
  }, [page]);

  // After a page change, focus moves to the page so keyboard and screen reader users start there.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.focus({ preventScroll: true });
  }, [route.pathname]);

  const section = sectionOf(route.pathname);
  const PageComponent = page?.component;
  const drawer = useNavDrawer(route.pathname);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <div className="shell">
        <NavDrawer drawer={drawer}>
          <Link to="/" className="brand" aria-label="Titan overview">
            <span className="brand-mark" aria-hidden="true">
              T
            </span>
            <span className="brand-name">Titan</span>
          </Link>
          <nav aria-label="Main">
            <ul className="nav-list">
              {NAV.filter((item) => !item.admin || permissions.includes('admin')).map((item) => (
                <li key={item.to}>
                  <Link to={item.to} className={`nav-link${section === item.to ? ' active' : ''}`} aria-current={section === item.to ? 'page' : undefined}>
                    <Icon icon={NAV_ICONS[item.to] ?? ACTION_ICONS.menu} className="nav-icon" />
                    <span className="nav-label">{item.label}</span>
                    {item.to === '/approvals' && <PendingBadge />}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        </NavDrawer>
        <div className="content">
          <TopBar user={user} menu={drawer.button} />
          <main id="main" ref={mainRef} tabIndex={-1} className="main">
            <PageBoundary key={route.pathname}>
              <Suspense fallback={<Loading />}>{PageComponent ? <PageComponent /> : <NotFound />}</Suspense>
            </PageBoundary>
          </main>
        </div>
      </div>
    </>
  );
}

function TopBar({ user, menu }: { user: string; menu: ReactNode }) {
  const [theme, setTheme] = useTheme();
  const status = useEventsStatus();
  const next = theme === 'dark' ? 'light' : 'dark';
  const liveText = status === 'live' ? 'Live' : status === 'idle' ? 'Offline' : status === 'reconnecting' ? 'Master unavailable, retrying…' : 'Connecting…';
  return (
    <header className="topbar">
      {menu}
      <span className={`live live-${status}`} role="status" title="Live updates from the master">
        <span className="live-dot" aria-hidden="true" />
        {liveText}
      </span>
      <span className="topbar-spacer" />
      <span className="user" title="Signed in as">
        <span className="visually-hidden">Signed in as </span>
        {user}
      </span>
      <button type="button" className="btn btn-ghost" onClick={() => setTheme(next)} aria-label={`Switch to ${next} theme`} title={`Switch to ${next} theme`}>
        <Icon icon={theme === 'dark' ? ACTION_ICONS.lightTheme : ACTION_ICONS.darkTheme} />
        <span className="btn-label"> {next === 'dark' ? 'Dark' : 'Light'}</span>
      </button>
      <button
        type="button"
        className="btn btn-ghost"
        onClick={() => {
          void logout().finally(() => navigate('/login', { replace: true }));
        }}
      >
        Sign out
      </button>
    </header>
  );
}

/** The count of gates waiting for a decision: on start, on `jobs` events (at most every 2 s), every 10 s, and when told. */
function PendingBadge() {
  const [count, setCount] = useState<number | null>(null);
  const last = useRef(0);
  const timer = useRef<number | undefined>(undefined);

  const refresh = useRef(() => {
    last.current = Date.now();
    apiGet<GatesList>('/api/gates')
      .then((g) => setCount(g.pending.length))
      .catch((err: unknown) => {
        if (!(err instanceof ApiError && err.status === 401)) setCount(null);
      });
  });

  const soon = (): void => {
    if (timer.current !== undefined) return;
    const wait = Math.max(0, 2000 - (Date.now() - last.current));
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      refresh.current();
    }, wait);
  };

  useEffect(() => {
    refresh.current();
    const every = window.setInterval(() => refresh.current(), 10_000);
    const off = onGatesChanged(() => refresh.current());
    return () => {
      window.clearInterval(every);
      window.clearTimeout(timer.current);
      off();
    };
  }, []);

  useClusterEvents((...[event]) => {
    if (event === 'jobs') soon();
  });

  if (!count) return null;
  return (
    <span className="nav-badge" aria-label={`${count} pending`}>
      {count}
    </span>
  );
}

function NotFound() {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <Link to="/">Go to the overview</Link>.
      </p>
    </div>
  );
}

/** Keeps a failing page from blanking the whole app. */
class PageBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: undefined };

  static getDerivedStateFromError(error: unknown): { error: unknown } {
    return { error };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error('page failed', error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error !== undefined) {
      return (
        <div className="page">
          <h1>Something went wrong</h1>
          <ErrorBox error={this.state.error} onRetry={() => this.setState({ error: undefined })} />
        </div>
      );
    }
    return this.props.children;
  }
}
