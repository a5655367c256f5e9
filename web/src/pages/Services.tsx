/**
 * Services: every service job the master knows, where it runs (worker, port, pid), since when it
 * is up, its restarts and restart policy and its last error; stop one (it is not restarted), or
 * open its live logs on the run page. Live on `jobs` and `workers` events.
 */
import { useState } from 'react';
import { apiPath, apiPost, useApi, type JobView, type ServiceView } from '../api.ts';
import { RunLink, runUrl } from '../components/links.tsx';
import { Ago, Empty, ErrorBox, JobStatusBadge, Loading, PageHeader, errorText } from '../components/ui.tsx';
import { Link } from '../router.tsx';
import { isTerminalStatus } from '../status.ts';
import { Outcome, plural, useLiveReload } from './parts/common.tsx';
import { ConfirmDialog } from './parts/confirm.tsx';
import { SortTh, useSort } from './parts/sort.tsx';
import './pages.css';

export default function Services() {
  const list = useApi<{ services: ServiceView[] }>('/api/services');
  useLiveReload(['jobs', 'workers'], list.reload);
  const [stopping, setStopping] = useState<ServiceView | null>(null);
  const [busy, setBusy] = useState(false);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const rows = list.data?.services ?? [];
  const up = rows.filter((s) => s.upSince !== null).length;
  const sorter = useSort(
    rows,
    {
      service: (s) => s.jobId,
      run: (s) => s.runName,
      status: (s) => s.status,
      worker: (s) => s.workerId,
      port: (s) => s.port,
      upSince: (s) => s.upSince,
      restarts: (s) => s.restarts,
    },
    { key: 'service', dir: 'asc' },
  );

  const stop = async (): Promise<void> => {
    if (!stopping) return;
    setBusy(true);
    setDialogError(null);
    try {
      const { job } = await apiPost<{ job: JobView }>(apiPath('runs', stopping.runId, 'jobs', stopping.jobId, 'stop'));
      setDone(`Stopping ${job.ref}: it will not be restarted.`);
      setStopping(null);
      void list.reload();
    } catch (err) {
      setDialogError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <PageHeader
        title="Services"
        subtitle={list.data && rows.length > 0 ? `${plural(rows.length, 'service')} of active runs, ${up} up. The master keeps them running and restarts them by their policy.` : 'Long-running jobs of active runs, kept up and restarted by their policy.'}
      >
        <button type="button" className="btn" onClick={() => void list.reload()}>
          Refresh
        </button>
      </PageHeader>
      <ErrorBox error={list.error} onRetry={() => void list.reload()} />
      <Outcome done={done} onDismiss={() => setDone(null)} />
      {!list.data ? (
        !list.error && <Loading />
      ) : rows.length === 0 ? (
        <Empty>
          No services in the active runs. A pipeline job with <code>type: service</code> runs as one (or <code>titan deploy</code>).
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table pg-table">
            <thead>
              <tr>
                <SortTh sorter={sorter} sortKey="service">
                  Service
                </SortTh>
                <SortTh sorter={sorter} sortKey="run">
                  Run
                </SortTh>
                <SortTh sorter={sorter} sortKey="status">
                  Status
                </SortTh>
                <SortTh sorter={sorter} sortKey="worker">
                  Worker
                </SortTh>
                <SortTh sorter={sorter} sortKey="port" className="pg-num">
                  Port
                </SortTh>
                <th scope="col" className="pg-num">
                  PID
                </th>
                <SortTh sorter={sorter} sortKey="upSince">
                  Up since
                </SortTh>
                <SortTh sorter={sorter} sortKey="restarts" className="pg-num">
                  Restarts
                </SortTh>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {sorter.rows.map((s) => (
                <tr key={s.ref}>
                  <th scope="row">
                    <Link to={runUrl(s.runId, s.jobId)}>
                      <code>{s.jobId}</code>
                    </Link>
                    {s.error ? (
                      <p className="pg-cell-error small" title={s.error}>
                        {s.error}
                      </p>
                    ) : null}
                  </th>
                  <td>
                    <RunLink runId={s.runId}>{s.runName}</RunLink>
                  </td>
                  <td>
                    <JobStatusBadge status={s.status} />
                  </td>
                  <td>{s.workerId ? <code>{s.workerId}</code> : <span className="muted">—</span>}</td>
                  <td className="pg-num">{s.port ?? <span className="muted">—</span>}</td>
                  <td className="pg-num">{s.pid ?? <span className="muted">—</span>}</td>
                  <td>{s.upSince !== null ? <Ago at={s.upSince} /> : <span className="muted">not up</span>}</td>
                  <td className="pg-num" title={`attempt ${s.attempt}; restart policy: ${s.restart}`}>
                    {s.restarts} <span className="muted small">({s.restart})</span>
                  </td>
                  <td>
                    <div className="pg-actions">
                      <Link className="btn btn-small" to={runUrl(s.runId, s.jobId)} aria-label={`Logs of ${s.ref}`}>
                        Logs
                      </Link>
                      {!isTerminalStatus(s.status) ? (
                        <button
                          type="button"
                          className="btn btn-small btn-bad-outline"
                          onClick={() => {
                            setDialogError(null);
                            setStopping(s);
                          }}
                          aria-label={`Stop ${s.ref}`}
                        >
                          Stop
                        </button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {stopping ? (
        <ConfirmDialog title={`Stop service ${stopping.jobId}?`} confirmLabel="Stop service" danger busy={busy} error={dialogError} onConfirm={() => void stop()} onCancel={() => setStopping(null)}>
          <p>
            The service <code>{stopping.ref}</code> of run “{stopping.runName}” is stopped for good: it is not restarted, whatever its restart policy ({stopping.restart}).
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
