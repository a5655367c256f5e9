/** The cluster at a glance: totals, job counts, pools, the last hour in charts, and every worker. */
import type { ReactNode } from 'react';
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { type MetricsSample, type Stats, useApi, useClusterEvents, usePolling, type WorkerView } from '../api.ts';
import { Ago, Empty, JobStatusBadge, Meter, PageHeader } from '../components/ui.tsx';
import { formatClock, formatDuration, formatTime } from '../format.ts';
import { JobRefLink } from '../components/links.tsx';
import { Link } from '../router.tsx';
import { JOB_STATUS_ORDER } from '../status.ts';
import { Chips } from './parts/common.tsx';
import { Loaded } from './parts/list-parts.tsx';

export default function Overview() {
  const stats = useApi<Stats>('/api/stats');
  const workers = useApi<{ workers: WorkerView[] }>('/api/workers');
  const history = usePolling<{ samples: MetricsSample[] }>('/api/metrics/history', 10_000);

  useClusterEvents((event, data) => {
    if (event === 'stats') stats.setData(data);
    else if (event === 'workers') workers.setData(data);
  });

  return (
    <div className="page">
      <PageHeader title="Overview" subtitle={stats.data ? `Master up ${formatDuration(stats.data.uptimeMs)}` : undefined} />
      <Loaded state={stats}>{(data) => <Summary stats={data} />}</Loaded>
      <section aria-labelledby="charts-title" className="section">
        <h2 id="charts-title">Last hour</h2>
        <Loaded state={history}>{(data) => <Charts samples={data.samples} />}</Loaded>
      </section>
      {stats.data && <Pools stats={stats.data} />}
      <section aria-labelledby="workers-title" className="section">
        <div className="section-head">
          <h2 id="workers-title">Workers</h2>
          <Link to="/workers" className="section-link">
            Manage workers
          </Link>
        </div>
        <Loaded state={workers}>{(data) => <WorkerCards workers={data.workers} />}</Loaded>
      </section>
    </div>
  );
}

function Summary({ stats }: { stats: Stats }) {
  const queued = Object.values(stats.queuedByCapability).reduce((a, b) => a + b, 0);
  const tiles: { label: string; value: string; hint?: string }[] = [
    { label: 'Workers', value: `${stats.workers.connected}/${stats.workers.total}`, hint: 'connected / known' },
    { label: 'Busy slots', value: `${stats.workers.busySlots}/${stats.workers.slots}` },
    { label: 'Active runs', value: String(stats.runs.active) },
    { label: 'Queued jobs', value: String(queued) },
    { label: 'Completed', value: String(stats.totals.completed), hint: 'jobs, all time' },
    { label: 'Dead', value: String(stats.totals.dead), hint: 'jobs, all time' },
  ];
  const counts = JOB_STATUS_ORDER.filter((s) => (stats.jobs[s] ?? 0) > 0);
  return (
    <>
      <ul className="tiles" aria-label="Cluster totals">
        {tiles.map((t) => (
          <li key={t.label} className="tile">
            <span className="tile-value">{t.value}</span>
            <span className="tile-label">{t.label}</span>
            {t.hint && <span className="tile-hint">{t.hint}</span>}
          </li>
        ))}
      </ul>
      <section aria-labelledby="jobs-title" className="section">
        <h2 id="jobs-title">Jobs in active runs</h2>
        {counts.length === 0 ? (
          <Empty>
            No active runs. Start one with <code>titan run hello.py</code>.
          </Empty>
        ) : (
          <ul className="status-counts">
            {counts.map((s) => (
              <li key={s}>
                <JobStatusBadge status={s} /> <strong>{stats.jobs[s]}</strong>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

function Pools({ stats }: { stats: Stats }) {
  const pools = Object.entries(stats.pools).sort(([a], [b]) => a.localeCompare(b));
  const scaler = stats.autoscaler;
  return (
    <section aria-labelledby="pools-title" className="section">
      <h2 id="pools-title">Pools</h2>
      {pools.length === 0 ? (
        <Empty>
          No worker has connected yet. Start one with <code>titan worker --master master-host:9090</code>.
        </Empty>
      ) : (
        <div className="table-wrap table-cards">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Capability</th>
                <th scope="col">Workers</th>
                <th scope="col">Saturation (busy/slots)</th>
                <th scope="col">Queued</th>
                <th scope="col">Services</th>
                {scaler.enabled && <th scope="col">Desired workers</th>}
              </tr>
            </thead>
            <tbody>
              {pools.map(([name, p]) => (
                <tr key={name}>
                  <th scope="row" data-label="Capability">
                    <code>{name}</code>
                  </th>
                  <td data-label="Workers">{p.workers}</td>
                  <td className="cell-meter" data-label="Saturation">
                    <Meter value={p.busySlots} max={p.slots} label={`${name}: ${p.busySlots} of ${p.slots} slots busy`} />
                  </td>
                  <td data-label="Queued">{p.queued > 0 && p.busySlots >= p.slots ? <strong className="text-warn">{p.queued}</strong> : p.queued}</td>
                  <td data-label="Services">{p.services}</td>
                  {scaler.enabled && <td data-label="Desired workers">{scaler.desired[name] ?? '—'}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {scaler.enabled && (
        <p className="muted small">
          Autoscaler on: {scaler.pending} worker{scaler.pending === 1 ? '' : 's'} starting.
          {scaler.events.length > 0 && <> Last decision: {scaler.events[scaler.events.length - 1]?.reason}</>}
        </p>
      )}
    </section>
  );
}

function Charts({ samples: rows }: { samples: MetricsSample[] }) {
  if (rows.length < 2) return <Empty>Collecting samples; the charts fill in over the next minute.</Empty>;
  const totalDone = rows.reduce((a, r) => a + r.completed, 0);
  const totalDead = rows.reduce((a, r) => a + r.dead, 0);
  const last = rows[rows.length - 1] as MetricsSample;
  const maxQueued = rows.reduce((a, r) => Math.max(a, r.queued), 0);
  const short = last.at - (rows[0] as MetricsSample).at < 15 * 60_000;
  const chart = { rows, short };
  return (
    <div className="charts">
      <ChartFigure {...chart} label={`Throughput: ${totalDone} jobs completed and ${totalDead} dead in the last hour`} title="Throughput" note={`jobs finished per ${formatDuration(periodOf(rows))}`} bars legend>
        <Bar dataKey="completed" name="completed" stackId="f" fill="var(--st-completed)" isAnimationActive={false} />
        <Bar dataKey="dead" name="dead" stackId="f" fill="var(--st-dead)" isAnimationActive={false} />
      </ChartFigure>
      <ChartFigure {...chart} label={`Queue depth: ${last.queued} queued now, at most ${maxQueued} in the last hour`} title="Queue depth" note="jobs waiting for a slot">
        <Area type="monotone" dataKey="queued" name="queued" stroke="var(--st-queued)" fill="var(--st-queued)" fillOpacity={0.25} isAnimationActive={false} />
      </ChartFigure>
      <ChartFigure {...chart} label={`Worker load: ${last.busySlots} of ${last.slots} slots busy now`} title="Worker load" note="busy slots of all slots" legend>
        <Area type="stepAfter" dataKey="busySlots" name="busy slots" stroke="var(--st-running)" fill="var(--st-running)" fillOpacity={0.3} isAnimationActive={false} />
        <Line type="stepAfter" dataKey="slots" name="slots" stroke="var(--muted)" strokeDasharray="4 3" dot={false} isAnimationActive={false} />
      </ChartFigure>
    </div>
  );
}

/** The sampling period (the master's --metrics-sample): the shortest of the latest gaps (a restart leaves a longer one). */
function periodOf(rows: readonly MetricsSample[]): number {
  const last = rows.slice(-5);
  const gaps = last.slice(1).map((r, i) => r.at - (last[i] as MetricsSample).at);
  return gaps.length > 0 ? Math.max(100, Math.round(Math.min(...gaps) / 100) * 100) : 10_000;
}

const TOOLTIP_STYLE = { background: 'var(--surface)', border: '1px solid var(--border)', color: 'var(--text)' };

/** One chart of the last hour over time: its caption, grid, axes and tooltip; `children` are its series. */
function ChartFigure({ rows, short, label, title, note, bars, legend, children }: { rows: MetricsSample[]; short: boolean; label: string; title: string; note: string; bars?: boolean; legend?: boolean; children: ReactNode }) {
  const Chart = bars ? BarChart : AreaChart;
  return (
    <figure className="chart" aria-label={label}>
      <figcaption>
        {title} <span className="muted">({note})</span>
      </figcaption>
      <ResponsiveContainer width="100%" height={180}>
        <Chart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" vertical={false} />
          <XAxis dataKey="at" type="number" domain={['dataMin', 'dataMax']} tickFormatter={(v: number) => formatClock(v, short)} stroke="var(--muted)" fontSize={12} minTickGap={40} />
          <YAxis allowDecimals={false} stroke="var(--muted)" fontSize={12} />
          <Tooltip labelFormatter={(v: unknown) => formatTime(Number(v))} contentStyle={TOOLTIP_STYLE} />
          {legend && <Legend wrapperStyle={{ fontSize: 12 }} />}
          {children}
        </Chart>
      </ResponsiveContainer>
    </figure>
  );
}

/** The worker's jobs that are not services: `attempts` holds every job on it, services too. */
function jobsOf(w: WorkerView): string[] {
  return w.attempts.filter((a) => !w.services.some((s) => s.ref === a));
}

function WorkerCards({ workers }: { workers: WorkerView[] }) {
  if (workers.length === 0) return <Empty>No workers. Start one with <code>titan worker --master master-host:9090</code>.</Empty>;
  const sorted = [...workers].sort((a, b) => (a.state === b.state ? a.id.localeCompare(b.id) : a.state === 'connected' ? -1 : b.state === 'connected' ? 1 : a.state.localeCompare(b.state)));
  return (
    <ul className="cards">
      {sorted.map((w) => (
        <li key={w.id} className={`card worker-card worker-${w.state}`}>
          <div className="card-head">
            <h3 className="card-title">
              <code>
                {w.host}:{w.port}
              </code>
            </h3>
            <span className={`pill state-${w.state}`}>{w.state}</span>
          </div>
          <div className="card-meta">
            <span className="pill">{w.permanent ? 'permanent' : 'ephemeral'}</span>
            {w.spawnedBy && <span className="muted small">spawned by {w.spawnedBy}</span>}
          </div>
          <Chips label="Capabilities" items={w.capabilities} />
          <Meter value={w.running} max={w.slots} label={`${w.running} of ${w.slots} slots busy`} />
          {jobsOf(w).length > 0 && (
            <details className="card-list">
              <summary>
                {jobsOf(w).length} job{jobsOf(w).length === 1 ? '' : 's'} running
              </summary>
              <ul>
                {jobsOf(w).map((a) => (
                  <li key={a}>
                    <JobRefLink jobRef={a} />
                  </li>
                ))}
              </ul>
            </details>
          )}
          {w.services.length > 0 && (
            <div className="card-list">
              <span className="small muted">Services:</span>
              <ul>
                {w.services.map((s) => (
                  <li key={s.ref}>
                    <JobRefLink jobRef={s.ref} /> {s.port !== null && <span className="muted">:{s.port}</span>}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <p className="small muted card-foot">
            Last heartbeat <Ago at={w.lastSeen} />
          </p>
        </li>
      ))}
    </ul>
  );
}
