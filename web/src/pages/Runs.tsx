/** Runs: a searchable, filterable table kept current by the live `run` and `jobs` events. */
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { query, RUN_STATUS_LIST, type RunSummary, useApi, useClusterEvents, useEventsReconnected } from '../api.ts';
import { type Column, DataTable } from '../components/DataTable.tsx';
import { runUrl } from '../components/links.tsx';
import { Ago, CountsBar, ErrorBox, Loading, PageHeader, RunStatusBadge } from '../components/ui.tsx';
import { formatDuration, formatTime } from '../format.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { runStatusInfo } from '../status.ts';
import { LimitSelect } from './parts/list-parts.tsx';

const LIMITS = [50, 200, 1000];

/** Created within: the choices of the time filter, in milliseconds. */
const SINCE: Record<string, { label: string; ms: number }> = {
  '1h': { label: 'last hour', ms: 3_600_000 },
  '24h': { label: 'last 24 hours', ms: 86_400_000 },
  '7d': { label: 'last 7 days', ms: 7 * 86_400_000 },
};

interface Filters {
  q: string;
  status: string;
  tag: string;
  agent: string;
  since: string;
  limit: number;
}

function readFilters(search: string): Filters {
  const p = new URLSearchParams(search);
  const limit = Number(p.get('limit'));
  const since = p.get('since') ?? '';
  return { q: p.get('q') ?? '', status: p.get('status') ?? '', tag: p.get('tag') ?? '', agent: p.get('agent') ?? '', since: since in SINCE ? since : '', limit: LIMITS.includes(limit) ? limit : 50 };
}

function writeFilters(f: Filters): void {
  navigate(`/runs${query({ q: f.q.trim(), status: f.status, tag: f.tag.trim(), agent: f.agent.trim(), since: f.since, limit: f.limit === 50 ? undefined : f.limit })}`, { replace: true });
}

export default function Runs() {
  const { search } = useLocation();
  const filters = readFilters(search);
  const [text, setText] = useState(filters.q);
  const [agentText, setAgentText] = useState(filters.agent);
  const [tagText, setTagText] = useState(filters.tag);

  // Typing updates the address (and so the request) after a short pause.
  useEffect(() => {
    if (text === filters.q && agentText === filters.agent && tagText === filters.tag) return;
    const t = window.setTimeout(() => writeFilters({ ...readFilters(window.location.search), q: text, agent: agentText, tag: tagText }), 350);
    return () => window.clearTimeout(t);
  }, [text, agentText, tagText, filters.q, filters.agent, filters.tag]);
  // The address changed some other way (back button, a tag clicked): the fields follow it.
  useEffect(() => setText(filters.q), [filters.q]);
  useEffect(() => setAgentText(filters.agent), [filters.agent]);
  useEffect(() => setTagText(filters.tag), [filters.tag]);

  const path = `/api/runs${query({ limit: filters.limit, status: filters.status, tag: filters.tag, q: filters.q })}`;
  const runs = useApi<{ runs: RunSummary[] }>(path);

  // Live: a known run's status changes in place; anything else (a new run, job counts) reloads, at most every 2 s.
  const reloadTimer = useRef<number | undefined>(undefined);
  const scheduleReload = (): void => {
    if (reloadTimer.current !== undefined) return;
    reloadTimer.current = window.setTimeout(() => {
      reloadTimer.current = undefined;
      void runs.reload();
    }, 2000);
  };
  useEffect(() => () => window.clearTimeout(reloadTimer.current), []);
  useClusterEvents((event, data) => {
    if (event === 'run') {
      const known = runs.data?.runs.some((r) => r.runId === data.run.runId);
      if (known) runs.setData((prev) => prev && { runs: prev.runs.map((r) => (r.runId === data.run.runId ? { ...r, ...data.run } : r)) });
      scheduleReload();
    } else if (event === 'jobs' || event === 'resync') {
      if (runs.data?.runs.some((r) => r.runId === data.runId)) scheduleReload();
    }
  });
  useEventsReconnected(() => void runs.reload());

  const shown = useMemo(() => {
    const list = runs.data?.runs ?? [];
    const agent = filters.agent.trim().toLowerCase();
    const span = SINCE[filters.since];
    const after = span ? Date.now() - span.ms : 0;
    return list.filter((r) => (agent === '' || (r.agentRunId ?? '').toLowerCase().includes(agent)) && r.createdAt >= after);
  }, [runs.data, filters.agent, filters.since]);

  const set = (patch: Partial<Filters>): void => writeFilters({ ...readFilters(window.location.search), ...patch });
  const filtered = filters.q !== '' || filters.status !== '' || filters.tag !== '' || filters.agent !== '' || filters.since !== '';

  return (
    <div className="page">
      <PageHeader title="Runs" subtitle={runs.data ? `${shown.length} run${shown.length === 1 ? '' : 's'}${shown.length >= filters.limit ? ` (the latest ${filters.limit})` : ''}` : undefined} />
      <form className="filters" role="search" aria-label="Filter runs" onSubmit={(e: FormEvent) => e.preventDefault()}>
        <div className="field field-inline">
          <label htmlFor="runs-q">Search</label>
          <input id="runs-q" type="search" placeholder="name or run id" value={text} onChange={(e) => setText(e.target.value)} />
        </div>
        <div className="field field-inline">
          <label htmlFor="runs-status">Status</label>
          <select id="runs-status" value={filters.status} onChange={(e) => set({ status: e.target.value })}>
            <option value="">any</option>
            {RUN_STATUS_LIST.map((s) => (
              <option key={s} value={s}>
                {runStatusInfo(s).label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-inline">
          <label htmlFor="runs-tag">Tag</label>
          <input id="runs-tag" type="text" placeholder="e.g. env=prod" value={tagText} onChange={(e) => setTagText(e.target.value)} spellCheck={false} />
        </div>
        <div className="field field-inline">
          <label htmlFor="runs-agent">Agent run</label>
          <input id="runs-agent" type="text" placeholder="agent run id" value={agentText} onChange={(e) => setAgentText(e.target.value)} spellCheck={false} />
        </div>
        <div className="field field-inline">
          <label htmlFor="runs-since">Created</label>
          <select id="runs-since" value={filters.since} onChange={(e) => set({ since: e.target.value })}>
            <option value="">any time</option>
            {Object.entries(SINCE).map(([key, { label }]) => (
              <option key={key} value={key}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <LimitSelect id="runs-limit" label="Show" value={filters.limit} limits={LIMITS} option={(n) => `latest ${n}`} onChange={(limit) => set({ limit })} />
        {filtered && (
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => {
              setText('');
              setAgentText('');
              setTagText('');
              writeFilters({ q: '', status: '', tag: '', agent: '', since: '', limit: filters.limit });
            }}
          >
            Clear filters
          </button>
        )}
      </form>
      <ErrorBox error={runs.error} onRetry={() => void runs.reload()} />
      {runs.loading && !runs.data ? (
        <Loading />
      ) : runs.error && shown.length === 0 ? null : (
        <DataTable
          rows={shown}
          columns={runColumns((tag) => set({ tag }))}
          rowKey={(r) => r.runId}
          className="runs-table"
          caption="Runs, newest first"
          rowLink={(r) => runUrl(r.runId)}
          empty={
            filtered ? (
              'No run matches these filters.'
            ) : (
              <>
                No runs yet. Run a script with <code>titan run hello.py</code> or a pipeline with <code>titan submit pipeline.yaml</code>.
              </>
            )
          }
        />
      )}
    </div>
  );
}

/** The master's order, newest first. */
function runColumns(onTag: (tag: string) => void): Column<RunSummary>[] {
  return [
    { id: 'status', header: 'Status', cell: (r) => <RunStatusBadge status={r.status} /> },
    { id: 'name', header: 'Name', cellClassName: 'cell-name', cell: (r) => <Link to={runUrl(r.runId)}>{r.name}</Link> },
    { id: 'runId', header: 'Run id', cell: (r) => <code className="small">{r.runId}</code> },
    {
      id: 'agentRun',
      header: 'Agent run',
      cell: (r) =>
        r.agentRunId ? (
          <Link to={`/agent-runs/${encodeURIComponent(r.agentRunId)}`}>
            <code className="small">{r.agentRunId}</code>
          </Link>
        ) : (
          <span className="muted">—</span>
        ),
    },
    {
      id: 'tags',
      header: 'Tags',
      cell: (r) => (
        <ul className="chips">
          {r.tags.map((t) => (
            <li key={t}>
              <button type="button" className="chip chip-button" onClick={() => onTag(t)} title={`Show runs tagged ${t}`}>
                {t}
              </button>
            </li>
          ))}
        </ul>
      ),
    },
    { id: 'jobs', header: 'Jobs', cellClassName: 'cell-progress', cell: (r) => <CountsBar counts={r.counts} total={r.total} /> },
    { id: 'createdAt', header: 'Created', cell: (r) => <Ago at={r.createdAt} /> },
    {
      id: 'duration',
      header: 'Duration',
      title: (r) => (r.finishedAt ? `finished ${formatTime(r.finishedAt)}` : 'still running'),
      cell: (r) => formatDuration((r.finishedAt ?? Date.now()) - r.createdAt),
    },
  ];
}
