/**
 * Schedules: each pipeline the master submits at the fire times of a cron expression, with its
 * timezone and policies, the next fire time, the last run and the master's latest decision (e.g.
 * "skipped: the last run is still active"); pause, resume, run now, delete (confirmed).
 * Refreshed on `run` events (a fire submits a run) and every 30 s.
 */
import { useState, type ReactNode } from 'react';
import { apiDelete, apiPath, apiPost, usePolling, type ScheduleView } from '../api.ts';
import { type Column, DataTable } from '../components/DataTable.tsx';
import { RunLink } from '../components/links.tsx';
import { Ago, PageHeader, errorText } from '../components/ui.tsx';
import { formatTime } from '../format.ts';
import { STATE_ICONS } from '../icons.ts';
import { Outcome, StateBadge, plural, useLiveReload } from './parts/common.tsx';
import { ConfirmDialog } from './parts/confirm.tsx';
import { Loaded, RefreshButton } from './parts/list-parts.tsx';
import './pages.css';

type Action = 'pause' | 'resume' | 'run-now';

export default function Schedules() {
  const list = usePolling<{ schedules: ScheduleView[] }>('/api/schedules', 30_000);
  useLiveReload(['run'], list.reload);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<ReactNode>(null);
  const [deleting, setDeleting] = useState<ScheduleView | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  const rows = list.data?.schedules ?? [];
  const columns: Column<ScheduleView>[] = [
    {
      id: 'name',
      header: 'Schedule',
      rowHeader: true,
      sortValue: (s) => s.name,
      cell: (s) => (
        <>
          <code className="pg-nowrap">{s.name}</code>
          <div className="muted small">
            {s.run.name !== s.name ? `${s.run.name} · ` : ''}
            {plural(s.run.jobs.length, 'job')}
          </div>
        </>
      ),
    },
    {
      id: 'when',
      header: 'When',
      cell: (s) => (
        <>
          <code>{s.spec.cron}</code>
          <div className="muted small">
            {s.spec.timezone} · overlap: {s.spec.overlap} · missed: {s.spec.missed}
          </div>
        </>
      ),
    },
    {
      id: 'state',
      header: 'State',
      sortValue: (s) => s.paused,
      cell: (s) => (
        <>
          {s.paused ? (
            <StateBadge tone="pending" icon={STATE_ICONS.schedulePaused} title="no fire time submits a run until it is resumed">
              Paused
            </StateBadge>
          ) : (
            <StateBadge tone="running" icon={STATE_ICONS.scheduleActive}>
              Active
            </StateBadge>
          )}
        </>
      ),
    },
    { id: 'nextAt', header: 'Next run', sortValue: (s) => s.nextAt, cell: (s) => (s.nextAt !== null ? <Ago at={s.nextAt} /> : <span className="muted">{s.paused ? 'paused' : 'none'}</span>) },
    {
      id: 'lastAt',
      header: 'Last run',
      sortValue: (s) => s.lastAt,
      cell: (s) => (
        <>
          {s.lastAt !== null ? (
            <>
              <Ago at={s.lastAt} />
              {s.lastRunId ? (
                <div className="small">
                  <RunLink runId={s.lastRunId} />
                </div>
              ) : null}
            </>
          ) : (
            <span className="muted">never</span>
          )}
        </>
      ),
    },
    {
      id: 'decision',
      header: 'Last decision',
      cellClassName: 'pg-wrap',
      sortValue: (s) => s.lastDecisionAt,
      cell: (s) => (
        <>
          {s.lastDecision ? (
            <>
              <span>{s.lastDecision}</span>
              {s.lastDecisionAt !== null ? (
                <div className="muted small" title={formatTime(s.lastDecisionAt)}>
                  <Ago at={s.lastDecisionAt} />
                </div>
              ) : null}
            </>
          ) : (
            <span className="muted">—</span>
          )}
        </>
      ),
    },
    {
      id: 'actions',
      header: 'Actions',
      cell: (s) => (
        <div className="pg-actions">
          <button type="button" className="btn btn-small" disabled={busy !== null} onClick={() => void act(s, 'run-now')} aria-label={`Run ${s.name} now`}>
            {busy === `${s.name}:run-now` ? 'Submitting…' : 'Run now'}
          </button>
          {s.paused ? (
            <button type="button" className="btn btn-small" disabled={busy !== null} onClick={() => void act(s, 'resume')} aria-label={`Resume ${s.name}`}>
              {busy === `${s.name}:resume` ? 'Resuming…' : 'Resume'}
            </button>
          ) : (
            <button type="button" className="btn btn-small" disabled={busy !== null} onClick={() => void act(s, 'pause')} aria-label={`Pause ${s.name}`}>
              {busy === `${s.name}:pause` ? 'Pausing…' : 'Pause'}
            </button>
          )}
          <button
            type="button"
            className="btn btn-small btn-bad-outline"
            disabled={busy !== null}
            onClick={() => {
              setDeleteError(null);
              setDeleting(s);
            }}
            aria-label={`Delete ${s.name}`}
          >
            Delete
          </button>
        </div>
      ),
    },
  ];

  const act = async (s: ScheduleView, action: Action): Promise<void> => {
    setBusy(`${s.name}:${action}`);
    setError(null);
    setDone(null);
    try {
      if (action === 'run-now') {
        const r = await apiPost<{ runId: string; schedule: ScheduleView }>(apiPath('schedules', s.name, 'run-now'));
        setDone(
          <>
            Submitted run <RunLink runId={r.runId} /> for {s.name}.
          </>,
        );
      } else {
        await apiPost(apiPath('schedules', s.name, action));
        setDone(`${action === 'pause' ? 'Paused' : 'Resumed'} ${s.name}.`);
      }
      void list.reload();
    } catch (err) {
      setError(`${s.name}: ${errorText(err)}`);
    } finally {
      setBusy(null);
    }
  };

  const remove = async (): Promise<void> => {
    if (!deleting) return;
    setBusy(`${deleting.name}:delete`);
    setDeleteError(null);
    try {
      await apiDelete(apiPath('schedules', deleting.name));
      setDone(`Deleted the schedule ${deleting.name}.`);
      setDeleting(null);
      void list.reload();
    } catch (err) {
      setDeleteError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="page">
      <PageHeader title="Schedules" subtitle="Pipelines submitted at the fire times of a cron expression.">
        <RefreshButton onRefresh={list.reload} />
      </PageHeader>
      <Outcome error={error} done={done} onDismiss={() => {
          setError(null);
          setDone(null);
        }} />
      <Loaded state={list}>
        {() => (
          <DataTable
            rows={rows}
            columns={columns}
            rowKey={(s) => s.name}
            className="pg-table"
            initialSort={{ id: 'name', dir: 'asc' }}
            empty={
              <>
                No schedules. A pipeline file with a <code>schedule:</code> section registers one when it is submitted (<code>titan submit nightly.yaml</code>).
              </>
            }
          />
        )}
      </Loaded>
      {deleting ? (
        <ConfirmDialog
          title={`Delete the schedule ${deleting.name}?`}
          confirmLabel="Delete schedule"
          danger
          busy={busy !== null}
          error={deleteError}
          onConfirm={() => void remove()}
          onCancel={() => setDeleting(null)}
        >
          <p>
            No more runs of “{deleting.run.name}” are submitted at <code>{deleting.spec.cron}</code> ({deleting.spec.timezone}). Runs it already submitted are kept. To stop it
            for a while instead, pause it.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
