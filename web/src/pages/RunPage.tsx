/**
 * One run: its header and actions, the live job graph (or a job list), and the panel of the job
 * selected with `?job=<id>`.
 */
import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { apiDelete, apiPath, apiPost, type JobView, type RunView, startedByText, useApi, useClusterEvents, useEventsReconnected } from '../api.ts';
import { Ago, CountsBar, Empty, ErrorBox, errorText, JobStatusBadge, Loading, PageHeader, RunStatusBadge } from '../components/ui.tsx';
import { formatDuration, formatTime } from '../format.ts';
import { ACTION_ICONS, Icon } from '../icons.ts';
import { Link, navigate, useRoute, useSearchParam } from '../router.tsx';
import { isTerminalStatus, JOB_STATUS_ORDER, jobStatusInfo, waitingOf } from '../status.ts';
import JobPanel from './run/JobPanel.tsx';
import { useJobChanges } from './run/useJobChanges.ts';
import RunNotifications from './run/Notifications.tsx';

const loadRunGraph = () => import('./run/RunGraph.tsx');
const RunGraph = lazy(loadRunGraph);

type View = 'graph' | 'list';

export default function RunPage() {
  const { params } = useRoute();
  const runId = params.runId ?? '';
  const [selected, setSelected] = useSearchParam('job');
  const [viewParam, setViewParam] = useSearchParam('view');
  const run = useApi<RunView>(apiPath('runs', runId));
  // The graph's code (and its layout worker) loads while the run's jobs are on their way.
  useEffect(() => void loadRunGraph(), []);

  // Live: merge changed jobs (new ones make the graph grow), take run status changes.
  const addJobChanges = useJobChanges((merge) => run.setData((prev) => prev && merge(prev)));
  useClusterEvents((event, data) => {
    if (event === 'jobs' && data.runId === runId) {
      addJobChanges(data.jobs);
    } else if (event === 'run' && data.run.runId === runId) {
      run.setData((prev) => prev && { ...prev, run: data.run });
    } else if (event === 'resync' && data.runId === runId) {
      void run.reload();
    }
  });
  // Back from a lost connection: events may have been missed, so read the run again.
  useEventsReconnected(() => void run.reload());

  const jobs = useMemo(() => run.data?.jobs ?? [], [run.data]);
  const selectedJob = selected ? jobs.find((j) => j.spec.id === selected) : undefined;
  const view: View = viewParam === 'list' ? 'list' : 'graph';
  const select = useCallback((id: string | null) => setSelected(id, { push: id !== null }), [setSelected]);

  if (run.error && !run.data) {
    return (
      <div className="page">
        <PageHeader title={<code>{runId}</code>} />
        <ErrorBox error={run.error} onRetry={() => void run.reload()} />
        <p>
          <Link to="/runs">Back to the runs</Link>
        </p>
      </div>
    );
  }
  if (!run.data) return <Loading />;
  const r = run.data.run;

  return (
    <div className="page run-page">
      <PageHeader
        title={
          <>
            {r.name} <RunStatusBadge status={r.status} />
          </>
        }
        subtitle={<RunFacts view={run.data} />}
      >
        <RunActions runId={runId} status={r.status} onChanged={() => void run.reload()} />
      </PageHeader>
      <ErrorBox error={run.error} onRetry={() => void run.reload()} />
      <div className="run-toolbar">
        <div className="segmented" role="group" aria-label="Show jobs as">
          <button type="button" aria-pressed={view === 'graph'} onClick={() => setViewParam(null)}>
            Graph
          </button>
          <button type="button" aria-pressed={view === 'list'} onClick={() => setViewParam('list')}>
            List
          </button>
        </div>
        <CountsBar counts={countsOf(jobs)} total={jobs.length} />
        {view === 'graph' && <Legend />}
      </div>
      {selected && !selectedJob && <p className="muted">There is no job “{selected}” in this run.</p>}
      <div className={`run-body${selectedJob ? ' with-panel' : ''}`}>
        <div className="run-main">
          {jobs.length === 0 ? (
            <Empty>This run has no jobs.</Empty>
          ) : view === 'graph' ? (
            <Suspense fallback={<Loading label="Drawing the graph…" />}>
              <RunGraph jobs={jobs} selectedId={selectedJob ? selectedJob.spec.id : null} onSelect={select} />
            </Suspense>
          ) : (
            <JobList jobs={jobs} selectedId={selected} onSelect={select} />
          )}
        </div>
        {selectedJob && <JobPanel runId={runId} job={selectedJob} jobs={jobs} onSelect={select} onChanged={() => void run.reload()} />}
      </div>
      <RunNotifications runId={runId} status={r.status} />
    </div>
  );
}

/** How long the job ran (or has been running, or waiting for a decision); null when it is not started or waits to start again. */
function tookText(j: JobView): string | null {
  if (!j.startedAt) return null;
  if (j.status === 'RUNNING' || j.status === 'WAITING_APPROVAL') return `${formatDuration(Date.now() - j.startedAt)}…`;
  if (j.finishedAt && isTerminalStatus(j.status)) return formatDuration(j.finishedAt - j.startedAt);
  return null;
}

function countsOf(jobs: JobView[]): Partial<Record<string, number>> {
  const out: Partial<Record<string, number>> = {};
  for (const j of jobs) out[j.status] = (out[j.status] ?? 0) + 1;
  return out;
}

function RunFacts({ view }: { view: RunView }) {
  const r = view.run;
  return (
    <ul className="facts">
      <li>
        <span className="muted">id</span> <code>{r.runId}</code>
      </li>
      {r.agentRunId && (
        <li>
          <span className="muted">agent run</span>{' '}
          <Link to={`/agent-runs/${encodeURIComponent(r.agentRunId)}`}>
            <code>{r.agentRunId}</code>
          </Link>
        </li>
      )}
      {r.startedBy && (
        <li className="run-started-by">
          <span className="muted">started by</span> {startedByText(r.startedBy)}
        </li>
      )}
      <li title={formatTime(r.createdAt)}>
        <span className="muted">created</span> <Ago at={r.createdAt} />
      </li>
      <li>
        <span className="muted">{r.finishedAt ? 'took' : 'running for'}</span> <RunDuration createdAt={r.createdAt} finishedAt={r.finishedAt} />
      </li>
      {r.tags.length > 0 && (
        <li>
          <span className="muted">tags</span>{' '}
          <span className="chips inline">
            {r.tags.map((t) => (
              <Link key={t} className="chip" to={`/runs?tag=${encodeURIComponent(t)}`}>
                {t}
              </Link>
            ))}
          </span>
        </li>
      )}
    </ul>
  );
}

function RunDuration({ createdAt, finishedAt }: { createdAt: number; finishedAt: number | null }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (finishedAt) return;
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, [finishedAt]);
  return <>{formatDuration((finishedAt ?? now) - createdAt)}</>;
}

function RunActions({ runId, status, onChanged }: { runId: string; status: string; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const cancel = async (): Promise<void> => {
    if (!window.confirm('Cancel this run? Jobs that have not finished are cancelled.')) return;
    setBusy(true);
    setMessage(null);
    try {
      const res = await apiPost<{ cancelled: number }>(`${apiPath('runs', runId)}/cancel`);
      setMessage({ ok: true, text: `Cancelled ${res.cancelled} job${res.cancelled === 1 ? '' : 's'}.` });
      onChanged();
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  const remove = async (): Promise<void> => {
    if (!window.confirm(`Delete run ${runId}? Its jobs, attempts, gate decisions, logs and artifacts are removed for good.`)) return;
    setBusy(true);
    setMessage(null);
    try {
      await apiDelete<{ deleted: boolean }>(apiPath('runs', runId));
      navigate('/runs');
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
      setBusy(false);
    }
  };
  const rerun = async (): Promise<void> => {
    setBusy(true);
    setMessage(null);
    try {
      const res = await apiPost<{ runId: string }>(`${apiPath('runs', runId)}/rerun`);
      navigate(`/runs/${encodeURIComponent(res.runId)}`);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {message && (
        <span className={`small ${message.ok ? 'text-good' : 'text-bad'}`} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </span>
      )}
      {status === 'RUNNING' && (
        <button type="button" className="btn btn-bad-outline" disabled={busy} onClick={() => void cancel()}>
          <Icon icon={ACTION_ICONS.cancel} /> Cancel run
        </button>
      )}
      <button type="button" className="btn" disabled={busy} onClick={() => void rerun()} title="Submit this run's jobs again as a new run">
        <Icon icon={ACTION_ICONS.rerun} /> Re-run
      </button>
      <Link className="btn" to={`/constructor?run=${encodeURIComponent(runId)}`} title="Open this run's jobs in the constructor, to change and deploy them">
        <Icon icon={ACTION_ICONS.edit} /> Edit in constructor
      </Link>
      {status !== 'RUNNING' && (
        <button type="button" className="btn btn-bad-outline" disabled={busy} onClick={() => void remove()} title="Delete this run with its logs and artifacts">
          <Icon icon={ACTION_ICONS.remove} /> Delete run
        </button>
      )}
    </>
  );
}

function Legend() {
  return (
    <details className="legend">
      <summary>Legend</summary>
      <div className="legend-body">
        <ul className="legend-list">
          {JOB_STATUS_ORDER.map((s) => (
            <li key={s}>
              <JobStatusBadge status={s} /> <span className="small muted">{jobStatusInfo(s).description}</span>
            </li>
          ))}
        </ul>
        <ul className="legend-list">
          <li>
            <svg width="44" height="10" aria-hidden="true">
              <line x1="0" y1="5" x2="44" y2="5" className="legend-edge edge-done" />
            </svg>{' '}
            dependency satisfied
          </li>
          <li>
            <svg width="44" height="10" aria-hidden="true">
              <line x1="0" y1="5" x2="44" y2="5" className="legend-edge edge-waiting" />
            </svg>{' '}
            waiting for the dependency (moving dashes)
          </li>
          <li>
            <svg width="44" height="10" aria-hidden="true">
              <line x1="0" y1="5" x2="44" y2="5" className="legend-edge edge-blocked" />
            </svg>{' '}
            blocked: the dependency did not complete
          </li>
        </ul>
      </div>
    </details>
  );
}

/** The jobs as a table (for big runs, and for anyone who prefers it to the graph). */
function JobList({ jobs, selectedId, onSelect }: { jobs: JobView[]; selectedId: string | null; onSelect: (id: string) => void }) {
  const [filter, setFilter] = useState('');
  const [status, setStatus] = useState('');
  const [limit, setLimit] = useState(500);
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return jobs.filter((j) => (status === '' || j.status === status) && (f === '' || j.spec.id.toLowerCase().includes(f)));
  }, [jobs, filter, status]);
  return (
    <div className="job-list">
      <div className="filters">
        <div className="field field-inline">
          <label htmlFor="jobs-filter">Job id</label>
          <input id="jobs-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </div>
        <div className="field field-inline">
          <label htmlFor="jobs-status">Status</label>
          <select id="jobs-status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">any</option>
            {JOB_STATUS_ORDER.map((s) => (
              <option key={s} value={s}>
                {jobStatusInfo(s).label}
              </option>
            ))}
          </select>
        </div>
        <span className="muted small">
          {shown.length} of {jobs.length} jobs
        </span>
      </div>
      <div className="table-wrap">
        <table className="table table-compact">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Job</th>
              <th scope="col">Kind</th>
              <th scope="col">Depends on</th>
              <th scope="col">Worker</th>
              <th scope="col">Attempt</th>
              <th scope="col">Took</th>
            </tr>
          </thead>
          <tbody>
            {shown.slice(0, limit).map((j) => (
              <tr key={j.spec.id} className={j.spec.id === selectedId ? 'row-selected' : undefined}>
                <td>
                  <JobStatusBadge status={j.status} />
                  {waitingOf(j) !== null && <div className="small muted job-list-why">{waitingOf(j)}</div>}
                </td>
                <td>
                  <button type="button" className="link-button" onClick={() => onSelect(j.spec.id)} aria-current={j.spec.id === selectedId ? 'true' : undefined}>
                    <code>{j.spec.id}</code>
                  </button>
                </td>
                <td>{j.spec.kind}</td>
                <td className="small">{j.spec.dependsOn.length === 0 ? <span className="muted">—</span> : j.spec.dependsOn.slice(0, 4).join(', ') + (j.spec.dependsOn.length > 4 ? ` +${j.spec.dependsOn.length - 4}` : '')}</td>
                <td className="small">{j.workerId ?? <span className="muted">—</span>}</td>
                <td>{j.attempt || <span className="muted">—</span>}</td>
                <td>{tookText(j) ?? <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown.length > limit && (
        <button type="button" className="btn" onClick={() => setLimit((l) => l + 500)}>
          Show 500 more
        </button>
      )}
    </div>
  );
}
