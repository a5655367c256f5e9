/**
 * Artifacts: files kept on the master (what jobs publish and the files a job leaves in its output
 * directory, under `runs/<runId>/<jobId>/<attempt>/<path>`). Filter by key prefix (browsable by
 * "/" segments) and by run; each row shows size, checksum, when and which attempt made it, and
 * a download link. The filters are in the URL (`?prefix=&runId=`), so the run page can link here.
 */
import { useEffect, useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { ID_PATTERN, ID_RULE_TEXT } from '../../../src/core/names.ts';
import { query, useApi, type ArtifactInfo } from '../api.ts';
import { type Column, DataTable } from '../components/DataTable.tsx';
import { RunLink, runUrl } from '../components/links.tsx';
import { Ago, PageHeader } from '../components/ui.tsx';
import { formatBytes } from '../format.ts';
import { Link, useSearchParam } from '../router.tsx';
import { keyPath, plural } from './parts/common.tsx';
import { crumbsOf, PrefixCrumbs } from './parts/crumbs.tsx';
import { LimitSelect, Loaded, RefreshButton } from './parts/list-parts.tsx';
import './pages.css';

interface ListAnswer {
  artifacts: ArtifactInfo[];
  truncated: boolean;
}

const LIMITS = [100, 500, 1000, 5000] as const;

const downloadUrl = (key: string): string => `/api/artifacts/download/${keyPath(key)}`;

/** The file name part of a key. */
const baseName = (key: string): string => key.slice(key.lastIndexOf('/') + 1);

export default function Artifacts() {
  const [prefixParam, setPrefix] = useSearchParam('prefix');
  const [runParam, setRun] = useSearchParam('runId');
  const [limit, setLimit] = useState<number>(500);
  const prefix = prefixParam ?? '';
  const runId = runParam ?? '';
  const list = useApi<ListAnswer>(`/api/artifacts${query({ prefix, runId, limit })}`);

  const rows = list.data?.artifacts ?? [];
  const totalBytes = useMemo(() => rows.reduce((a, r) => a + r.size, 0), [rows]);

  return (
    <div className="page">
      <PageHeader title="Artifacts" subtitle="Files kept on the master: what jobs publish, and the files they leave in their output directory.">
        <RefreshButton onRefresh={list.reload} />
      </PageHeader>
      <Filters
        prefix={prefix}
        runId={runId}
        limit={limit}
        onApply={(p, r) => {
          setPrefix(p || null, { push: true });
          setRun(r || null);
        }}
        onLimit={setLimit}
      />
      {prefix !== '' ? <PrefixCrumbs crumbs={crumbsOf(prefix, '/')} all="All artifacts" onBrowse={(p) => setPrefix(p || null, { push: true })} /> : null}
      <Loaded state={list}>
        {(data) => (
          <>
            {rows.length > 0 ? (
              <p className="muted small" aria-live="polite">
                {plural(rows.length, 'artifact')}, {formatBytes(totalBytes)}
                {data.truncated ? ` (the first ${limit}; narrow the filters or raise the limit to see more)` : ''}
              </p>
            ) : null}
            <ArtifactTable
              rows={rows}
              prefix={prefix}
              runFilter={runId}
              onBrowse={(p) => setPrefix(p || null, { push: true })}
              onRun={(r) => setRun(r, { push: true })}
              empty={
                prefix || runId ? (
                  'No artifact matches these filters.'
                ) : (
                  <>
                    No artifacts yet. Jobs publish them with the SDK, the files a job writes to its output directory are kept as artifacts, and{' '}
                    <code>titan artifacts put reports/summary.txt summary.txt</code> uploads one.
                  </>
                )
              }
            />
          </>
        )}
      </Loaded>
    </div>
  );
}

function Filters({ prefix, runId, limit, onApply, onLimit }: { prefix: string; runId: string; limit: number; onApply: (prefix: string, runId: string) => void; onLimit: (n: number) => void }) {
  const id = useId();
  const [p, setP] = useState(prefix);
  const [r, setR] = useState(runId);
  useEffect(() => setP(prefix), [prefix]);
  useEffect(() => setR(runId), [runId]);
  const runErr = r.trim() === '' || ID_PATTERN.test(r.trim()) ? null : `a run id ${ID_RULE_TEXT}`;
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!runErr) onApply(p.trim(), r.trim());
  };
  return (
    <form className="filters" onSubmit={submit} role="search" aria-label="Filter artifacts">
      <div className="field field-inline pg-grow">
        <label htmlFor={`${id}-prefix`}>Key prefix</label>
        <input id={`${id}-prefix`} type="text" value={p} onChange={(e) => setP(e.target.value)} placeholder="e.g. runs/ or reports/2024" spellCheck={false} autoComplete="off" />
      </div>
      <div className="field field-inline">
        <label htmlFor={`${id}-run`}>Run id</label>
        <input
          id={`${id}-run`}
          type="text"
          value={r}
          onChange={(e) => setR(e.target.value)}
          placeholder="any run"
          spellCheck={false}
          autoComplete="off"
          aria-invalid={runErr ? true : undefined}
          aria-describedby={runErr ? `${id}-run-err` : undefined}
        />
      </div>
      <LimitSelect id={`${id}-limit`} label="At most" value={limit} limits={LIMITS} option={String} onChange={onLimit} />
      <button type="submit" className="btn" disabled={runErr !== null}>
        Apply
      </button>
      {prefix || runId ? (
        <button type="button" className="btn btn-ghost" onClick={() => onApply('', '')}>
          Clear
        </button>
      ) : null}
      {runErr ? (
        <p id={`${id}-run-err`} className="pg-field-error small" role="alert">
          {runErr}
        </p>
      ) : null}
    </form>
  );
}

function ArtifactTable({
  rows,
  prefix,
  runFilter,
  onBrowse,
  onRun,
  empty,
}: {
  rows: ArtifactInfo[];
  prefix: string;
  runFilter: string;
  onBrowse: (p: string) => void;
  onRun: (runId: string) => void;
  empty: ReactNode;
}) {
  // The "folder" of a key under the current prefix, to browse into (only for keys deeper than it).
  const folderOf = (key: string): string | null => {
    const rest = key.slice(prefix.length);
    const slash = rest.lastIndexOf('/');
    return slash > 0 ? prefix + rest.slice(0, slash + 1) : null;
  };
  const columns: Column<ArtifactInfo>[] = [
    {
      id: 'key',
      header: 'Key',
      rowHeader: true,
      cellClassName: 'pg-wrap',
      sortValue: (a) => a.key,
      cell: (a) => {
        const folder = folderOf(a.key);
        return (
          <>
            {folder ? (
              <button type="button" className="link-button pg-folder" onClick={() => onBrowse(folder)} title={`Show only the artifacts under ${folder}`}>
                <code>{folder.slice(prefix.length)}</code>
              </button>
            ) : null}
            <code>{a.key.slice((folder ?? prefix).length)}</code>
          </>
        );
      },
    },
    { id: 'size', header: 'Size', className: 'pg-num', title: (a) => `${a.size} bytes`, sortValue: (a) => a.size, cell: (a) => formatBytes(a.size) },
    { id: 'createdAt', header: 'Created', sortValue: (a) => a.createdAt, cell: (a) => <Ago at={a.createdAt} /> },
    {
      id: 'run',
      header: 'Made by',
      sortValue: (a) => (a.runId ? `${a.runId}/${a.jobId ?? ''}/${String(a.attempt ?? 0).padStart(6, '0')}` : null),
      cell: (a) =>
        a.runId ? (
          <>
            <RunLink runId={a.runId} />
            {a.jobId ? (
              <>
                {' / '}
                <Link to={runUrl(a.runId, a.jobId)}>
                  <code>{a.jobId}</code>
                </Link>
              </>
            ) : null}
            {a.attempt !== null ? <span className="muted small"> (attempt {a.attempt})</span> : null}{' '}
            {runFilter === a.runId ? null : (
              <button
                type="button"
                className="btn btn-small btn-ghost pg-only"
                onClick={() => onRun(a.runId ?? '')}
                title={`Show only the artifacts of run ${a.runId}`}
                aria-label={`Show only the artifacts of run ${a.runId}`}
              >
                filter
              </button>
            )}
          </>
        ) : (
          <span className="muted">published directly</span>
        ),
    },
    {
      id: 'sha256',
      header: 'SHA-256',
      cell: (a) => (
        <code className="pg-hash" title={a.sha256}>
          {a.sha256.slice(0, 12)}…
        </code>
      ),
    },
    {
      id: 'download',
      header: 'Download',
      cell: (a) => (
        <a className="btn btn-small" href={downloadUrl(a.key)} download={baseName(a.key)} aria-label={`Download ${a.key}`}>
          Download
        </a>
      ),
    },
  ];
  return <DataTable rows={rows} columns={columns} rowKey={(a) => a.key} className="pg-table" initialSort={{ id: 'createdAt', dir: 'desc' }} empty={empty} />;
}
