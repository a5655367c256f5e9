/**
 * Workers: every worker the master knows, its state, capabilities, slots in use, the jobs and
 * services on it and when it was last heard from; drain one (it finishes what it runs and takes
 * nothing new) or shut it down (drain, then its process exits; a permanent worker needs a forced
 * shutdown, confirmed). Live: `workers` events carry the whole list; `jobs` and `stats` events
 * reload it (what runs where, last heartbeats).
 */
import { useId, useMemo, useState } from 'react';
import { apiPath, apiPost, useApi, useClusterEvents, type WorkerView } from '../api.ts';
import { type Column, DataTable } from '../components/DataTable.tsx';
import { JobRefLink } from '../components/links.tsx';
import { Ago, Meter, PageHeader, errorText } from '../components/ui.tsx';
import { STATE_ICONS } from '../icons.ts';
import { Chips, Outcome, StateBadge, plural, useLiveReload } from './parts/common.tsx';
import { ConfirmDialog } from './parts/confirm.tsx';
import { useConfirmation } from './parts/confirmation.ts';
import { Loaded, RefreshButton } from './parts/list-parts.tsx';
import './pages.css';

type Pending = { worker: WorkerView; action: 'drain' | 'shutdown' };
type Action = Pending['action'] | 'undrain';

const STATE_ORDER: Record<WorkerView['state'], number> = { connected: 0, draining: 1, disconnected: 2 };

export default function Workers() {
  const list = useApi<{ workers: WorkerView[] }>('/api/workers');
  const { setData } = list;
  useClusterEvents((event, data) => {
    if (event === 'workers') setData(data);
  });
  // `workers` events come on joins, leaves and drains; the jobs on each worker and its last
  // heartbeat change without one, so job changes and the periodic stats refresh the list too.
  useLiveReload(['jobs', 'stats'], list.reload, 2000);
  const confirmation = useConfirmation<Pending>(list.reload);
  const { pending, setDone } = confirmation;
  const [forced, setForced] = useState(false);
  const [capability, setCapability] = useState('');
  const capId = useId();

  const all = list.data?.workers ?? [];
  const capabilities = useMemo(() => [...new Set(all.flatMap((w) => w.capabilities))].sort(), [all]);
  const rows = useMemo(() => (capability ? all.filter((w) => w.capabilities.includes(capability)) : all), [all, capability]);
  const slots = rows.reduce((a, w) => a + (w.state === 'disconnected' ? 0 : w.slots), 0);
  const running = rows.reduce((a, w) => a + w.running, 0);

  const ask = (worker: WorkerView, action: Action): void => {
    if (action === 'undrain') return void undrain(worker);
    setForced(false);
    confirmation.ask({ worker, action });
  };

  // Undoing a drain takes nothing away, so it needs no confirmation.
  const undrain = async (worker: WorkerView): Promise<void> => {
    try {
      await apiPost(apiPath('workers', worker.id, 'undrain'));
      setDone(`${worker.id} takes new jobs again.`);
      void list.reload();
    } catch (err) {
      setDone(`Could not undrain ${worker.id}: ${errorText(err)}`);
    }
  };

  const act = async ({ worker, action }: Pending): Promise<string> => {
    if (action === 'drain') {
      await apiPost(apiPath('workers', worker.id, 'drain'));
      return `Draining ${worker.id}: it finishes what it runs and takes no new jobs.`;
    }
    await apiPost(apiPath('workers', worker.id, 'shutdown'), { force: worker.permanent });
    return `Shutting down ${worker.id}: it drains, then its process exits.`;
  };

  return (
    <div className="page">
      <PageHeader title="Workers" subtitle={list.data ? `${plural(rows.length, 'worker')}, ${running} of ${slots} slots busy` : undefined}>
        {capabilities.length > 1 ? (
          <div className="field field-inline">
            <label htmlFor={capId}>Capability</label>
            <select id={capId} value={capability} onChange={(e) => setCapability(e.target.value)}>
              <option value="">all</option>
              {capabilities.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <RefreshButton onRefresh={list.reload} />
      </PageHeader>
      <Outcome done={confirmation.done} onDismiss={() => setDone(null)} />
      <Loaded state={list}>
        {() => (
          <DataTable
            rows={rows}
            columns={workerColumns(ask)}
            rowKey={(w) => w.id}
            className="pg-table pg-workers"
            initialSort={{ id: 'state', dir: 'asc' }}
            rowProps={(w) => ({ className: w.state === 'disconnected' ? 'pg-dim' : undefined })}
            empty={
              all.length === 0 ? (
                <>
                  No workers. Start one with <code>titan worker --master master-host:9090</code>.
                </>
              ) : (
                'No worker has this capability.'
              )
            }
          />
        )}
      </Loaded>
      {pending ? (
        <ConfirmDialog
          title={pending.action === 'drain' ? `Drain ${pending.worker.id}?` : `Shut down ${pending.worker.id}?`}
          confirmLabel={pending.action === 'drain' ? 'Drain' : pending.worker.permanent ? 'Force shutdown' : 'Shut down'}
          danger={pending.action === 'shutdown'}
          busy={confirmation.busy}
          confirmDisabled={pending.action === 'shutdown' && pending.worker.permanent && !forced}
          error={confirmation.error}
          onConfirm={() => void confirmation.confirm(act)}
          onCancel={confirmation.cancel}
        >
          {pending.action === 'drain' ? (
            <p>
              The worker finishes the {plural(pending.worker.running, 'job')} it runs and takes no new ones. It stays connected; shut it down to stop its process.
            </p>
          ) : (
            <>
              <p>
                The worker drains (it finishes the {plural(pending.worker.running, 'job')} it runs and takes no new ones), then its process exits.
                {pending.worker.services.length > 0 ? ` It also runs ${plural(pending.worker.services.length, 'service')}.` : ''}
              </p>
              {pending.worker.permanent ? (
                <label className="check pg-confirm-check">
                  <input type="checkbox" checked={forced} onChange={(e) => setForced(e.target.checked)} />
                  This is a permanent worker: nothing restarts it. Shut it down anyway.
                </label>
              ) : (
                <p className="muted small">An ephemeral worker: the autoscaler starts new ones when they are needed.</p>
              )}
            </>
          )}
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** The jobs on the worker that are not its services (`attempts` holds both: list services once, as services). */
const jobsOf = (w: WorkerView): string[] => w.attempts.filter((a) => !w.services.some((s) => s.ref === a));

function workerColumns(onAction: (w: WorkerView, action: Action) => void): Column<WorkerView>[] {
  return [
    {
      id: 'id',
      header: 'Worker',
      rowHeader: true,
      sortValue: (w) => w.id,
      cell: (w) => (
        <>
          <code>{w.id}</code>
          {w.version || w.pid !== undefined ? (
            <div className="muted small">
              {w.version ? `v${w.version}` : ''}
              {w.version && w.pid !== undefined ? ' · ' : ''}
              {w.pid !== undefined ? `pid ${w.pid}` : ''}
            </div>
          ) : null}
        </>
      ),
    },
    {
      id: 'state',
      header: 'State',
      sortValue: (w) => STATE_ORDER[w.state],
      cell: (w) =>
        w.state === 'connected' ? (
          <StateBadge tone="completed" icon={STATE_ICONS.workerConnected}>
            Connected
          </StateBadge>
        ) : w.state === 'draining' ? (
          <StateBadge tone="approval" icon={STATE_ICONS.workerDraining} title="finishing its jobs, taking no new ones">
            Draining
          </StateBadge>
        ) : (
          <StateBadge tone="dead" icon={STATE_ICONS.workerDisconnected} title="its connection is gone; its jobs are held until it returns or is declared dead">
            Disconnected
          </StateBadge>
        ),
    },
    {
      id: 'kind',
      header: 'Kind',
      sortValue: (w) => (w.permanent ? 0 : 1),
      cell: (w) => (
        <>
          {w.permanent ? 'permanent' : 'ephemeral'}
          {w.spawnedBy ? <div className="muted small">spawned by {w.spawnedBy}</div> : null}
        </>
      ),
    },
    {
      id: 'capabilities',
      header: 'Capabilities',
      cell: (w) => <Chips label="Capabilities" items={w.capabilities} />,
    },
    {
      id: 'load',
      header: 'Slots busy',
      cellClassName: 'cell-meter',
      sortValue: (w) => (w.slots > 0 ? w.running / w.slots : 0),
      cell: (w) => <Meter value={w.running} max={w.slots} label={`${w.id}: ${w.running} of ${w.slots} slots busy`} />,
    },
    {
      id: 'running',
      header: 'Running',
      cell: (w) => {
        const jobs = jobsOf(w);
        return jobs.length === 0 && w.services.length === 0 ? (
          <span className="muted">idle</span>
        ) : (
          <details className="pg-details">
            <summary>{[jobs.length > 0 ? plural(jobs.length, 'job') : '', w.services.length > 0 ? plural(w.services.length, 'service') : ''].filter(Boolean).join(', ')}</summary>
            <ul className="pg-plain-list">
              {w.services.map((s) => (
                <li key={`s:${s.ref}`}>
                  <JobRefLink jobRef={s.ref} /> <span className="muted small">service{s.port !== null ? `, port ${s.port}` : ''}</span>
                </li>
              ))}
              {jobs.map((a) => (
                <li key={`a:${a}`}>
                  <JobRefLink jobRef={a} />
                </li>
              ))}
            </ul>
          </details>
        );
      },
    },
    { id: 'connectedAt', header: 'Connected', sortValue: (w) => w.connectedAt, cell: (w) => <Ago at={w.connectedAt} /> },
    { id: 'lastSeen', header: 'Last seen', sortValue: (w) => w.lastSeen, cell: (w) => <Ago at={w.lastSeen} /> },
    {
      id: 'actions',
      header: 'Actions',
      cell: (w) => {
        const gone = w.state === 'disconnected';
        return (
          <div className="pg-actions">
            {w.state === 'draining' && !w.exiting ? (
              <button type="button" className="btn btn-small" onClick={() => onAction(w, 'undrain')} aria-label={`Undrain ${w.id}`}>
                Undrain
              </button>
            ) : (
              <button type="button" className="btn btn-small" disabled={gone || w.state === 'draining'} onClick={() => onAction(w, 'drain')} aria-label={`Drain ${w.id}`}>
                Drain
              </button>
            )}
            <button type="button" className="btn btn-small btn-bad-outline" disabled={gone} onClick={() => onAction(w, 'shutdown')} aria-label={`Shut down ${w.id}`}>
              Shut down
            </button>
          </div>
        );
      },
    },
  ];
}
