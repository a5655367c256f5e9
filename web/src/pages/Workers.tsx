/**
 * Workers: every worker the master knows, its state, capabilities, slots in use, the jobs and
 * services on it and when it was last heard from; drain one (it finishes what it runs and takes
 * nothing new) or shut it down (drain, then its process exits; a permanent worker needs a forced
 * shutdown, confirmed). Live: `workers` events carry the whole list; `jobs` and `stats` events
 * reload it (what runs where, last heartbeats).
 */
import { useId, useMemo, useState } from 'react';
import { apiPath, apiPost, useApi, useClusterEvents, type WorkerView } from '../api.ts';
import { JobRefLink } from '../components/links.tsx';
import { Ago, Empty, ErrorBox, Loading, Meter, PageHeader, errorText } from '../components/ui.tsx';
import { Outcome, StateBadge, plural, useLiveReload } from './parts/common.tsx';
import { ConfirmDialog } from './parts/confirm.tsx';
import { SortTh, useSort } from './parts/sort.tsx';
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
  const [pending, setPending] = useState<Pending | null>(null);
  const [forced, setForced] = useState(false);
  const [busy, setBusy] = useState(false);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [capability, setCapability] = useState('');
  const capId = useId();

  const all = list.data?.workers ?? [];
  const capabilities = useMemo(() => [...new Set(all.flatMap((w) => w.capabilities))].sort(), [all]);
  const rows = useMemo(() => (capability ? all.filter((w) => w.capabilities.includes(capability)) : all), [all, capability]);
  const sorter = useSort(
    rows,
    {
      id: (w) => w.id,
      state: (w) => STATE_ORDER[w.state],
      kind: (w) => (w.permanent ? 0 : 1),
      load: (w) => (w.slots > 0 ? w.running / w.slots : 0),
      connectedAt: (w) => w.connectedAt,
      lastSeen: (w) => w.lastSeen,
    },
    { key: 'state', dir: 'asc' },
  );
  const slots = rows.reduce((a, w) => a + (w.state === 'disconnected' ? 0 : w.slots), 0);
  const running = rows.reduce((a, w) => a + w.running, 0);

  const ask = (worker: WorkerView, action: Action): void => {
    if (action === 'undrain') return void undrain(worker);
    setDialogError(null);
    setForced(false);
    setPending({ worker, action });
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

  const confirm = async (): Promise<void> => {
    if (!pending) return;
    const { worker, action } = pending;
    setBusy(true);
    setDialogError(null);
    try {
      if (action === 'drain') {
        await apiPost(apiPath('workers', worker.id, 'drain'));
        setDone(`Draining ${worker.id}: it finishes what it runs and takes no new jobs.`);
      } else {
        await apiPost(apiPath('workers', worker.id, 'shutdown'), { force: worker.permanent });
        setDone(`Shutting down ${worker.id}: it drains, then its process exits.`);
      }
      setPending(null);
      void list.reload();
    } catch (err) {
      setDialogError(errorText(err));
    } finally {
      setBusy(false);
    }
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
          {all.length === 0 ? (
            <>
              No workers. Start one with <code>titan worker --master HOST:PORT</code>.
            </>
          ) : (
            'No worker has this capability.'
          )}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table pg-table pg-workers">
            <thead>
              <tr>
                <SortTh sorter={sorter} sortKey="id">
                  Worker
                </SortTh>
                <SortTh sorter={sorter} sortKey="state">
                  State
                </SortTh>
                <SortTh sorter={sorter} sortKey="kind">
                  Kind
                </SortTh>
                <th scope="col">Capabilities</th>
                <SortTh sorter={sorter} sortKey="load">
                  Slots busy
                </SortTh>
                <th scope="col">Running</th>
                <SortTh sorter={sorter} sortKey="connectedAt">
                  Connected
                </SortTh>
                <SortTh sorter={sorter} sortKey="lastSeen">
                  Last seen
                </SortTh>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {sorter.rows.map((w) => (
                <WorkerRow key={w.id} worker={w} onAction={ask} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pending ? (
        <ConfirmDialog
          title={pending.action === 'drain' ? `Drain ${pending.worker.id}?` : `Shut down ${pending.worker.id}?`}
          confirmLabel={pending.action === 'drain' ? 'Drain' : pending.worker.permanent ? 'Force shutdown' : 'Shut down'}
          danger={pending.action === 'shutdown'}
          busy={busy}
          confirmDisabled={pending.action === 'shutdown' && pending.worker.permanent && !forced}
          error={dialogError}
          onConfirm={() => void confirm()}
          onCancel={() => setPending(null)}
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

function WorkerRow({ worker: w, onAction }: { worker: WorkerView; onAction: (w: WorkerView, action: Action) => void }) {
  const gone = w.state === 'disconnected';
  // `attempts` holds every job on the worker, its services too: list those once, as services.
  const jobs = w.attempts.filter((a) => !w.services.some((s) => s.ref === a));
  return (
    <tr className={gone ? 'pg-dim' : undefined}>
      <th scope="row">
        <code>{w.id}</code>
        {w.version || w.pid !== undefined ? (
          <div className="muted small">
            {w.version ? `v${w.version}` : ''}
            {w.version && w.pid !== undefined ? ' · ' : ''}
            {w.pid !== undefined ? `pid ${w.pid}` : ''}
          </div>
        ) : null}
      </th>
      <td>
        {w.state === 'connected' ? (
          <StateBadge tone="completed" symbol="●">
            Connected
          </StateBadge>
        ) : w.state === 'draining' ? (
          <StateBadge tone="approval" symbol="◐" title="finishing its jobs, taking no new ones">
            Draining
          </StateBadge>
        ) : (
          <StateBadge tone="dead" symbol="○" title="its connection is gone; its jobs are held until it returns or is declared dead">
            Disconnected
          </StateBadge>
        )}
      </td>
      <td>
        {w.permanent ? 'permanent' : 'ephemeral'}
        {w.spawnedBy ? <div className="muted small">spawned by {w.spawnedBy}</div> : null}
      </td>
      <td>
        <ul className="chips" aria-label="Capabilities">
          {w.capabilities.map((c) => (
            <li key={c} className="chip">
              {c}
            </li>
          ))}
        </ul>
      </td>
      <td className="cell-meter">
        <Meter value={w.running} max={w.slots} label={`${w.id}: ${w.running} of ${w.slots} slots busy`} />
      </td>
      <td>
        {jobs.length === 0 && w.services.length === 0 ? (
          <span className="muted">idle</span>
        ) : (
          <details className="pg-details">
            <summary>
              {[jobs.length > 0 ? plural(jobs.length, 'job') : '', w.services.length > 0 ? plural(w.services.length, 'service') : ''].filter(Boolean).join(', ')}
            </summary>
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
        )}
      </td>
      <td>
        <Ago at={w.connectedAt} />
      </td>
      <td>
        <Ago at={w.lastSeen} />
      </td>
      <td>
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
      </td>
    </tr>
  );
}
