/**
 * Services: every service job the master knows, where it runs (worker, port, pid), since when it
 * is up, its restarts and restart policy and its last error; stop one (it is not restarted), or
 * open its live logs on the run page. Live on `jobs` and `workers` events.
 */
import { apiPath, apiPost, useApi, type JobView, type ServiceView } from '../api.ts';
import { type Column, DataTable } from '../components/DataTable.tsx';
import { RunLink, runUrl } from '../components/links.tsx';
import { Ago, JobStatusBadge, PageHeader } from '../components/ui.tsx';
import { Link } from '../router.tsx';
import { isTerminalStatus } from '../status.ts';
import { Outcome, plural, useLiveReload } from './parts/common.tsx';
import { ConfirmDialog } from './parts/confirm.tsx';
import { useConfirmation } from './parts/confirmation.ts';
import { Loaded, RefreshButton } from './parts/list-parts.tsx';
import './pages.css';

export default function Services() {
  const list = useApi<{ services: ServiceView[] }>('/api/services');
  useLiveReload(['jobs', 'workers'], list.reload);
  const stopping = useConfirmation<ServiceView>(list.reload);

  const rows = list.data?.services ?? [];
  const up = rows.filter((s) => s.upSince !== null).length;
  const columns: Column<ServiceView>[] = [
    {
      id: 'service',
      header: 'Service',
      rowHeader: true,
      sortValue: (s) => s.jobId,
      cell: (s) => (
        <>
          <Link to={runUrl(s.runId, s.jobId)}>
            <code>{s.jobId}</code>
          </Link>
          {s.error ? (
            <p className="pg-cell-error small" title={s.error}>
              {s.error}
            </p>
          ) : null}
        </>
      ),
    },
    { id: 'run', header: 'Run', sortValue: (s) => s.runName, cell: (s) => <RunLink runId={s.runId}>{s.runName}</RunLink> },
    { id: 'status', header: 'Status', sortValue: (s) => s.status, cell: (s) => <JobStatusBadge status={s.status} /> },
    { id: 'worker', header: 'Worker', sortValue: (s) => s.workerId, cell: (s) => (s.workerId ? <code>{s.workerId}</code> : <span className="muted">—</span>) },
    { id: 'port', header: 'Port', className: 'pg-num', sortValue: (s) => s.port, cell: (s) => s.port ?? <span className="muted">—</span> },
    { id: 'pid', header: 'PID', className: 'pg-num', cell: (s) => s.pid ?? <span className="muted">—</span> },
    { id: 'upSince', header: 'Up since', sortValue: (s) => s.upSince, cell: (s) => (s.upSince !== null ? <Ago at={s.upSince} /> : <span className="muted">not up</span>) },
    {
      id: 'restarts',
      header: 'Restarts',
      className: 'pg-num',
      sortValue: (s) => s.restarts,
      title: (s) => `attempt ${s.attempt}; restart policy: ${s.restart}`,
      cell: (s) => (
        <>
          {s.restarts} <span className="muted small">({s.restart})</span>
        </>
      ),
    },
    {
      id: 'actions',
      header: 'Actions',
      cell: (s) => (
        <div className="pg-actions">
          <Link className="btn btn-small" to={runUrl(s.runId, s.jobId)} aria-label={`Logs of ${s.ref}`}>
            Logs
          </Link>
          {!isTerminalStatus(s.status) ? (
            <button
              type="button"
              className="btn btn-small btn-bad-outline"
              onClick={() => stopping.ask(s)}
              aria-label={`Stop ${s.ref}`}
            >
              Stop
            </button>
          ) : null}
        </div>
      ),
    },
  ];

  const stop = async (s: ServiceView): Promise<string> => {
    const { job } = await apiPost<{ job: JobView }>(apiPath('runs', s.runId, 'jobs', s.jobId, 'stop'));
    return `Stopping ${job.ref}: it will not be restarted.`;
  };

  return (
    <div className="page">
      <PageHeader
        title="Services"
        subtitle={list.data && rows.length > 0 ? `${plural(rows.length, 'service')} of active runs, ${up} up. The master keeps them running and restarts them by their policy.` : 'Long-running jobs of active runs, kept up and restarted by their policy.'}
      >
        <RefreshButton onRefresh={list.reload} />
      </PageHeader>
      <Outcome done={stopping.done} onDismiss={() => stopping.setDone(null)} />
      <Loaded state={list}>
        {() => (
          <DataTable
            rows={rows}
            columns={columns}
            rowKey={(s) => s.ref}
            className="pg-table"
            initialSort={{ id: 'service', dir: 'asc' }}
            empty={
              <>
                No services in the active runs. A pipeline job with <code>type: service</code> runs as one, or deploy a script as one with <code>titan deploy server.py 8080</code>.
              </>
            }
          />
        )}
      </Loaded>
      {stopping.pending ? (
        <ConfirmDialog title={`Stop service ${stopping.pending.jobId}?`} confirmLabel="Stop service" danger busy={stopping.busy} error={stopping.error} onConfirm={() => void stopping.confirm(stop)} onCancel={stopping.cancel}>
          <p>
            The service <code>{stopping.pending.ref}</code> of run “{stopping.pending.runName}” is stopped for good: it is not restarted, whatever its restart policy ({stopping.pending.restart}).
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
