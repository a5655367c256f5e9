/**
 * Agent runs: the runs an agent submitted under one agent-run id, as stages. Without an id, the
 * latest agent runs; with `/agent-runs/:id`, that agent run as a timeline of its stages (status,
 * jobs, when and how long, the wait before the next stage; opened, its rounds and outputs), each
 * linking to its run page. Live: reloads on `run` events of agent runs and on `jobs` events of the
 * shown stages.
 */
import { useState } from 'react';
import { apiPath, query, useApi, type AgentRunSummary, type AgentRunView, type JobStatus, type RunSummary } from '../api.ts';
import { type Column, DataTable } from '../components/DataTable.tsx';
import { RunLink, runUrl } from '../components/links.tsx';
import { Ago, Empty, PageHeader, RunStatusBadge, useNow } from '../components/ui.tsx';
import { formatDuration, formatTime } from '../format.ts';
import { ACTION_ICONS, Icon } from '../icons.ts';
import { Link, useRoute } from '../router.tsx';
import { JOB_STATUS_ORDER, jobStatusInfo } from '../status.ts';
import { Chips, plural, useLiveReload } from './parts/common.tsx';
import { LimitSelect, Loaded, RefreshButton } from './parts/list-parts.tsx';
import { StageDetails } from './agent/StageDetails.tsx';
import './pages.css';

const LIMITS = [20, 50, 200, 1000] as const;

export default function AgentRuns({ id: idProp }: { id?: string } = {}) {
  const route = useRoute();
  const id = idProp ?? route.params.id;
  return id ? <AgentRunDetail key={id} id={id} /> : <AgentRunList />;
}

const agentRunUrl = (a: AgentRunSummary): string => `/agent-runs/${encodeURIComponent(a.agentRunId)}`;

const COLUMNS: Column<AgentRunSummary>[] = [
  {
    id: 'id',
    header: 'Agent run',
    rowHeader: true,
    sortValue: (a) => a.agentRunId,
    cell: (a) => (
      <Link to={agentRunUrl(a)}>
        <code>{a.agentRunId}</code>
      </Link>
    ),
  },
  { id: 'runs', header: 'Stages', className: 'pg-num', sortValue: (a) => a.runs, cell: (a) => a.runs },
  { id: 'active', header: 'Active', className: 'pg-num', sortValue: (a) => a.active, cell: (a) => (a.active > 0 ? <strong className="pg-active">{a.active} active</strong> : <span className="muted">0</span>) },
  { id: 'firstAt', header: 'Started', sortValue: (a) => a.firstAt, cell: (a) => <Ago at={a.firstAt} /> },
  { id: 'lastAt', header: 'Latest stage', sortValue: (a) => a.lastAt, cell: (a) => <Ago at={a.lastAt} /> },
  {
    id: 'span',
    header: 'Span',
    title: () => "from the first stage's start to the latest stage's start",
    sortValue: (a) => a.lastAt - a.firstAt,
    cell: (a) => (a.runs > 1 ? formatDuration(a.lastAt - a.firstAt) : <span className="muted">—</span>),
  },
];

function AgentRunList() {
  const [limit, setLimit] = useState<number>(50);
  const list = useApi<{ agentRuns: AgentRunSummary[] }>(`/api/agent-runs${query({ limit })}`);
  useLiveReload((event, data) => event === 'run' && data.run.agentRunId !== null, list.reload);
  const rows = list.data?.agentRuns ?? [];

  return (
    <div className="page">
      <PageHeader title="Agent runs" subtitle="Runs an agent submitted under one agent-run id, each run a stage.">
        <LimitSelect id="agent-runs-limit" label="Show" value={limit} limits={LIMITS} option={(n) => `latest ${n}`} onChange={setLimit} />
        <RefreshButton onRefresh={list.reload} />
      </PageHeader>
      <Loaded state={list}>
        {() => (
          <DataTable
            rows={rows}
            columns={COLUMNS}
            rowKey={(a) => a.agentRunId}
            rowLink={agentRunUrl}
            className="pg-table"
            initialSort={{ id: 'lastAt', dir: 'desc' }}
            empty={
              <>
                No agent runs yet. A run joins an agent run when it is submitted with an agent-run id (<code>agentRunId</code> in the SDK, <code>titan submit pipeline.yaml --agent-run ID</code> on the command line).
              </>
            }
          />
        )}
      </Loaded>
    </div>
  );
}

function AgentRunDetail({ id }: { id: string }) {
  const view = useApi<AgentRunView>(apiPath('agent-runs', id));
  const stages = view.data?.stages ?? [];
  useLiveReload((event, data) => {
    if (event === 'run') return data.run.agentRunId === id;
    if (event === 'jobs') return stages.some((s) => s.runId === data.runId);
    return false;
  }, view.reload);
  const active = stages.filter((s) => s.status === 'RUNNING').length;
  const first = stages[0];
  const last = stages[stages.length - 1];

  return (
    <div className="page">
      <p className="pg-back">
        <Link to="/agent-runs">
          <Icon icon={ACTION_ICONS.back} /> All agent runs
        </Link>
      </p>
      <PageHeader
        title={
          <>
            Agent run <code>{id}</code>
          </>
        }
        subtitle={
          view.data && first && last ? (
            <>
              {plural(stages.length, 'stage')}
              {active > 0 ? `, ${active} active` : ''} · started <Ago at={first.createdAt} />
              {last.finishedAt !== null && active === 0 ? <> · finished <Ago at={last.finishedAt} /></> : null}
            </>
          ) : undefined
        }
      >
        <RefreshButton onRefresh={view.reload} />
      </PageHeader>
      <Loaded state={view}>
        {() =>
          stages.length === 0 ? (
            <Empty>This agent run has no stages.</Empty>
          ) : (
            <ol className="pg-timeline" aria-label={`Stages of agent run ${id}`}>
              {stages.map((s, i) => (
                <Stage key={s.runId} stage={s} index={i} previous={stages[i - 1]} />
              ))}
            </ol>
          )
        }
      </Loaded>
    </div>
  );
}

function Stage({ stage, index, previous }: { stage: RunSummary; index: number; previous: RunSummary | undefined }) {
  const now = useNow(stage.finishedAt === null ? 1000 : 60_000);
  const running = stage.finishedAt === null;
  const took = (stage.finishedAt ?? now) - stage.createdAt;
  // The pause between stages: from the previous stage's end (or start, while it ran) to this start.
  const gapFrom = previous ? (previous.finishedAt ?? previous.createdAt) : null;
  const gap = gapFrom !== null ? stage.createdAt - gapFrom : null;
  const tone = { RUNNING: 'running', COMPLETED: 'completed', FAILED: 'dead', CANCELLED: 'cancelled' }[stage.status] ?? 'pending';

  return (
    <li className={`pg-stage pg-stage-${tone}`}>
      {gap !== null && gap > 0 ? (
        <p className="pg-gap muted small">
          {previous?.finishedAt !== null ? `${formatDuration(gap)} after the previous stage ended` : `${formatDuration(gap)} after the previous stage started`}
        </p>
      ) : null}
      <div className="pg-stage-body">
        <span className={`pg-stage-dot tone-${tone}`} aria-hidden="true">
          {index + 1}
        </span>
        <div className="pg-stage-main">
          <div className="pg-stage-head">
            <h2 className="pg-stage-title">
              <span className="visually-hidden">Stage {index + 1}: </span>
              <RunLink runId={stage.runId}>{stage.name}</RunLink>
            </h2>
            <RunStatusBadge status={stage.status} />
          </div>
          <p className="pg-stage-meta muted small">
            <Link to={runUrl(stage.runId)}>
              <code>{stage.runId}</code>
            </Link>
            {' · started '}
            <time dateTime={new Date(stage.createdAt).toISOString()} title={formatTime(stage.createdAt)}>
              {formatTime(stage.createdAt)}
            </time>
            {' · '}
            {running ? `running for ${formatDuration(took)}` : `took ${formatDuration(took)}`}
          </p>
          <JobCounts stage={stage} />
          {stage.tags.length > 0 ? (
            <Chips label="Tags" items={stage.tags} />
          ) : null}
          <StageDetails runId={stage.runId} />
        </div>
      </div>
    </li>
  );
}

/** The stage's jobs by status: a stacked bar (the core's count bar) and the same counts as text. */
function JobCounts({ stage }: { stage: RunSummary }) {
  const present = JOB_STATUS_ORDER.filter((s: JobStatus) => (stage.counts[s] ?? 0) > 0);
  if (stage.total === 0) return null;
  return (
    <div className="pg-counts">
      <div className="counts-bar" aria-hidden="true">
        {present.map((s) => (
          <span key={s} className={`counts-seg tone-bg-${jobStatusInfo(s).tone}`} style={{ width: `${((stage.counts[s] ?? 0) / stage.total) * 100}%` }} />
        ))}
      </div>
      <p className="small pg-counts-text">
        {plural(stage.total, 'job')}:{' '}
        {present.map((s, i) => (
          <span key={s}>
            {i > 0 ? ', ' : ''}
            {stage.counts[s]} {jobStatusInfo(s).label.toLowerCase()}
          </span>
        ))}
      </p>
    </div>
  );
}
